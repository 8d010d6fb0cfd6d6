"""The JSON reader word for word: every syntax error with its message, line, column and
hint, the depth bound, duplicate keys and the exact positions of keys and values."""

from __future__ import annotations

from typing import Any

import pytest

from streamkap_config.loaders.common import Limits, ParseError
from streamkap_config.loaders.json_reader import read_json

COMMA = "JSON allows no comma after the last item; remove it"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", ("unexpected end of input", 1, 1, None)),
        ("  ", ("unexpected end of input", 1, 3, None)),
        ("[", ("unexpected end of input", 1, 2, None)),
        ("[1,", ("unexpected end of input", 1, 4, None)),
        ("{", ("expected a key in double quotes", 1, 2, None)),
        ("{a: 1}", ("expected a key in double quotes", 1, 2, None)),
        ('{"a"', ("expected ':' after a key", 1, 5, None)),
        ('{"a" 1}', ("expected ':' after a key", 1, 6, None)),
        ('{"a": }', ("unexpected character '}'", 1, 7, None)),
        ('{"a": tru}', ("unexpected character 't'", 1, 7, None)),
        ('{"a": -}', ("unexpected character '-'", 1, 7, None)),
        ('{"a": 1,}', ("a comma before '}'", 1, 8, COMMA)),
        ('{"a": 1,\n  "b": 2,\n}', ("a comma before '}'", 2, 9, COMMA)),
        ("[1,]", ("a comma before ']'", 1, 3, COMMA)),
        ("[1 2]", ("expected ',' or ']'", 1, 4, None)),
        ('{"a": 1 "b": 2}', ("expected ',' or '}'", 1, 9, None)),
        ('{"a": 01}', ("expected ',' or '}'", 1, 8, None)),
        ('{"a": 1.}', ("expected ',' or '}'", 1, 8, None)),
        ('"x', ("unterminated string starting", 1, 1, None)),
        ('"\\q"', ("invalid \\escape", 1, 2, None)),
        ('{"a": "x\ny"}', ("invalid control character", 1, 9, None)),
        ('{"a": 1} x', ("extra data after the document", 1, 10, None)),
        (
            "1" + "0" * 5000,
            ("an integer of 5,001 digits is too long to read (at most 4,300 digits)", 1, 1, None),
        ),
    ],
)
def test_syntax_errors(text: str, error: tuple[Any, ...]) -> None:
    with pytest.raises(ParseError) as caught:
        read_json(text, Limits())
    e = caught.value
    assert (e.message, e.line, e.column, e.hint) == (f"invalid JSON: {error[0]}", *error[1:])


def test_the_depth_bound() -> None:
    with pytest.raises(ParseError) as caught:
        read_json("[[[1]]]", Limits(max_depth=2))
    assert (caught.value.message, caught.value.line, caught.value.column) == (
        "nesting deeper than 2 levels",
        1,
        3,
    )
    assert read_json("[[[1]]]", Limits(max_depth=3))[0] == [[[1]]]
    assert read_json('{"a": {"b": 1}}', Limits(max_depth=2))[0] == {"a": {"b": 1}}


def test_every_value_and_its_position() -> None:
    data, positions, dups = read_json(
        '\n\n  [1, 2, {"k": [true, false, null, -1.5e3, "s", 7]}]', Limits()
    )
    assert data == [1, 2, {"k": [True, False, None, -1500.0, "s", 7]}] and dups == []
    assert type(data[2]["k"][5]) is int and type(data[2]["k"][3]) is float
    assert positions.keys == {("2", "k"): (3, 11)}
    assert positions.values == {
        (): (3, 3),
        ("0",): (3, 4),
        ("1",): (3, 7),
        ("2",): (3, 10),
        ("2", "k"): (3, 16),
        ("2", "k", "0"): (3, 17),
        ("2", "k", "1"): (3, 23),
        ("2", "k", "2"): (3, 30),
        ("2", "k", "3"): (3, 36),
        ("2", "k", "4"): (3, 44),
        ("2", "k", "5"): (3, 49),
    }
    for empty in ("{}", "[]", "{ }", "[ ]"):
        value, positions, _ = read_json(empty, Limits())
        assert not value and positions.values == {(): (1, 1)}


def test_a_repeated_key_keeps_the_first_value_and_records_nothing_of_the_second() -> None:
    data, positions, dups = read_json('{"a": 1, "a": {"b": 2}, "c": 3}', Limits())
    assert data == {"a": 1, "c": 3}
    assert positions.keys == {("a",): (1, 2), ("c",): (1, 25)}
    assert positions.values == {(): (1, 1), ("a",): (1, 7), ("c",): (1, 30)}
    assert [(i.code, i.message, i.pointer, i.line, i.column) for i in dups] == [
        ("duplicate-key", "a: duplicate key (first at line 1)", "/a", 1, 10)
    ]
    data, _, dups = read_json('{"a": [1, {"a": 2,\n "a": 3}]}', Limits())
    assert data == {"a": [1, {"a": 2}]}
    assert [(i.message, i.pointer, i.line, i.column) for i in dups] == [
        ("a.1.a: duplicate key (first at line 1)", "/a/1/a", 2, 2)
    ]
