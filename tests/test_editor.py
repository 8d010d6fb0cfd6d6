"""Editor schemas, checked with jsonschema's Draft7Validator (fast, always run).

The same cases run in the real yaml-language-server in test_editor_lsp.py."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from conftest import ROOT
from streamkap_config import KINDS, bundled_schemas
from streamkap_config.schemas.editor import combined_schema, editor_schema

EXAMPLES = ROOT / "examples"
PG = yaml.safe_load((EXAMPLES / "postgresql.source.yaml").read_text())


@functools.cache
def combined() -> dict:
    # Built on first use, not at collection: every xdist worker collects this module.
    return combined_schema({k: [v.definition for v in bundled_schemas(k).values()] for k in KINDS})


def errors(doc) -> list[str]:
    """What an editor says: the schema's errorMessage where it has one (as
    yaml-language-server shows it), else the validator's own message."""
    said = []
    for error in Draft7Validator(combined()).iter_errors(doc):
        for e in [error, *error.context]:
            said.append(
                e.schema.get("errorMessage") or e.message
                if isinstance(e.schema, dict)
                else e.message
            )
    return said


def foreign(path: Path) -> bool:
    """A file of the monorepo example that is not Streamkap's (a chart, a manifest)."""
    parts = path.relative_to(EXAMPLES).parts
    return parts[0] == "monorepo" and parts[1] != "streamkap"


def all_examples() -> list[tuple[str, object]]:
    found = []
    for path in sorted(EXAMPLES.rglob("*.yaml")) + sorted(EXAMPLES.rglob("*.json")):
        if "project-broken" in path.parts or foreign(path):
            continue
        text = path.read_text()
        docs = [json.loads(text)] if path.suffix == ".json" else list(yaml.safe_load_all(text))
        found += [(str(path.relative_to(EXAMPLES)), doc) for doc in docs]
    return found


@pytest.mark.parametrize(("name", "doc"), all_examples())
def test_every_example_of_every_kind_passes_or_fails_as_with_the_cli(name, doc):
    if "-invalid" in name:
        assert errors(doc), name
    else:
        assert errors(doc) == [], name


def test_the_combined_schema_is_valid_draft_07_and_dispatches_on_kind_and_connector():
    Draft7Validator.check_schema(combined())
    # The value schemas sit under a keyword draft-07 does not know: check each of them.
    for values in combined()["x-streamkap-values"].values():
        for schema in values.values():
            Draft7Validator.check_schema(schema)
    assert errors({**PG, "config": {**PG["config"], "databse": 1}})
    as_destination = {**PG, "kind": "destination"}  # postgresql as a destination: other keys
    assert errors(as_destination)
    assert errors({"sources": [PG, {**PG, "connector": "nope"}]})
    assert errors({"sources": [PG], "extra": 1})
    assert errors({"sources": [PG], "pipelines": []}) == []


def test_each_connector_schema_is_its_branch_of_the_combined_schema():
    """So the check of the combined schema above covers every connector's own schema."""
    full = combined()
    for kind in KINDS:
        for code, version in bundled_schemas(kind).items():
            one = editor_schema(version.definition)
            key = f"{kind}:{code}"
            document = json.dumps(one["definitions"]["document"]).replace(
                '"#/x-streamkap-values/', f'"#/x-streamkap-values/{key}/'
            )
            assert json.loads(document) == full["definitions"][key], key
            assert one["x-streamkap-values"] == full["x-streamkap-values"][key], key
            Draft7Validator.check_schema({**one, "definitions": {"document": {}}})


def test_required_keys_in_any_spelling_and_conditionally():
    doc = copy.deepcopy(PG)
    del doc["config"]["database"]["dbname"]
    assert any("missing required key database.dbname" in m for m in errors(doc))
    doc["config"]["database.dbname.user.defined"] = "x"  # not offered, still accepted
    doc["config"]["database.dbname"] = "y"
    del doc["config"]["database.dbname.user.defined"]
    assert errors(doc) == []
    doc["config"]["ssh"] = {"enabled": True, "port": 22}
    assert any("missing required key ssh.host" in m for m in errors(doc))
    doc["config"]["ssh"]["enabled"] = "false"
    assert errors(doc) == []


def test_messages_in_words():
    doc = copy.deepcopy(PG)
    doc["config"]["database"]["port"] = "54x2"
    assert "expected an integer (a whole number, e.g. 5432)" in errors(doc)
    doc = copy.deepcopy(PG)
    doc["config"]["ssh"]["enabled"] = "maybe"
    assert "expected a boolean: write true or false" in errors(doc)
    doc = copy.deepcopy(PG)
    doc["config"]["database"]["sslmode"] = "requir"
    assert "expected one of require, disable" in errors(doc)


def _keys(node: dict) -> list[str]:
    found = list(node.get("properties", {}))
    for value in node.get("properties", {}).values():
        for branch in value.get("anyOf", [value]):
            if branch.get("type") == "object" and "properties" in branch:
                found += _keys(branch)
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_completion_offers_each_setting_once_in_the_spelling_people_write(kind):
    for version in bundled_schemas(kind).values():
        schema = editor_schema(version.definition)
        config = schema["definitions"]["document"]["properties"]["config"]
        offered = _keys(config)
        assert not [k for k in offered if k.endswith((".user.defined", ".user.displayed"))]
        assert not [
            k
            for k in offered
            if "_" in k
            and k == k.lower()
            and "." not in k
            and version.definition.get(k) is None
            and any(p.terraform_attribute == k for p in version.definition.properties)
        ]
        top = config["properties"]
        assert len(top) == len(set(top))


def test_defaults_offered_by_completion_are_valid_for_the_cli():
    from streamkap_config import validate_document

    for kind in KINDS:
        for code, version in bundled_schemas(kind).items():
            values = editor_schema(version.definition)["x-streamkap-values"]
            config = {
                p.name: values[p.name]["default"]
                for p in version.definition.properties
                if p.user_defined
                and not p.readonly
                and not p.secret
                and "default" in values.get(p.name, {})
                and not p.conditions
            }
            field = KINDS[kind].code_field
            result = validate_document({"kind": kind, "name": "n", field: code, "config": config})
            assert not [i for i in result.issues if i.code in ("type", "enum", "range")], code


def test_every_pattern_escapes_only_what_a_unicode_ecma_regex_allows():
    # check-jsonschema (and any reader in ECMA-262 unicode mode) refuses "\-": a schema
    # escaped by re.escape is "not valid" there, and nothing in it is checked.
    patterns: list[str] = []
    stack: list[object] = [combined()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            patterns.extend(node.get("patternProperties", {}))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert len(patterns) > 1000
    for pattern in patterns:
        escaped = re.findall(r"\\(.)", pattern)
        assert set(escaped) <= set("\\^$.|?*+()[]{}/"), pattern
