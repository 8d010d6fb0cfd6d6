from __future__ import annotations

import json

import pytest
from hypothesis import given

from strategies import raw_definitions
from streamkap_config.core.errors import DefinitionError
from streamkap_config.schemas.definitions import (
    CONTROLS,
    Condition,
    definition_version,
    parse_definitions,
)


def prop(name: str, control: str = "text", **extra: object) -> dict:
    value = {"control": control, "type": "raw"}
    value.update(extra.pop("value", {}))  # type: ignore[arg-type]
    return {"name": name, "value": value, **extra}


def test_documented_shape_one_connector():
    (d,) = parse_definitions(
        {"PostgreSQL": [prop("database.hostname.user.defined")]}, code="postgresql"
    )
    assert d.code == "postgresql"
    assert d.display_name == "PostgreSQL"
    p = d.properties[0]
    assert (p.required, p.user_defined, p.kind, p.display_name) == (
        False,
        True,
        "string",
        "database.hostname.user.defined",
    )


def test_several_connectors_and_object_shape():
    defs = parse_definitions(
        {
            "MySQL": [prop("a")],
            "MongoDB Atlas": {"config": [prop("b")], "connector_code": "mongodb", "x": 1},
        },
        codes={"MySQL": "mysql"},
    )
    assert [(d.code, d.names) for d in defs] == [("mysql", ("a",)), ("mongodb", ("b",))]


def test_code_falls_back_to_slug_of_display_name():
    (d,) = parse_definitions({"Kafka Direct": [prop("a")]})
    assert d.code == "kafkadirect"


@pytest.mark.parametrize(
    ("spelling", "normal", "kind"),
    [
        ("string", "text", "string"),
        ("select", "one-select", "enum"),
        ("checkbox", "toggle", "boolean"),
        ("multi-select", "multi_select", "array"),
        ("slider", "slider", "integer"),
        ("file", "file", "string"),
        ("TEXTAREA", "textarea", "string"),
    ],
)
def test_control_spellings_are_normalised(spelling, normal, kind):
    extra = {"value": {"raw_values": ["x"]}} if normal == "one-select" else {}
    (d,) = parse_definitions({"C": [prop("k", spelling, **extra)]}, code="c")
    assert (d.properties[0].control, d.properties[0].kind) == (normal, kind)


def test_unknown_fields_ignored_and_extras_kept():
    raw = prop(
        "k",
        tab="settings",
        whatever={"a": 1},
        terraform_attribute="k_tf",
        aliases=["old_k"],
        encrypt=True,
        set_once=True,
    )
    (d,) = parse_definitions({"C": [raw]}, code="c")
    p = d.properties[0]
    assert (p.terraform_attribute, p.aliases, p.secret, p.set_once, p.tab) == (
        "k_tf",
        ("old_k",),
        True,
        True,
        "settings",
    )


def test_user_defined_false_is_kept():
    (d,) = parse_definitions({"C": [prop("k", user_defined=False)]}, code="c")
    assert d.get("k") is not None and not d.get("k").user_defined


def test_string_defaults_are_typed():
    (d,) = parse_definitions(
        {
            "C": [
                prop("port", "number", value={"default": "5432"}),
                prop("flag", "toggle", value={"default": "true"}),
            ]
        },
        code="c",
    )
    assert d.get("port").default == 5432
    assert d.get("flag").default is True


