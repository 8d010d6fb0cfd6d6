"""Kinds: dispatch, kind-mismatch both ways, the transform body, map-valued keys,
set-once in update mode, and destination pulls. The laws of test_validate run over
every bundled connector of every kind; these pin the behaviours one at a time."""

from __future__ import annotations

import json

import pytest

from apiserver import ApiServer
from streamkap_config import (
    ConfigValidationError,
    CreateDestinationRequest,
    CreateTransformRequest,
    SchemaCache,
    build_payload,
    bundled_schemas,
    validate_destination,
    validate_document,
    validate_source,
    validate_transform,
)
from streamkap_config.loaders import load_text
from streamkap_config.remote.client import StreamkapClient

SNOWFLAKE = {
    "kind": "destination",
    "name": "wh",
    "connector": "snowflake",
    "config": {
        "snowflake": {
            "url.name": "acme.snowflakecomputing.com",
            "user.name": "U",
            "private.key": "${env:SF_KEY}",
            "database.name": "DB",
            "schema.name": "S",
        }
    },
}
PG_DEST = {
    "kind": "destination",
    "name": "pg-out",
    "connector": "postgresql",
    "config": {
        "database.hostname": "db",
        "database.database": "d",
        "connection.username": "u",
        "connection.password": "${env:P}",
        "table.name.prefix": "sk_",
    },
}


def issues(result):
    return [(i.code, i.pointer) for i in result.issues]


def test_the_kind_decides_which_connector_a_shared_code_means():
    # postgresql is both a source and a destination, with different keys.
    assert validate_document(PG_DEST).ok
    as_source = validate_document({**PG_DEST, "kind": "source"})
    assert ("unknown-key", "/config/connection.username") in issues(as_source)
    assert validate_destination({k: v for k, v in PG_DEST.items() if k != "kind"}).ok


def test_a_code_of_another_kind_is_kind_mismatch_both_ways():
    source = validate_document({"name": "a", "connector": "snowflake", "config": {}})
    (issue,) = source.issues
    assert (issue.code, issue.pointer) == ("kind-mismatch", "/connector")
    assert (
        issue.message == "connector: snowflake is a destination connector, not a source connector"
    )
    assert issue.hint == "set kind: destination"
    dest = validate_document(
        {"kind": "destination", "name": "a", "connector": "dynamodb", "config": {}}
    )
    assert issues(dest) == [("kind-mismatch", "/connector")]
    assert dest.issues[0].hint == "set kind: source"
    transform = validate_document({"name": "a", "connector": "map_filter", "config": {}})
    assert transform.issues[0].hint == "set kind: transform and write transform: map_filter"


def test_a_document_in_the_list_of_another_kind_is_kind_mismatch():
    text = (
        "sources:\n  - kind: destination\n    name: w\n    connector: snowflake\n    config: {}\n"
    )
    (doc,) = load_text(text, "f.yaml").documents
    result = validate_document(doc)
    assert ("kind-mismatch", "/sources/0/kind") in issues(result)
    assert result.kind == "source"


def test_an_unknown_kind_is_an_envelope_error_with_a_suggestion():
    result = validate_document({"kind": "destinaton", "name": "a", "connector": "s3", "config": {}})
    (issue,) = [i for i in result.issues if i.pointer == "/kind"]
    assert issue.code == "envelope" and issue.hint == 'did you mean "destination"?'


def test_fixed_kind_conveniences_refuse_a_document_of_another_kind():
    assert issues(validate_source(SNOWFLAKE))[0] == ("kind-mismatch", "/kind")
    assert validate_destination(SNOWFLAKE).kind == "destination"


def test_the_transform_body_names_its_type_in_transform():
    doc = {"kind": "transform", "name": "t", "transform": "map_filter", "config": {}}
    body = build_payload(doc)
    assert isinstance(body, CreateTransformRequest)
    assert body.model_dump(mode="json", exclude_none=True) == {
        "transform": "map_filter",
        "name": "t",
        "config": {},
    }
    wrong = validate_transform({"name": "t", "connector": "map_filter", "config": {}})
    assert ("envelope", "/connector") in issues(wrong)
    assert any("transform:" in (i.hint or "") for i in wrong.issues)
    # Fields of other kinds' bodies are not a transform's.
    extra = validate_transform({**doc, "created_from": "api"})
    assert issues(extra) == [("envelope", "/created_from")]


def test_a_destination_body_has_no_desired_state_and_never_sends_kind():
    body = build_payload(SNOWFLAKE, environ={"SF_KEY": "k"})
    assert isinstance(body, CreateDestinationRequest)
    dumped = body.model_dump(mode="json", exclude_none=True)
    assert "kind" not in dumped and dumped["created_from"] == "api"
    assert issues(validate_document({**SNOWFLAKE, "desired_state": "Active"})) == [
        ("envelope", "/desired_state")
    ]


