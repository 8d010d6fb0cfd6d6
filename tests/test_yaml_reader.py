"""The YAML reader word for word: every scalar rule with its note, every refused tag and
shape with its message, position and hint, the limits, duplicates after merge keys, and
the exact positions of keys and values."""

from __future__ import annotations

import math
from typing import Any

import pytest

from streamkap_config.loaders.common import Limits, ParseError
from streamkap_config.loaders.yaml_reader import read_yaml

OCTAL = "(YAML 1.1 reads it as an octal number); quote it to be clear"
BOOLEAN = "(YAML 1.1 reads it as a boolean); write true or false for a boolean"


def read(text: str, **limits: Any) -> list[tuple[Any, dict[Any, str]]]:
    return [(data, dict(p.notes)) for data, p, _ in read_yaml(text, Limits(**limits))]


def refused(text: str, **limits: Any) -> tuple[str, int, int, str | None]:
    with pytest.raises(ParseError) as caught:
        read(text, **limits)
    e = caught.value
    return e.message, e.line, e.column, e.hint


@pytest.mark.parametrize(
    ("word", "value", "note"),
    [
        ("~", None, None),
        ("", None, None),
        ("Null", None, None),
        ("TRUE", True, None),
        ("False", False, None),
        ("+12", 12, None),
        ("-0", 0, None),
        ("0o17", 15, None),
        ("0x1f", 31, None),
        ("0xZZ", "0xZZ", None),
        ("0o9", "0o9", None),
        ("1.5e5", 150000.0, None),
        (".5", 0.5, None),
        ("5.", 5.0, None),
        (".inf", math.inf, None),
        ("+.inf", math.inf, None),
        ("-.Inf", -math.inf, None),
        ("1_000", "1_000", None),
        ("-x", "-x", None),
        ("plain", "plain", None),
        (
            "1e5",
            100000.0,
            "the bare word 1e5 was read as the number 100000.0 (YAML 1.1 reads it as a string);"
            " quote it if you meant text",
        ),
        ("007", "007", f'the bare word 007 is kept as the string "007" {OCTAL}'),
        ("-07", "-07", f'the bare word -07 is kept as the string "-07" {OCTAL}'),
        (
            "2026-01-01",
            "2026-01-01",
            'the bare word 2026-01-01 is kept as the string "2026-01-01" (YAML 1.1 reads it as'
            " a date)",
        ),
        (
            "1:30",
            "1:30",
            'the bare word 1:30 is kept as the string "1:30" (YAML 1.1 reads it as a base-60'
            " number)",
        ),
        ("yes", "yes", f'the bare word yes is kept as the string "yes" {BOOLEAN}'),
        ("Off", "Off", f'the bare word Off is kept as the string "Off" {BOOLEAN}'),
    ],
)
def test_each_plain_scalar_and_its_note(word: str, value: Any, note: str | None) -> None:
    ((data, notes),) = read(f"a: {word}\n")
    assert data == {"a": value} and type(data["a"]) is type(value)
    assert notes == ({("a",): note} if note else {})


def test_nan_and_quoted_words() -> None:
    ((data, _),) = read("a: .NaN\nb: '007'\nc: \"yes\"\n")
    assert math.isnan(data["a"]) and data["b"] == "007" and data["c"] == "yes"
    assert read("a: '007'\n")[0][1] == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: !!str 5\n", "5"),
        ("a: !!str\n", ""),
        ("a: !!int 0x1F\n", 31),
        ("a: !!int 017\n", 17),
        ("a: !!int 0o17\n", 15),
        ("a: !!int -5\n", -5),
        ("a: !!float 1.5\n", 1.5),
        ("a: !!bool True\n", True),
        ("a: !!bool false\n", False),
        ("a: !!null x\n", None),
        ("a: !!map {b: 1}\n", {"b": 1}),
        ("a: !!seq [1]\n", [1]),
    ],
)
def test_core_tags(text: str, value: Any) -> None:
    ((data, _),) = read(text)
    assert data == {"a": value} and type(data["a"]) is type(value)