@pytest.mark.parametrize(
    ("response", "index", "reason"),
    [
        ({"C": [prop("k", "wizard")]}, 0, "unknown control 'wizard'"),
        ({"C": [prop("k"), prop("k")]}, 1, "duplicate property name 'k'"),
        ({"C": [prop("k", "text", value={"raw_values": ["a"]})]}, 0, "not a select"),
        (
            {"C": [prop("k", conditions=[{"operator": "EQ", "config": "nope", "value": 1}])]},
            0,
            "unknown key 'nope'",
        ),
        (
            {"C": [prop("k", conditions=[{"operator": "GT", "config": "k", "value": 1}])]},
            0,
            "operator",
        ),
        ({"C": [{"value": {"control": "text"}}]}, 0, "'name'"),
        ({"C": ["not an object"]}, 0, "expected an object"),
        ({"C": [prop("k", "number", value={"default": "many"})]}, 0, "not an integer"),
        ({"C": [prop("k", "one-select")]}, 0, "needs 'raw_values'"),
        ({"C": [prop("k", required="yes")]}, 0, "'required' must be a boolean"),
        ({"C": [{"name": "k", "value": "text"}]}, 0, "'value' must be an object"),
        ({"C": [{"name": "k", "value": {"type": "raw"}}]}, 0, "'value.control' is missing"),
        ({"C": [prop("k", description=5)]}, 0, "'description' must be a string"),
        ({"C": [prop("k", "one-select", value={"raw_values": []})]}, 0, "non-empty list"),
        ({"C": [prop("k", "one-select", value={"raw_values": [[1]]})]}, 0, "only scalars"),
        ({"C": [prop("k", "one-select", value={"raw_values": ["a", "a"]})]}, 0, "repeated"),
        ({"C": [prop("k", "number", value={"min": "1"})]}, 0, "'value.min' must be a number"),
        ({"C": [prop("k", "text", value={"max": 3})]}, 0, "which is not numeric"),
        ({"C": [prop("k", "number", value={"min": 5, "max": 1})]}, 0, "greater than"),
        ({"C": [prop("k", conditions={"a": 1})]}, 0, "'conditions' must be a list"),
        ({"C": [prop("k", conditions=["EQ"])]}, 0, "a condition must be an object"),
        (
            {"C": [prop("k", conditions=[{"operator": "EQ", "config": "", "value": 1}])]},
            0,
            "must name a key",
        ),
        ({"C": [prop("k", conditions=[{"operator": "EQ", "config": "k"}])]}, 0, "no 'value'"),
        (
            {"C": [prop("k", conditions=[{"operator": "IN", "config": "k", "value": 1}])]},
            0,
            "needs a non-empty list",
        ),
        (
            {"C": [prop("k", conditions=[{"operator": "EQ", "config": "k", "value": 1}])]},
            0,
            "refers to itself",
        ),
        ({"C": [prop("k", aliases="old")]}, 0, "'aliases' must be a list"),
        ({"C": [prop("k", terraform_attribute="")]}, 0, "'terraform_attribute'"),
        ({"C": [prop("k", "number", terraform_type="Map")]}, 0, "needs a text control"),
        ({"C": [prop("k", "toggle", value={"default": "perhaps"})]}, 0, "not a boolean"),
        ({"C": [prop("k", "text", value={"default": 5})]}, 0, "not a string"),
        ({"C": [prop("k", "multi_select", value={"default": 5})]}, 0, "not a list of strings"),
        ({"C": [prop(f"k{i}") for i in range(5001)]}, None, "over the limit of 5,000"),
    ],
)
def test_malformed_definitions_raise_definition_error(response, index, reason):
    with pytest.raises(DefinitionError) as info:
        parse_definitions(response, code="c")
    err = info.value
    assert err.connector == "C"
    assert err.index == index
    assert reason in err.reason
    assert (f"property #{index}" in str(err)) == (index is not None)


@pytest.mark.parametrize("response", [None, [], {}, {"C": "text"}, {"": []}, 42])
def test_malformed_responses_raise_definition_error(response):
    with pytest.raises(DefinitionError):
        parse_definitions(response)


def test_condition_holds():
    assert Condition("EQ", "a", True).holds(True)
    assert not Condition("EQ", "a", True).holds(1)
    assert Condition("NE", "a", "x").holds(None)
    assert Condition("IN", "a", ("x", "y")).holds("y")
    assert not Condition("IN", "a", ("x", "y")).holds(None)


def test_every_documented_control_maps_to_a_kind():
    for control in set(CONTROLS.values()):
        extra = {"value": {"raw_values": ["x"]}} if control == "one-select" else {}
        (d,) = parse_definitions({"C": [prop("k", control, **extra)]}, code="c")
        assert d.properties[0].kind in ("string", "integer", "boolean", "enum", "array")


@given(raw_definitions())
def test_version_changes_iff_canonical_definition_changes(raw):
    (d,) = parse_definitions(raw, code="generated")
    # Key order and whitespace are not content.
    reordered = json.loads(json.dumps(raw, sort_keys=True, indent=3))
    assert parse_definitions(reordered, code="generated")[0].version == d.version
    changed = json.loads(json.dumps(raw))
    changed["Generated Connector"][0]["description"] += " (changed)"
    assert parse_definitions(changed, code="generated")[0].version != d.version
    assert d.version == definition_version(raw)
