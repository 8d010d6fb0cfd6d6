"""References (``${env:NAME}``, ``${var:NAME}``, the ``$${`` escape) against a model: a
string drawn as pieces (text, escapes, references of either kind) must read, resolve
and print exactly as the pieces say."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streamkap_config.core.refs import (
    EnvReader,
    Variables,
    has_escape_or_reference,
    has_reference,
    is_whole_reference,
    literal_text,
    reference_names,
    resolve,
    unclosed_reference,
    variable_names,
)

NAMES = st.sampled_from(["A", "PG_PASSWORD", "host", "_x1", "region"])
TEXT = st.text(st.characters(blacklist_characters="${}"), min_size=1, max_size=6)
PIECES = st.lists(
    st.one_of(
        st.tuples(st.just("text"), TEXT),
        st.tuples(st.just("escape"), st.just("")),
        st.tuples(st.sampled_from(["env", "var"]), NAMES),
    ),
    max_size=6,
)
ENV = {"A": "a-env", "PG_PASSWORD": "pw", "host": "h-env"}  # _x1 and region: unset
VARS = {"A": "a-var", "region": "eu"}  # var:host, var:PG_PASSWORD, var:_x1: unset


def written(pieces: list[tuple[str, str]]) -> str:
    out = {"text": "{}", "escape": "$${{", "env": "${{env:{}}}", "var": "${{var:{}}}"}
    return "".join(out[kind].format(value) for kind, value in pieces)


@settings(max_examples=300, deadline=None)
@given(PIECES)
def test_references_read_resolve_and_print_as_their_pieces_say(pieces):
    value = written(pieces)
    refs = [(kind, name) for kind, name in pieces if kind in ("env", "var")]
    assert reference_names(value) == [name for _, name in refs]
    assert variable_names(value) == [name for kind, name in refs if kind == "var"]
    assert has_reference(value) is bool(refs)
    assert has_reference([value]) is bool(refs) and has_reference(["x", value]) is bool(refs)
    escapes = any(kind == "escape" for kind, _ in pieces)
    assert has_escape_or_reference(value) is bool(refs or escapes)
    assert has_escape_or_reference(["x", value]) is bool(refs or escapes)
    assert is_whole_reference(value) is (len(pieces) == 1 and bool(refs))
    assert literal_text(value) == "".join(
        v if k == "text" else "${" if k == "escape" else "" for k, v in pieces
    )
    assert unclosed_reference(value) is None
    text, missing = resolve(value, ENV.get, VARS.get)
    expected, unset = [], []
    for kind, v in pieces:
        if kind == "text":
            expected.append(v)
        elif kind == "escape":
            expected.append("${")
        else:
            found = (ENV if kind == "env" else VARS).get(v)
            expected.append(found or "")
            if found is None:
                unset.append(v if kind == "env" else f"var:{v}")
    assert (text, missing) == ("".join(expected), unset)


def test_without_variables_every_var_reference_is_missing():
    assert resolve("a${var:region}b", ENV.get) == ("ab", ["var:region"])
    assert resolve("${var:A}", ENV.get, VARS.get) == ("a-var", [])  # never the env's A
    assert resolve("${env:A}", ENV.get, VARS.get) == ("a-env", [])


def test_what_is_not_a_string_holds_no_reference():
    for value in (None, 5, 1.5, True, {"a": "${env:A}"}):
        assert not has_reference(value) and not has_escape_or_reference(value)
        assert not is_whole_reference(value)
    assert is_whole_reference("${var:region}") and not is_whole_reference(" ${env:A}")


def test_an_unclosed_reference_is_named():
    assert unclosed_reference("x ${var:region") == "${var:region"
    assert unclosed_reference("$${env:A") is None and unclosed_reference("${env:A}") is None


def test_the_reader_gives_only_text_values_of_allowed_names():
    reader = EnvReader({"A": "a", "B": 5, "C": ""}, allow=["A", "B", "C"])  # type: ignore[dict-item]
    assert reader("A") == "a" and reader("B") is None and reader("C") == ""
    assert reader("D") is None
    assert repr(reader) == "EnvReader(allow=('A', 'B', 'C'))" and "'a'" not in repr(reader)
    assert EnvReader({"X": "1"}, allow=["Y*"])("X") is None


def test_variables_as_references_give_them():
    variables = Variables(
        {"region": "eu", "port": 5432, "ratio": 2.0, "pi": 2.5, "tls": True, "off": False}, "prod"
    )
    assert variables.environment == "prod"
    assert [variables(n) for n in ("region", "port", "ratio", "pi", "tls", "off")] == [
        "eu",
        "5432",
        "2",
        "2.5",
        "true",
        "false",
    ]
    assert variables("nope") is None and "port" in variables and "nope" not in variables
    assert variables.names() == ["off", "pi", "port", "ratio", "region", "tls"]
    assert sorted(variables.values()) == sorted(["eu", "5432", "2", "2.5", "true", "false"])
    assert "eu" not in repr(variables) and "prod" in repr(variables)
    assert Variables({}).environment is None
