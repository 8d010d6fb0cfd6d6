"""build_payload issue by issue: every reference that cannot be resolved, a resolved
value of the wrong type, and every way a pipeline body can lack what it joins; each
issue with its code, message, hint, pointer and position, and the bodies it builds."""

from __future__ import annotations

import glob
import os
from typing import Any

import pytest

from streamkap_config import ConfigValidationError, build_payload, load_text, validate_project
from streamkap_config.core.refs import Variables
from streamkap_config.deploy.payload import MASK

SOURCE = """\
name: s
connector: postgresql
config:
  database:
    hostname: ${var:host}
    port: ${env:PORT}
    user: ${env:USER_A}-${env:USER_A}
    password: ${env:PG_PW}
    dbname: $${literal}
  schema.include.list: public
  table.include.list: public.orders
  snapshot.read.only: "No"
"""


def issues_of(text: str, **options: Any) -> list[tuple[Any, ...]]:
    doc = load_text(text, "s.yaml").documents[0]
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(doc, **options)
    assert caught.value.path == "s.yaml"
    return [
        (i.code, i.severity, i.message, i.pointer, i.line, i.column, i.hint)
        for i in caught.value.issues
        if i.code != "plaintext-secret"
    ]


def keys_of(text: str, **options: Any) -> list[str | None]:
    doc = load_text(text, "s.yaml").documents[0]
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(doc, **options)
    return [i.key for i in caught.value.issues if i.code != "plaintext-secret"]


def test_every_reference_that_cannot_be_resolved_is_its_own_issue_once() -> None:
    assert issues_of(SOURCE, environ={}) == [
        (
            "unresolved-variable",
            "error",
            "config.database.hostname: variable host has no value: no environment is selected",
            "/config/database/hostname",
            5,
            15,
            "pick one with --env NAME (environments are in streamkap.toml)",
        ),
        (
            "unresolved-secret",
            "error",
            "config.database.port: environment variable PORT is not set",
            "/config/database/port",
            6,
            11,
            "export PORT",
        ),
        (  # named twice in the value, reported once
            "unresolved-secret",
            "error",
            "config.database.user: environment variable USER_A is not set",
            "/config/database/user",
            7,
            11,
            "export USER_A",
        ),
        (
            "unresolved-secret",
            "error",
            "config.database.password: environment variable PG_PW is not set",
            "/config/database/password",
            8,
            15,
            "export PG_PW",
        ),
    ]


def test_a_variable_missing_from_its_environment_a_refused_name_and_a_bad_resolved_type():
    found = issues_of(
        SOURCE,
        environ={"PORT": "abc", "USER_A": "u", "PG_PW": "hunter2"},
        allow_env=["PORT", "USER_A"],
        variables=Variables({}, "prod"),
    )
    assert found == [
        (
            "unresolved-variable",
            "error",
            "config.database.hostname: variable host is not defined for environment prod",
            "/config/database/hostname",
            5,
            15,
            "add host under [environments.prod.variables] in streamkap.toml",
        ),
        (
            "type",
            "error",
            "config.database.port: expected an integer, got a string (value hidden)"
            " (the value of its reference)",
            "/config/database/port",
            6,
            11,
            None,
        ),
        (
            "unresolved-secret",
            "error",
            "config.database.password: environment variable PG_PW may not be read",
            "/config/database/password",
            8,
            15,
            "only variables matching --allow-env / STREAMKAP_ALLOW_ENV are read",
        ),
    ]
    assert "abc" not in repr(found) and "hunter2" not in repr(found)


def test_each_issue_of_a_reference_names_its_canonical_key() -> None:
    assert keys_of(SOURCE, environ={}) == [
        "database.hostname.user.defined",
        "database.port.user.defined",
        "database.user",
        "database.password",
    ]
    bad = {"PORT": "abc", "USER_A": "u", "PG_PW": "p"}
    assert keys_of(SOURCE, environ=bad, allow_env=["PORT", "USER_A"]) == [
        "database.hostname.user.defined",
        "database.port.user.defined",
        "database.password",
    ]


CHECKED = """\
name: s
connector: postgresql
config:
  database:
    hostname: h
    port: 2026-01-01 ${env:PORT}
    user: u
    password: p
    dbname: d
    sslmode: ${env:MODE}
  schema.include.list: public
  table.include.list: public.orders
  snapshot.read.only: "No"
"""