PLAIN_ONLY = "only plain data is read; remove the tag"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a: !!int zz\n", ("the value is not a valid int for its tag", 1, 4, None)),
        ("a: !!float x\n", ("the value is not a valid float for its tag", 1, 4, None)),
        ("a: !!bool yes\n", ("the value is not a valid bool for its tag", 1, 4, None)),
        ("a: !!binary aGk=\n", ("unsupported YAML tag tag:yaml.org,2002:binary", 1, 4, PLAIN_ONLY)),
        ("a: !foo x\n", ("unsupported YAML tag !foo", 1, 4, PLAIN_ONLY)),
        ("a: !foo {b: 1}\n", ("unsupported YAML tag !foo", 1, 4, PLAIN_ONLY)),
        ("a: !!set {x}\n", ("unsupported YAML tag tag:yaml.org,2002:set", 1, 4, PLAIN_ONLY)),
        ("a: !!omap [1]\n", ("unsupported YAML tag tag:yaml.org,2002:omap", 1, 4, PLAIN_ONLY)),
        (
            "a: !!python/name:os.system x\n",
            ("unsupported YAML tag tag:yaml.org,2002:python/name:os.system", 1, 4, PLAIN_ONLY),
        ),
        ("? [1]\n: 2\n", ("a mapping or list cannot be a key", 1, 3, None)),
        ("a: &x {b: 1}\nc:\n  *x : 2\n", ("an alias used as a key must name a string", 1, 4, None)),
        ("a: &x [1, *x]\n", ("an alias refers to the collection it stands in", 1, 4, None)),
        ("<<: 5\n", ("a merge key (<<) needs a mapping or a list of mappings", 1, 5, None)),
        ("<<: [5]\n", ("a merge key (<<) needs a mapping or a list of mappings", 1, 5, None)),
        (
            "a: 1" + "0" * 5000 + "\n",
            ("an integer of 5,001 digits is too long to read (at most 4,300 digits)", 1, 4, None),
        ),
    ],
)
def test_refused_tags_and_shapes(text: str, error: tuple[Any, ...]) -> None:
    assert refused(text) == error


SAME = "give every key of one mapping the same indentation"
TAB = "invalid YAML: a tab in indentation (YAML does not allow tabs for indentation)"


def indented(key: str, mine: str, other: str, line: int, theirs: str) -> str:
    return (
        f"invalid YAML: the key {key} is indented {mine}, which does not match its siblings"
        f" (the key {other} on line {line} is indented {theirs})"
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a:\n\tb: 1\n", (TAB, 2, 1, "indent with spaces")),
        ("\ta: 1\n", (TAB, 1, 1, "indent with spaces")),
        ("a:\n\t\tb: 1\n", (TAB, 2, 1, "indent with spaces")),  # the first tab
        ("a: 1\n  \tb: 2\n", (TAB, 2, 3, "indent with spaces")),
        # a tab inside a quoted key is not indentation
        (
            "a: 'x\tb': 1\n",
            ("invalid YAML: mapping values are not allowed in this context", 1, 9, None),
        ),
        # the last line, with no line break after it
        ("a: 1\n b: 2", (indented("b", "1 space", "a", 1, "0 spaces"), 2, 2, SAME)),
        ("a:\n  - b: 1\n  c: 2\n", (indented("c", "2 spaces", "b", 2, "4 spaces"), 3, 3, SAME)),
        # the nearest key above is as indented: libyaml's words stay
        (
            "a: 1\nb: c: 2\n",
            ("invalid YAML: mapping values are not allowed in this context", 2, 5, None),
        ),
        # a list item between: libyaml's words stay
        ("a:\n  - x\n b: 1\n", ("invalid YAML: did not find expected key", 3, 2, None)),
        ("a:\n  - x\n  b: 1\n", ("invalid YAML: did not find expected '-' indicator", 3, 3, None)),
        ("a: 1\n\tb: 2\n", (TAB, 2, 1, "indent with spaces")),
        ("a: 1\n b: 2\n", (indented("b", "1 space", "a", 1, "0 spaces"), 2, 2, SAME)),
        ("a:\n  b: 1\n c: 2\n", (indented("c", "1 space", "b", 2, "2 spaces"), 3, 2, SAME)),
        # comments and blank lines between siblings are passed over
        (
            "a:\n  b: 1\n  # x\n\n c: 2\n",
            (indented("c", "1 space", "b", 2, "2 spaces"), 5, 2, SAME),
        ),
        ("x: 1\n  y: 2\n", (indented("y", "2 spaces", "x", 1, "0 spaces"), 2, 3, SAME)),
        # a key after "- " is indented where the dash ends
        ("- a: 1\n   b: 2\n", (indented("b", "3 spaces", "a", 1, "2 spaces"), 2, 4, SAME)),
        # a line that is not a key ends the search: libyaml's words stay
        ("a:\n  b: 1\n  - x\n c: 2\n", ("invalid YAML: did not find expected key", 3, 3, None)),
        ("a:\n  - 1\n - 2\n", ("invalid YAML: did not find expected key", 3, 2, None)),
        ("a: b: c\n", ("invalid YAML: mapping values are not allowed in this context", 1, 5, None)),
        ("a: [1,\n", ("invalid YAML: did not find expected node content", 2, 1, None)),
        ("key: [a, b\nc: 1\n", ("invalid YAML: did not find expected ',' or ']'", 2, 2, None)),
        ('a: "x" y\n', ("invalid YAML: did not find expected key", 1, 8, None)),
    ],
)
def test_syntax_errors_said_in_terms_of_what_the_user_did(text: str, error: tuple[Any, ...]):
    assert refused(text) == error


