"""Every check's message and hint, word for word: what a user reads is part of the
behaviour (a word lost from a hint is a regression), and a secret's check never
quotes the value."""

from __future__ import annotations

import pytest

from streamkap_config.schemas.definitions import Property
from streamkap_config.validation.checks import _compile

QUOTE = "write the value in quotes to make it a string"


def check(control: str, value, *, strict: bool = False, secret: bool = False, **prop):
    found = _compile(Property("k", control, encrypt=secret, **prop))(value, strict)
    return found[1]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        # strings
        (("text", 5), ("type", "expected a string, got 5", QUOTE)),
        (("text", True), ("type", "expected a string, got true", QUOTE)),
        (("text", [1]), ("type", "expected a string, got a list", None)),
        # integers
        (("number", "abc"), ("type", 'expected an integer, got "abc"', None)),
        (
            ("number", "5"),
            (
                "type",
                'expected an integer, got "5"',
                "strict mode: write the number without quotes",
            ),
        ),
        (
            ("number", "05"),
            ("type", 'expected an integer, got "05"', "write 5 (a number has no leading zero)"),
        ),
        (("number", 1.5), ("type", "expected an integer, got 1.5", None)),
        (("number", 0), ("range", "0 is out of range 1..10", None)),
        (("number", 11), ("range", "11 is out of range 1..10", None)),
        (("number", 0), ("range", "0 is less than the minimum 1", None)),
        (("number", 11), ("range", "11 is greater than the maximum 10", None)),
        # booleans
        (("toggle", "abc"), ("type", 'expected a boolean, got "abc"', None)),
        (
            ("toggle", "true"),
            (
                "type",
                'expected a boolean, got "true"',
                "strict mode: write true or false without quotes",
            ),
        ),
        (
            ("toggle", "yes"),
            (
                "type",
                'expected a boolean, got "yes"',
                "write true or false: words like yes/no/on/off are not booleans",
            ),
        ),
        (("toggle", 1), ("type", "expected a boolean, got 1", None)),
        # lists
        (("multi_select", 5), ("type", "expected a list of strings, got 5", None)),
        (("multi_select", ["b"]), ("enum", '"b" is not one of a, c', "write items from a, c")),
        (("multi_select", ["A"]), ("enum", '"A" is not one of a, c', 'did you mean "a"?')),
    ],
    ids=lambda v: repr(v)[:60],
)
def test_each_check_says_exactly_this(args, problem):
    control, value = args
    extra: dict = {}
    strict = False
    code, text, _hint = problem
    if control == "number" and code == "range":
        extra = {"minimum": 1, "maximum": 10}
        if "minimum" in text:
            extra = {"minimum": 1}
        if "maximum" in text:
            extra = {"maximum": 10}
    if "strict mode" in str(problem[2]):
        strict = True
    if control == "multi_select":
        extra = {"raw_values": ("a", "c")}
    assert check(control, value, strict=strict, **extra) == problem


def test_a_secrets_check_never_quotes_the_value():
    assert check("number", "05", secret=True)[2] is None  # no "write 5" from a secret
    assert check("text", 5, secret=True) == (
        "type",
        "expected a string, got an integer (value hidden)",
        None,
    )
    out = check("number", 99, secret=True, minimum=1, maximum=10)
    assert out == ("range", "the value is out of range 1..10", None)
    assert "99" not in str(check("number", 99, secret=True, maximum=10))
    assert "99" not in str(check("number", 99, secret=True, minimum=100))
    listed = check("multi_select", ["secret-word"], secret=True, raw_values=("secret-w0rd",))
    assert (
        listed is not None
        and "secret-word" not in str(listed)
        and "did you mean" not in str(listed)
    )


def test_enum_messages_list_the_choices_and_hint_the_nearest():
    two = ("require", "disable")
    assert check("one-select", "x", raw_values=two) == (
        "enum",
        '"x" is not one of require, disable',
        'write "require" or "disable"',
    )
    assert check("one-select", "requir", raw_values=two)[2] == 'did you mean "require"?'
    many = tuple(f"v{n}" for n in range(9))
    text = check("one-select", "zzz", raw_values=many)[1]
    assert text == '"zzz" is not one of v0, v1, v2, v3, v4, v5, v6, v7, ... (9 values)'
    eight = tuple(f"v{n}" for n in range(8))
    assert check("one-select", "zzz", raw_values=eight)[1].endswith("v6, v7")
    assert check("one-select", 3, raw_values=(1, 2, 4))[2] == "write one of 1, 2, 4"
    assert check("one-select", "1", raw_values=(1, 2))[2] == "write 1 or 2"


@pytest.mark.parametrize(
    ("map_of", "value", "problem"),
    [
        ("string", 5, ("type", "expected a mapping of strings, got 5", None)),
        ("object", {"a": "b"}, ("type", "expected a mapping of mappings, got a mapping", None)),
        (
            "string",
            "",
            (
                "type",
                'expected a mapping of strings, got ""',
                "write the entries as a nested mapping under the key",
            ),
        ),
        ("string", "x", ("type", 'expected a mapping of strings, got "x"', None)),
    ],
)
def test_map_messages(map_of, value, problem):
    assert check("text", value, map_of=map_of) == problem
