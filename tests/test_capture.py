"""Include lists as Debezium reads them, against a model: entries drawn with commas,
escaped commas and spaces split back exactly; each entry matches whole, ignoring case;
risky patterns are compiled with a timeout; what cannot be read claims nothing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamkap_config.core.capture import (
    INCLUDE_KEYS,
    IncludeList,
    _risky,
    captured_by,
    compile_entry,
    parse_include_list,
    split_list,
)

# Entries of letters, dots and escaped commas (as a user writes "a\,b").
ATOMS = st.sampled_from(["a", "B", "x1", ".", "_", "\\,", "\\.", "\\d"])
ENTRY = st.lists(ATOMS, min_size=1, max_size=5).map("".join)


def _sre(entry: str):
    try:
        import re._parser as parser  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        import sre_parse as parser
    return parser.parse(entry)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(ENTRY, max_size=5),
    st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=12, max_size=12),
)
def test_an_include_list_splits_back_into_its_entries(entries, spaces):
    text = ",".join(f"{spaces[n % 12]}{e}{spaces[(n + 5) % 12]}" for n, e in enumerate(entries))
    # An escaped comma is a comma in the entry; every other escape is kept as written.
    assert split_list(text) == [e.replace("\\,", ",") for e in entries]


def test_split_list_edge_cases():
    assert split_list("") == [] and split_list(" , ,") == []
    assert split_list("a\\") == ["a\\"]  # a trailing backslash is kept
    assert split_list("a\\\\,b") == ["a\\\\", "b"]  # an escaped backslash does not escape
    assert split_list("a\\,b, c") == ["a,b", "c"]
    assert split_list(" a b ,c") == ["a b", "c"]


@pytest.mark.parametrize(
    ("pattern", "risky"),
    [
        ("(a+)+b", True),
        ("(a*)*", True),
        ("(a|aa)*", True),
        ("(?:xy|y)+z", True),
        ("(?:x|y)+z", False),  # one character of two: a class, not alternatives
        ("(?=(a+)+)b", True),
        ("a+b+", False),
        ("(ab)+", False),
        ("a|b", False),
        ("(a?)+", False),  # a repeat of at most one inside: bounded
        ("(a{1,1})+", False),
        ("public\\.orders_\\d+", False),
        ("(?!x)a*", False),
        ("(a+){2}", True),
        ("ab|cd", False),  # alternatives outside any repeat
        ("ab|(a+)+", True),  # a risky branch
        ("(?!(a+)+)b", True),
        ("(?=(a+)+)b", True),
        ("(?:(?=a+)b)+", True),  # a repeat inside a lookahead inside a repeat
        ("(?:(?!a+)b)+", True),
        ("(?!a)b", False),
    ],
)
def test_risky_shapes_are_told_apart(pattern, risky):
    assert _risky(_sre(pattern)) is risky


def test_a_risky_pattern_is_compiled_with_a_timeout_and_a_safe_one_by_re():
    safe, why = compile_entry("public\\.orders")
    assert why is None and isinstance(safe, re.Pattern) and safe.flags & re.IGNORECASE
    risky, why = compile_entry("(a+)+b")
    assert why is None and not isinstance(risky, re.Pattern)
    assert risky.fullmatch("AAb") is not None  # ignoring case too


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("a[", "unterminated character set"),
        ("a{99999999999}", "a repeat count is too large"),
        ("(?:" * 5000 + "a" + ")" * 5000, "nested too deeply"),
    ],
)
def test_an_entry_that_is_no_regex_says_why(entry, why):
    pattern, reason = compile_entry(entry)
    assert pattern is None and reason is not None and why in reason
    if not why.startswith("unterminated"):
        assert reason == why


def test_matching_is_whole_and_ignores_case():
    listed = IncludeList.parse(r"public\.orders, public\.cust.*, x[")
    assert listed.entries == ("public\\.orders", "public\\.cust.*", "x[")
    assert listed.errors and listed.errors[0][0] == "x[" and not listed.checkable
    assert listed.matches("PUBLIC.ORDERS") and listed.matches("public.customers")
    assert not listed.matches("public.orders2") and not listed.matches("xpublic.orders")
    assert listed.match("nope") is False
    after = IncludeList.parse("x[, a")  # an unreadable entry does not hide the next one
    assert after.match("a") is True and after.match("x") is False
    assert IncludeList.parse("a").checkable and IncludeList.parse("a").key == "table.include.list"
    assert IncludeList.parse("a", "topic.include.list").key == "topic.include.list"


def test_a_pattern_that_runs_out_of_time_is_unsure_and_not_run_again():
    listed = IncludeList.parse("(a|aa)+b, c")
    text = "a" * 60
    assert listed.match(text) is None and 0 in listed._slow
    assert listed.match(text) is None  # not run again: still unsure
    assert listed.match("c") is True and listed.matches("C")
    assert listed.match("aab") is None  # the slow one is skipped, even where it would match
    assert IncludeList.parse("(a|aa)+b").match("aab") is True


def test_the_include_list_of_a_source():
    config = {"table.include.list.user.defined": r"public\.orders", "topic.include.list": "t"}
    found = captured_by("postgresql", config)
    assert found is not None
    listed, prefix = found
    assert listed.key == "table.include.list.user.defined" and prefix == ""
    assert captured_by("dynamodb", {"table.include.list": "orders"})[1] == "default."
    assert captured_by("postgresql", {}) is None
    assert captured_by("postgresql", {"table.include.list": "  "}) is None
    assert captured_by("postgresql", {"table.include.list": 5}) is None
    assert captured_by("postgresql", {"table.include.list": "a["}) is None  # unreadable
    for base in INCLUDE_KEYS:  # each key, in order, with or without the suffix
        assert captured_by("x", {base: "a"})[0].key == base
        assert captured_by("x", {base + ".user.defined": "a"})[0].key == base + ".user.defined"
    first = captured_by("x", {"collection.include.list": "c", "topic.include.list": "t"})
    assert first[0].key == "collection.include.list"


def test_a_list_is_compiled_once():
    parse_include_list.cache_clear()
    assert parse_include_list("a, b", "k") is parse_include_list("a, b", "k")
    assert parse_include_list("a, b", "k").entries == ("a", "b")