def test_limits_and_their_messages() -> None:
    laughs = "aliases that multiply content (a 'billion laughs' file) are refused"
    text = "a: 1\n---\nb: 2\n---\nc: 3\n"
    assert refused(text, max_documents=2) == (
        "more than 2 YAML documents in one file",
        1,
        1,
        "split the file",
    )
    assert [d for d, _ in read(text, max_documents=3)] == [{"a": 1}, {"b": 2}, {"c": 3}]
    assert refused("a: [1, 2, 3]\nb: 4\n", max_nodes=5) == (
        "the document expands to over 5 nodes",
        2,
        4,
        laughs,
    )
    assert read("a: [1, 2, 3]\nb: 4\n", max_nodes=6)[0][0] == {"a": [1, 2, 3], "b": 4}
    aliased = "a: &x [1, 2]\nb: *x\nc: *x\n"  # 1 + 3 + 3 + 3 nodes
    assert refused(aliased, max_nodes=9)[:3] == ("the document expands to over 9 nodes", 1, 4)
    assert read(aliased, max_nodes=10)[0][0] == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}
    assert refused("a: {b: {c: 1}}\n", max_depth=2) == ("nesting deeper than 2 levels", 1, 8, None)
    assert refused("a: [[1]]\n", max_depth=2) == ("nesting deeper than 2 levels", 1, 5, None)
    assert read("a: {b: {c: 1}}\n", max_depth=3)[0][0] == {"a": {"b": {"c": 1}}}
    assert read("a: [[1]]\n", max_depth=3)[0][0] == {"a": [[1]]}
    # a merge key's value is one level down like any other
    assert refused("<<: {x: {y: 1}}\n", max_depth=2)[:3] == ("nesting deeper than 2 levels", 1, 9)
    assert read("<<: {x: {y: 1}}\n", max_depth=3)[0][0] == {"x": {"y": 1}}
    # the budget counts collections too, at their own place
    assert refused("a: [1]\n", max_nodes=1) == (
        "the document expands to over 1 nodes",
        1,
        4,
        laughs,
    )


@pytest.mark.parametrize(
    ("text", "nodes"),
    [
        ("a: &x {b: 1, c: 2}\nd: *x\ne: *x\n", 10),  # 1 + 3 + 3 + 3
        ("a: &m {<<: {x: 1}, y: 2}\nb: *m\n", 9),  # 1 + (1 + 2 + 1) + 4
        ("a: &s [1, [2, 3]]\nb: *s\n", 11),  # 1 + (1 + 1 + 3) + 5
    ],
)
def test_an_alias_costs_the_whole_size_of_what_it_names(text: str, nodes: int) -> None:
    assert read(text, max_nodes=nodes)
    assert (
        refused(text, max_nodes=nodes - 1)[0] == f"the document expands to over {nodes - 1} nodes"
    )


