"""The body models: masking, equality, bodies built by hand, references in the envelope."""

from __future__ import annotations

import json

import pytest

from streamkap_config import (
    ConfigValidationError,
    CreateDestinationRequest,
    CreateSourceRequest,
    CreateTransformRequest,
    build_payload,
)
from streamkap_config.deploy.payload import MASK, make_body


def test_a_body_built_by_hand_masks_the_connectors_secrets_and_secret_looking_keys():
    body = CreateSourceRequest(
        name="n",
        connector="postgresql",
        config={"database.password": "hunter2", "x.api.key": "k-123", "database.user": "u"},
    )
    shown = body.masked_dump()["config"]
    assert shown == {"database.password": MASK, "x.api.key": MASK, "database.user": "u"}
    assert "hunter2" not in repr(body) and "k-123" not in str(body)
    unknown = CreateDestinationRequest(name="n", connector="nope", config={"token": "t-1"})
    assert unknown.masked_dump()["config"] == {"token": MASK}
    assert unknown.code == "nope"
    transform = CreateTransformRequest(transform="map_filter", name="t", config={})
    assert transform.code == "map_filter"


def test_equality_ignores_presentation_and_compares_kinds():
    a = CreateSourceRequest(name="n", connector="s3", config={"format": "json"})
    b = CreateSourceRequest(name="n", connector="s3", config={"format": "json"})
    assert a == b.with_secret_keys(frozenset({"format"}))
    d = CreateDestinationRequest(name="n", connector="s3", config={"format": "json"})
    assert a != d
    assert a != {"name": "n"}


def test_a_body_the_model_refuses_names_the_field_never_the_value():
    with pytest.raises(ConfigValidationError) as caught:
        make_body(
            "source", {"name": "n", "connector": "s3", "config": {}, "tags": [1]}, frozenset()
        )
    (issue,) = caught.value.issues
    assert issue.code == "envelope" and "tags.0" in issue.message
    assert "CreateSource body" in issue.message


def test_references_in_the_envelope_are_resolved_and_masked():
    doc = {
        "name": "orders",
        "connector": "kafkadirect",
        "kc_cluster_id": "${env:CLUSTER}",
        "tags": ["${env:TAG}"],
        "config": {"topic.prefix": "p", "topic.include.list": "t"},
    }
    body = build_payload(doc, environ={"TAG": "tag-prod", "CLUSTER": "kc-9"})
    sent = body.model_dump(mode="json", exclude_none=True)
    assert sent["tags"] == ["tag-prod"] and sent["kc_cluster_id"] == "kc-9"
    shown = body.masked_dump()
    assert shown["tags"] == MASK and shown["kc_cluster_id"] == MASK
    assert "kc-9" not in repr(body)
    assert "prod" not in json.dumps(shown)
    assert body.hidden_values() == {"kc-9", "tag-prod"}


def test_a_reference_in_a_name_is_refused_not_resolved():
    config = {"topic.prefix": "p", "topic.include.list": "t"}
    doc = {"name": "orders-${env:STAGE}", "connector": "kafkadirect", "config": config}
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(doc, environ={"STAGE": "prod"})
    assert [(i.code, i.pointer) for i in caught.value.issues] == [("envelope", "/name")]


def test_an_envelope_reference_resolving_to_nothing_fails_the_model():
    config = {"topic.prefix": "p", "topic.include.list": "t"}
    doc = {
        "name": "n",
        "kc_cluster_id": "${env:EMPTY}",
        "connector": "kafkadirect",
        "config": config,
    }
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(doc, environ={"EMPTY": ""})
    assert [i.code for i in caught.value.issues] == ["envelope"]


def test_a_bare_config_has_no_body_to_build():
    from streamkap_config.core.document import Document

    config = {"topic.prefix": "p", "topic.include.list": "t"}
    doc = Document(data=config, bare=True, connector="kafkadirect")
    with pytest.raises(ConfigValidationError, match="needs a whole body"):
        build_payload(doc)