@pytest.mark.parametrize("strict", [False, True])
def test_a_resolved_value_outside_its_enum_gets_the_allowed_values_and_no_yaml_note(strict):
    found = issues_of(CHECKED, environ={"PORT": "5", "MODE": "bogus"}, strict=strict)
    assert found == [
        (  # the bare word reads as a date to YAML 1.1: that note quotes the text, never here
            "type",
            "error",
            "config.database.port: expected an integer, got a string (value hidden)"
            " (the value of its reference)",
            "/config/database/port",
            6,
            11,
            None,
        ),
        (
            "enum",
            "error",
            "config.database.sslmode: a string (value hidden) is not one of require, disable"
            " (the value of its reference)",
            "/config/database/sslmode",
            10,
            14,
            'write "require" or "disable"',
        ),
    ]
    assert keys_of(CHECKED, environ={"PORT": "5", "MODE": "x"}) == [
        "database.port.user.defined",
        "database.sslmode",
    ]


def test_strict_mode_takes_a_number_from_the_environment_as_its_key_asks() -> None:
    """The environment holds only text: strict mode cannot ask for an unquoted number."""
    text = CHECKED.replace("2026-01-01 ${env:PORT}", "${env:PORT}")
    doc = load_text(text, "s.yaml").documents[0]
    body = build_payload(doc, environ={"PORT": "5433", "MODE": "disable"}, strict=True)
    assert body.config["database.port.user.defined"] == 5433
    assert body.config["database.sslmode"] == "disable"


def test_resolved_values_are_checked_typed_and_masked_and_an_escape_is_literal() -> None:
    doc = load_text(SOURCE, "s.yaml").documents[0]
    body = build_payload(
        doc,
        environ={"PORT": "5433", "USER_A": "u", "PG_PW": "hunter2"},
        variables=Variables({"host": "h.example"}, "prod"),
    )
    config = body.config
    assert config["database.hostname.user.defined"] == "h.example"
    assert config["database.port.user.defined"] == 5433  # the integer its key asks for
    assert config["database.user"] == "u-u"
    assert config["database.password"] == "hunter2"
    assert config["database.dbname"] == "${literal}"
    shown = body.masked_dump()["config"]
    masked = {k for k, v in shown.items() if v == MASK}
    assert masked == {
        "database.hostname.user.defined",
        "database.port.user.defined",
        "database.user",
        "database.password",
    }
    assert shown["database.dbname"] == "${literal}"  # an escape reads nothing: shown


def test_unset_secrets_lets_only_a_secret_stay_unresolved() -> None:
    doc = load_text(SOURCE, "s.yaml").documents[0]
    options: dict[str, Any] = {"variables": Variables({"host": "h"}, "prod")}
    body = build_payload(doc, environ={"PORT": "1", "USER_A": "u"}, unset_secrets=True, **options)
    assert body.config["database.password"] == ""
    found = issues_of(SOURCE, environ={"USER_A": "u"}, unset_secrets=True, **options)
    assert [(code, pointer) for code, _, _, pointer, *_ in found] == [
        ("unresolved-secret", "/config/database/port")
    ]


def test_references_in_a_list_name_their_item() -> None:
    text = SOURCE.replace("name: s\n", "name: s\ntags: [t1, '${env:TAG}']\n")
    found = issues_of(
        text, environ={"PORT": "1", "USER_A": "u", "PG_PW": "p"}, variables=Variables({"host": "h"})
    )
    assert found == [
        (
            "unresolved-secret",
            "error",
            "tags.1: environment variable TAG is not set",
            "/tags/1",
            2,
            12,
            "export TAG",
        )
    ]


PIPELINE = """\
kind: pipeline
name: p
source:
  name: s
  connector: postgresql
  topics: [a, b]
destination:
  name: d
  connector: snowflake
transforms:
  - name: t
  - name: u
    topics: [b]
"""
IDS = {"source/s": "S", "destination/d": "D", "transform/t": "T", "transform/u": "U"}


def pipeline(text: str = PIPELINE, **options: Any) -> dict[str, Any]:
    doc = load_text(text, "p.yaml").documents[0]
    return build_payload(doc, **options).model_dump()  # type: ignore[no-any-return]


def test_every_member_without_an_id_is_named_where_it_is_written() -> None:
    hint = "write id: in the reference, or pass --id {}=ID"
    text = "a pipeline is sent with the ids of what it joins"
    assert issues_of(PIPELINE) == [
        ("envelope", "error", f'source: source "s" has no id: {text}', "/source", 3, 1,
         hint.format("source/s")),
        ("envelope", "error", f'destination: destination "d" has no id: {text}', "/destination",
         7, 1, hint.format("destination/d")),
        ("envelope", "error", f'transforms.0: transform "t" has no id: {text}', "/transforms/0",
         11, 5, hint.format("transform/t")),
        ("envelope", "error", f'transforms.1: transform "u" has no id: {text}', "/transforms/1",
         12, 5, hint.format("transform/u")),
    ]  # fmt: skip