def test_an_empty_document_is_none_and_each_document_is_its_own() -> None:
    out = list(read_yaml("---\n...\n---\na: 1\na: 2\n---\nb: [x]\n", Limits()))
    assert [d for d, _, _ in out] == [None, {"a": 1}, {"b": ["x"]}]
    assert [len(dups) for _, _, dups in out] == [0, 1, 0]
    assert out[2][1].keys == {("b",): (7, 1)}


def test_a_key_after_a_merge_overrides_it_in_the_merged_place_as_pyyaml_does() -> None:
    import yaml

    text = "<<: {x: 1, y: 1}\nx: 2\n"
    ((data, _),) = read(text)
    assert list(data.items()) == list(yaml.safe_load(text).items()) == [("x", 2), ("y", 1)]


def test_an_alias_to_a_scalar_reads_the_same_value_and_note() -> None:
    ((data, notes),) = read("a: &x yes\nb: *x\n")
    assert data == {"a": "yes", "b": "yes"}
    assert set(notes) == {("a",), ("b",)}


def test_a_parser_error_without_a_reason_or_a_place(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from streamkap_config.loaders import yaml_reader

    class Silent:
        def __init__(self, text: str) -> None:
            pass

        def check_node(self) -> bool:
            raise yaml.MarkedYAMLError()

        def dispose(self) -> None:
            pass

    monkeypatch.setattr(yaml_reader, "_loader_class", lambda module: Silent)
    assert refused("a: 1\n") == ("invalid YAML: the parser gave no reason", 1, 1, None)

    class Odd(Silent):
        def check_node(self) -> bool:
            raise yaml.YAMLError("odd")

    monkeypatch.setattr(yaml_reader, "_loader_class", lambda module: Odd)
    assert refused("a: 1\n") == ("invalid YAML: odd", 1, 1, None)


def test_duplicates_after_a_merge_and_every_position() -> None:
    text = "base: &b {x: 1, y: 2}\nm:\n  x: 0\n  <<: *b\n  y: 3\n  y: 4\n"
    ((data, positions, dups),) = list(read_yaml(text, Limits()))
    assert data == {"base": {"x": 1, "y": 2}, "m": {"x": 0, "y": 3}}
    assert [(i.code, i.severity, i.message, i.pointer, i.line, i.column, i.hint) for i in dups] == [
        (
            "duplicate-key",
            "error",
            "m.y: duplicate key (first at line 5)",
            "/m/y",
            6,
            3,
            "a later value would silently replace the first; keep one",
        )
    ]
    assert positions.keys == {
        ("base",): (1, 1),
        ("base", "x"): (1, 11),
        ("base", "y"): (1, 17),
        ("m",): (2, 1),
        ("m", "x"): (3, 3),
        ("m", "y"): (5, 3),
    }
    assert positions.values == {
        (): (1, 1),
        ("base",): (1, 7),
        ("base", "x"): (1, 14),
        ("base", "y"): (1, 20),
        ("m",): (3, 3),
        ("m", "x"): (3, 6),
        ("m", "<<"): (1, 7),
        ("m", "y"): (5, 6),
    }


def test_list_items_have_positions_and_an_alias_keeps_its_anchors() -> None:
    ((data, positions, _),) = list(read_yaml("a:\n  - x\n  - &n {k: 1}\nb: *n\n", Limits()))
    assert data == {"a": ["x", {"k": 1}], "b": {"k": 1}}
    assert positions.values[("a", "0")] == (2, 5)
    assert positions.values[("a", "1")] == (3, 5)
    assert positions.values[("a", "1", "k")] == (3, 12)
    assert positions.values[("b",)] == (3, 5)  # the alias stands where its anchor is