def test_a_map_valued_key_takes_a_mapping_as_its_value():
    cfg = {**SNOWFLAKE["config"], "auto.qa.dedupe.table.mapping": {"raw": "schema.dedupe"}}
    body = build_payload({**SNOWFLAKE, "config": cfg}, environ={"SF_KEY": "k"})
    assert body.config["auto.qa.dedupe.table.mapping"] == {"raw": "schema.dedupe"}
    bad = validate_document({**SNOWFLAKE, "config": {**cfg, "auto.qa.dedupe.table.mapping": "raw"}})
    assert issues(bad) == [("type", "/config/auto.qa.dedupe.table.mapping")]
    nested = {**cfg, "auto.qa.dedupe.table.mapping": {"raw": {"not": "a string"}}}
    assert issues(validate_document({**SNOWFLAKE, "config": nested})) == [
        ("type", "/config/auto.qa.dedupe.table.mapping")
    ]


CLICKHOUSE = {
    "kind": "destination",
    "name": "ch",
    "connector": "clickhouse",
    "config": {
        "hostname": "h",
        "connection.username": "u",
        "connection.password": "${env:P}",
        "database": "d",
    },
}


def test_a_json_string_map_is_sent_json_encoded():
    cfg = {**CLICKHOUSE["config"], "topics.config.map": {"orders": {"chunks": 4}}}
    body = build_payload({**CLICKHOUSE, "config": cfg}, environ={"P": "p"})
    sent = body.config["topics.config.map"]
    assert isinstance(sent, str) and json.loads(sent) == {"orders": {"chunks": 4}}
    # Written as JSON text already: accepted leniently, refused with --strict.
    as_text = {**cfg, "topics.config.map": '{"orders": {"chunks": 4}}'}
    assert validate_document({**CLICKHOUSE, "config": as_text}).ok
    strict = validate_document({**CLICKHOUSE, "config": as_text}, strict=True)
    assert issues(strict) == [("type", "/config/topics.config.map")]
    not_json = {**cfg, "topics.config.map": "{orders"}
    assert issues(validate_document({**CLICKHOUSE, "config": not_json})) == [
        ("type", "/config/topics.config.map")
    ]


def test_multi_select_lists_with_and_without_allowed_values():
    s3 = {
        "kind": "destination",
        "name": "l",
        "connector": "s3",
        "config": {
            "aws.access.key.id": "a",
            "aws.secret.access.key": "${env:S}",
            "aws.s3.bucket.name": "b",
            "format.output.fields": ["key", "value"],
        },
    }
    assert validate_document(s3).ok  # no raw_values: any strings
    s3["config"]["format.output.fields"] = "key, value"  # comma-separated, leniently
    assert validate_document(s3).payload.config["format.output.fields.user.defined"] == [
        "key",
        "value",
    ]
    s3["config"]["format.output.fields"] = [1]
    assert issues(validate_document(s3)) == [("type", "/config/format.output.fields")]


def test_destination_set_once_keys_are_refused_in_update_mode():
    cfg = {**SNOWFLAKE["config"], "ingestion.mode": "upsert"}
    doc = {**SNOWFLAKE, "config": cfg}
    assert validate_document(doc).ok
    update = validate_document(doc, mode="update")
    assert issues(update) == [("set-once", "/config/ingestion.mode")]
    assert "when the destination is created" in update.issues[0].message


@pytest.mark.parametrize(("kind", "doc"), [("destination", PG_DEST)])
def test_ssh_host_is_required_only_while_ssh_is_enabled_for_destinations(kind, doc):
    on = {**doc, "config": {**doc["config"], "ssh.enabled": True}}
    assert [(i.code, i.key) for i in validate_document(on).issues] == [("required", "ssh.host")]
    off = {**doc, "config": {**doc["config"], "ssh.enabled": False}}
    assert validate_document(off).ok
    with_host = {**doc, "config": {**on["config"], "ssh.host": "bastion"}}
    assert validate_document(with_host).ok


def test_an_unset_reference_in_a_destination_fails_the_payload():
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(SNOWFLAKE, environ={})
    assert [i.code for i in caught.value.issues] == ["unresolved-secret"]


def test_destinations_are_pulled_from_their_own_endpoint_with_etags(tmp_path):
    with ApiServer() as server:
        server.change("snowflake", "a newer snowflake", kind="destination")
        client = StreamkapClient(server.url, token="static-token")
        cache = SchemaCache(tmp_path).for_kind("destination")
        (first,) = cache.pull(["snowflake"], client=client)
        assert first.status == "updated"
        assert cache.get("snowflake").origin == "cache"
        assert cache.get("snowflake").version != bundled_schemas("destination")["snowflake"].version
        # The source of the same code is untouched by a destination pull.
        assert cache.for_kind("source").get("postgresql").origin == "bundled"
        (second,) = cache.pull(["snowflake"], client=client)
        assert second.status == "unchanged"
        assert server.requests["destination:snowflake"] == 2
        last = server.seen_headers[-1]
        assert last.get("If-None-Match") == f'"{first.version}"'
        assert (tmp_path / "destinations" / "snowflake" / "current.json").is_file()
        client.close()


def test_transforms_are_bundled_only(tmp_path):
    from streamkap_config.core.errors import CacheError

    with pytest.raises(CacheError, match="bundled only"):
        SchemaCache(tmp_path).for_kind("transform").pull(["map_filter"])
