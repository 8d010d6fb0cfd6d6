"""The TOML reader word for word: duplicate keys and tables with both lines, syntax
errors with their place, the depth bound, and the positions of every kind of key."""

from __future__ import annotations

from typing import Any

import pytest

from streamkap_config.loaders.common import Limits, ParseError
from streamkap_config.loaders.toml_reader import _basic_string, read_toml

ONCE = "a TOML key is set once in its table: remove one"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a = 1\na = 2\n", ('duplicate key "a" (first at line 1)', 2, 1, ONCE)),
        ("[t]\nx = 1\n[t]\ny = 2\n", ('duplicate key "t" (first at line 1)', 3, 1, ONCE)),
        ("[t]\n  x = 1\n  x = 2\n", ('duplicate key "x" (first at line 2)', 3, 3, ONCE)),
        # the x of the root table is not the first x of [t]
        ("x = 1\n[t]\nx = 1\nx = 2\n", ('duplicate key "x" (first at line 3)', 4, 1, ONCE)),
        ("a.b = 1\na = 2\n", ('duplicate key "a"', 2, 1, ONCE)),
        # the search for the first stops at its table's header
        ("[t]\na.b = 1\na = 2\n", ('duplicate key "a"', 3, 1, ONCE)),
        # a table's first is searched past other tables' headers
        ("[t]\nx = 1\n[u]\n[t]\n", ('duplicate key "t" (first at line 1)', 4, 1, ONCE)),
        # a key is not the first of a table of its name
        ("a = 1\n[a]\n", ('duplicate key "a"', 2, 1, ONCE)),
        ("[t]\na = 1\n[t.a]\n", ('duplicate key "t.a"', 3, 1, ONCE)),
        ("a = \n", ("invalid TOML: Invalid value", 1, 5, None)),
        # the parser names the end of a multi-line value, which is no key's line
        ('a = 1\na = """\nx"""', ("invalid TOML: a key or table is defined twice", 3, 1, None)),
        ("x = 1\na = [1,\n", ("invalid TOML: Invalid value (at end of document)", 3, 1, None)),
        (
            "a = 1" + "0" * 5000 + "\n",
            (
                "invalid TOML: an integer of 5,001 digits is too long to read (at most 4,300"
                " digits)",
                1,
                1,
                None,
            ),
        ),
        ("a = {b = {c = {d = 1}}}\n", ("nesting deeper than 3 levels", 1, 1, None)),
        ("[a.b.c]\nd = 1\n", ("nesting deeper than 3 levels", 1, 2, None)),
    ],
)
def test_refused(text: str, error: tuple[Any, ...]) -> None:
    with pytest.raises(ParseError) as caught:
        read_toml(text, Limits(max_depth=3))
    e = caught.value
    assert (e.message, e.line, e.column, e.hint) == error


def test_tables_in_another_table_are_not_duplicates() -> None:
    data, positions, issues = read_toml("[t]\nx = 1\n[u]\nx = 2\n", Limits())
    assert data == {"t": {"x": 1}, "u": {"x": 2}} and issues == []
    assert positions.keys == {
        ("t",): (1, 2),
        ("t", "x"): (2, 1),
        ("u",): (3, 2),
        ("u", "x"): (4, 1),
    }
    assert positions.values == {
        ("t",): (1, 2),
        ("t", "x"): (2, 5),
        ("u",): (3, 2),
        ("u", "x"): (4, 5),
    }


def test_positions_of_quoted_literal_dotted_and_array_table_keys() -> None:
    text = (
        'name = "n"\n[config]\n"quoted.key" = "v"\n\'lit\' = 1\ndotted . key = 2\n'
        '"k\\u00e9" = 3\n[[sources]]\nname = "a"\n[[sources]]\nname = "b"\n'
        "[sources.config]\nk = 1\n"
    )
    data, positions, _ = read_toml(text, Limits())
    assert data["config"] == {"quoted.key": "v", "lit": 1, "dotted": {"key": 2}, "k\u00e9": 3}
    assert data["sources"] == [{"name": "a"}, {"name": "b", "config": {"k": 1}}]
    assert positions.keys == {
        ("name",): (1, 1),
        ("config",): (2, 2),
        ("config", "quoted.key"): (3, 1),
        ("config", "lit"): (4, 1),
        ("config", "dotted", "key"): (5, 1),
        ("config", "k\u00e9"): (6, 1),
        ("sources", "0"): (7, 3),
        ("sources", "0", "name"): (8, 1),
        ("sources", "1"): (9, 3),
        ("sources", "1", "name"): (10, 1),
        ("sources", "1", "config"): (11, 2),
        ("sources", "1", "config", "k"): (12, 1),
    }
    assert positions.values[("config", "dotted", "key")] == (5, 16)
    assert positions.values[("sources", "1", "config", "k")] == (12, 5)


def test_multi_line_strings_and_comments_do_not_throw_positions_off() -> None:
    text = "a = \"\"\"\nb = 1\n\"\"\"\nc = 2\nd = '''x'''\ne = 3\nf = '''\n[t]\n'''\ng = 4 # c\n"
    data, positions, _ = read_toml(text, Limits())
    assert data == {"a": "b = 1\n", "c": 2, "d": "x", "e": 3, "f": "[t]\n", "g": 4}
    assert positions.keys == {
        ("a",): (1, 1),
        ("c",): (4, 1),
        ("d",): (5, 1),
        ("e",): (6, 1),
        ("f",): (7, 1),
        ("g",): (10, 1),
    }
    _, positions, _ = read_toml("[t] # t again\nv = 1\n", Limits())
    assert positions.keys[("t",)] == (1, 2)  # the header's own name, not the comment's
    _, positions, _ = read_toml("x = 1 # c\n[ t . u ] # h\ny = 2\n", Limits())
    assert positions.keys == {("x",): (1, 1), ("t", "u"): (2, 3), ("t", "u", "y"): (3, 1)}


def test_a_quoted_key_part_is_read_by_toml_rules_and_else_shown_as_written() -> None:
    assert _basic_string('"caf\\u00e9"') == "caf\u00e9"
    assert _basic_string('"\\U0001F600"') == "\U0001f600"
    assert _basic_string('"a\\qb"') == "a\\qb"  # no such escape: the text between the quotes
