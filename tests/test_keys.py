from __future__ import annotations

from streamkap_config import bundled_schemas, validate_source
from streamkap_config.validation.keys import KeyIndex, flatten


def index(code: str = "postgresql") -> KeyIndex:
    return KeyIndex.for_definition(bundled_schemas()[code].definition)


def test_resolution_order_and_forms():
    i = index()
    assert i.resolve("database.hostname.user.defined") == "database.hostname.user.defined"
    assert i.resolve("database.hostname") == "database.hostname.user.defined"
    assert i.resolve("database.user.user.defined") == "database.user"
    assert i.resolve("database_hostname") == "database.hostname.user.defined"
    assert i.resolve("insert_static_key_field_1") == "transforms.InsertStaticKey1.static.field"
    assert i.resolve("Database.Hostname") is None  # keys are case-sensitive


def test_suggestions_are_close_and_one_per_key():
    i = index()
    found = i.suggest("databse.user")
    assert found[0] == "database.user" and len(found) <= 3
    assert len({i.resolve(s) for s in found}) == len(found)
    assert i.suggest("zzzzzz") == []


def test_flatten_keeps_document_order_and_paths():
    entries = flatten(
        {"database": {"port": 1, "hostname": "h"}, "ssh.enabled": True}, index(), ("config",)
    )
    assert entries == [
        ("database.port", ("config", "database", "port"), 1),
        ("database.hostname", ("config", "database", "hostname"), "h"),
        ("ssh.enabled", ("config", "ssh.enabled"), True),
    ]


def test_elasticsearch_prefix_keys():
    # http.auth.user and http.auth.user.defined both exist: each form stays distinct.
    i = index("elasticsearch")
    assert i.resolve("http.auth.user") == "http.auth.user"
    assert i.resolve("http.auth") == "http.auth.user.defined"
    entries = flatten({"http": {"auth": {"user": "u"}}}, i)
    assert [e[0] for e in entries] == ["http.auth.user"]


def test_a_mapping_that_contains_itself_does_not_recurse_forever():
    loop: dict = {}
    loop["database"] = loop
    result = validate_source({"name": "n", "connector": "postgresql", "config": loop})
    assert not result.ok
    assert {i.code for i in result.issues} >= {"unknown-key"}