def test_members_without_a_name_or_a_connector_are_each_named() -> None:
    text = PIPELINE.replace("  name: s\n  connector: postgresql\n", "  id: S\n").replace(
        "  name: d\n  connector: snowflake\n", "  id: D\n"
    )
    assert [m for _, _, m, *_ in issues_of(text, ids=IDS)] == [
        "source: the source reference needs its name",
        "destination: the destination reference needs its name",
    ]
    text = PIPELINE.replace("  connector: postgresql\n", "").replace("  connector: snowflake\n", "")
    assert [m for _, _, m, *_ in issues_of(text, ids=IDS)] == [
        'source: source "s" is not in the project: its connector is not known',
        'destination: destination "d" is not in the project: its connector is not known',
    ]


def test_a_member_without_a_name_or_a_connector() -> None:
    text = PIPELINE.replace("  name: s\n  connector: postgresql\n", "  id: S\n  connector: x\n")
    assert issues_of(text, ids=IDS) == [
        ("envelope", "error", "source: the source reference needs its name", "/source", 3, 1, None)
    ]
    text = PIPELINE.replace("  connector: snowflake\n", "  id: D\n")
    assert issues_of(text, ids=IDS) == [
        (
            "envelope",
            "error",
            'destination: destination "d" is not in the project: its connector is not known',
            "/destination",
            7,
            1,
            "write connector: in the reference",
        )
    ]


def test_a_transform_acts_on_its_topics_or_on_every_topic_of_the_pipeline() -> None:
    body = pipeline(ids=IDS, topic_ids={("U", "b"): "own-b"})
    assert body["source"] == {
        "id": "S",
        "name": "s",
        "connector": "postgresql",
        "topics": ["a", "b"],
    }
    assert body["destination"] == {"id": "D", "name": "d", "connector": "snowflake"}
    assert [(t["id"], t["topic"], t["topic_id"]) for t in body["transforms"]] == [
        ("T", "a", "source_S.a"),
        ("T", "b", "source_S.b"),
        ("U", "b", "own-b"),
    ]
    assert body["topic_auto_discovery_transforms"] == []
    assert body["snapshot_new_tables"] is False and body["tags"] is None


def test_auto_discovery_tags_and_snapshot_new_tables_are_sent_as_written() -> None:
    text = PIPELINE + (
        "topic_auto_discovery_transforms:\n  - name: t\n    regex: 'x.*'\n"
        "  - name: u\n    regex: 'y'\n"
        "snapshot_new_tables: true\ntags: [tag-1]\n"
    )
    body = pipeline(text, ids=IDS)
    assert body["topic_auto_discovery_transforms"] == [
        {"transform_id": "T", "regex": "x.*"},
        {"transform_id": "U", "regex": "y"},
    ]
    assert body["snapshot_new_tables"] is True and body["tags"] == ["tag-1"]


def test_an_invalid_pipeline_raises_its_own_issues_and_a_bad_id_names_the_field() -> None:
    text = PIPELINE + "snapshot_new_tables: 'yes'\n"
    assert [(code, pointer) for code, _, _, pointer, *_ in issues_of(text, ids=IDS)] == [
        ("envelope", "/snapshot_new_tables")
    ]
    assert issues_of(PIPELINE, ids={**IDS, "source/s": 5, "destination/d": 6}) == [
        ("envelope", "error", "(document): not a valid CreatePipeline body: source.id, "
         "destination.id", "", None, None, None),
    ]  # fmt: skip


ENV = {"AWS_ACCESS_KEY_ID": "AKIA0000"}


def test_every_document_of_a_project_gets_its_body_with_the_project() -> None:
    """The project's own result is used for every kind, not only for pipelines."""
    here = os.getcwd()
    os.chdir(os.path.join(os.path.dirname(__file__), "..", "examples", "project"))
    try:
        project = validate_project(sorted(glob.glob("**/*.yaml", recursive=True)))
        ids = {
            "source/orders-postgres": "s1",
            "source/inventory-dynamodb": "s2",
            "destination/snowflake-prod": "d1",
            "destination/lake-s3": "d2",
            "transform/mask-pii": "t1",
        }
        built = {}
        for report in project.project:
            for doc, result in report.documents:
                body = build_payload(doc, project=project, ids=ids, environ=ENV, unset_secrets=True)
                built[doc.name] = (result.kind, type(body).__name__)
    finally:
        os.chdir(here)
    assert built == {
        "orders-postgres": ("source", "CreateSourceRequest"),
        "inventory-dynamodb": ("source", "CreateSourceRequest"),
        "snowflake-prod": ("destination", "CreateDestinationRequest"),
        "lake-s3": ("destination", "CreateDestinationRequest"),
        "mask-pii": ("transform", "CreateTransformRequest"),
        "orders-to-snowflake": ("pipeline", "CreatePipelineRequest"),
        "inventory-to-lake": ("pipeline", "CreatePipelineRequest"),
    }
