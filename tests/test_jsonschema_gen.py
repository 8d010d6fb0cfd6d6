from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mutations import mutations
from strategies import definitions, raw_definitions, valid_configs
from streamkap_config import bundled_schemas
from streamkap_config.schemas.definitions import parse_definitions
from streamkap_config.schemas.jsonschema_gen import (
    ENVELOPE_ID,
    GENERATOR_VERSION,
    config_schema,
    envelope_schema,
    registry,
)


def validator(schema):
    return Draft202012Validator(schema, format_checker=None)


@pytest.mark.parametrize("code", sorted(bundled_schemas()))
def test_every_bundled_schema_passes_the_metaschema(code):
    Draft202012Validator.check_schema(bundled_schemas()[code].schema)


def test_envelope_passes_the_metaschema():
    Draft202012Validator.check_schema(envelope_schema({"postgresql": "urn:x"}))


def test_types_from_controls_on_postgresql():
    props = bundled_schemas()["postgresql"].schema["properties"]
    assert props["database.port.user.defined"]["type"] == "integer"
    assert props["database.password"]["writeOnly"] is True
    assert props["database.password"]["x-streamkap"]["secret"] is True
    assert props["snapshot.read.only.user.defined"]["enum"] == ["Yes", "No"]
    assert props["ssh.host"]["x-streamkap"]["conditions"] == [
        {"operator": "EQ", "config": "ssh.enabled", "value": True}
    ]
    assert props["database.hostname.user.defined"]["title"] == "Database Hostname"
    assert bundled_schemas()["postgresql"].schema["additionalProperties"] is False


def test_envelope_refers_to_config_schemas_through_the_registry():
    schemas = bundled_schemas()
    reg = registry(v.schema for v in schemas.values())
    envelope = reg.contents(ENVELOPE_ID)
    v = Draft202012Validator(envelope, registry=reg)
    good = {
        "name": "n",
        "connector": "kafkadirect",
        "config": {"topic.include.list.user.defined": "t", "topic.prefix": "p", "format": "json"},
    }
    assert list(v.iter_errors(good)) == []
    bad = {**good, "config": {"format": "xml"}}
    errors = list(v.iter_errors(bad))
    assert errors and all(list(e.absolute_path)[:1] == ["config"] for e in errors)
    assert list(v.iter_errors({"name": "", "connector": "nope", "config": {}}))


def test_conditional_requirement_becomes_if_then():
    raw = {
        "C": [
            {
                "name": "mode",
                "value": {"control": "one-select", "raw_values": ["a", "b"], "default": "a"},
            },
            {
                "name": "when.b",
                "required": True,
                "conditions": [{"operator": "EQ", "config": "mode", "value": "b"}],
                "value": {"control": "text"},
            },
            {
                "name": "unless.a",
                "required": True,
                "conditions": [{"operator": "NE", "config": "mode", "value": "a"}],
                "value": {"control": "text"},
            },
            {
                "name": "in.ab",
                "required": True,
                "conditions": [{"operator": "IN", "config": "mode", "value": ["a", "b"]}],
                "value": {"control": "text"},
            },
        ]
    }
    schema = config_schema(parse_definitions(raw, code="c")[0])
    v = validator(schema)

    def missing(config):
        return sorted(e.message.split("'")[1] for e in v.iter_errors(config))

    # The default "a" holds for IN when mode is absent.
    assert missing({}) == ["in.ab"]
    assert missing({"mode": "b"}) == ["in.ab", "unless.a", "when.b"]
    assert missing({"mode": "a", "in.ab": "x"}) == []


@given(definitions())
def test_generated_schemas_pass_the_metaschema(defn):
    Draft202012Validator.check_schema(config_schema(defn))


@given(raw_definitions())
def test_generation_is_deterministic(raw):
    a = parse_definitions(raw, code="generated")[0]
    b = parse_definitions(json.loads(json.dumps(raw)), code="generated")[0]
    assert json.dumps(config_schema(a)) == json.dumps(config_schema(b))
    assert config_schema(a)["x-streamkap"]["generator_version"] == GENERATOR_VERSION


@given(st.data(), definitions())
def test_a_config_built_to_satisfy_its_definition_is_valid(data, defn):
    gen = data.draw(valid_configs(defn))
    errors = list(validator(config_schema(defn)).iter_errors(gen.config))
    assert errors == []


@given(st.data(), definitions())
def test_breaking_one_constraint_gives_exactly_one_error_at_that_key(data, defn):
    gen = data.draw(valid_configs(defn))
    m = data.draw(mutations(gen))
    errors = list(validator(config_schema(defn)).iter_errors(m.config))
    assert len(errors) == 1, [e.message for e in errors]
    (e,) = errors
    expected_validator = {
        "type": "type",
        "enum": "enum",
        "range": ("minimum", "maximum"),
        "required": "required",
        "unknown-key": "additionalProperties",
    }[m.kind]
    if m.kind == "type" and defn.get(m.key).kind == "array":
        expected_validator = "type"
    assert e.validator in (
        expected_validator if isinstance(expected_validator, tuple) else (expected_validator,)
    )
    if m.kind in ("required", "unknown-key"):
        assert m.key in e.message
    else:
        assert list(e.absolute_path) == [m.key]


def test_jsonschema_module_is_the_one_we_depend_on():
    # The generated schemas declare the dialect that our validator class implements.
    assert (
        bundled_schemas()["s3"].schema["$schema"]
        == jsonschema.Draft202012Validator.META_SCHEMA["$id"]
    )
