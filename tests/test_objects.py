"""The typed client for sources, destinations, transforms and pipelines, against the
stateful emulator of the API (tests/emulator.py) on 127.0.0.1."""

from __future__ import annotations

import pytest

from emulator import TOKEN, running
from streamkap_config.client import StreamkapClient
from streamkap_config.errors import ApiError
from streamkap_config.resources import Destination, Pipeline, Source, unwrap

SOURCE = {
    "name": "orders",
    "connector": "postgresql",
    "config": {
        "database.hostname.user.defined": "db",
        "database.port.user.defined": 5432,
        "database.user": "u",
        "database.password": "hunter2",
        "database.dbname": "d",
        "schema.include.list": "public",
        "table.include.list.user.defined": "public.orders",
    },
    "created_from": "api",
}


@pytest.fixture
def api():
    with running() as emulator:
        client = StreamkapClient(emulator.url, token=TOKEN, backoff=0.01, timeout=0.5)
        yield emulator, client
        client.close()


def test_create_get_update_list_one_object_of_each_kind(api):
    _, client = api
    created = client.create("source", SOURCE)
    assert isinstance(created, Source) and created.id and created.connector == "postgresql"
    # The API echoes numbers as strings, never echoes secrets, fills in defaults.
    assert created.config["database.port.user.defined"] == "5432"
    assert "database.password" not in created.config
    assert created.config["snapshot.read.only.user.defined"] == "Yes"
    again = client.get("source", created.id)
    assert again == created
    renamed = client.update("source", created.id, {**SOURCE, "tags": ["t1"]})
    assert renamed.tags == ["t1"] and renamed.id == created.id
    dest = client.create("destination", {"name": "wh", "connector": "snowflake", "config": {}})
    assert isinstance(dest, Destination)
    pipe = client.create(
        "pipeline",
        {
            "name": "p",
            "source": {
                "id": created.id,
                "name": "orders",
                "connector": "postgresql",
                "topics": ["public.orders"],
            },
            "destination": {"id": dest.id, "name": "wh", "connector": "snowflake"},
            "transforms": [],
            "snapshot_new_tables": True,
        },
    )
    assert isinstance(pipe, Pipeline) and pipe.source.id == created.id
    assert [o.name for o in client.list("pipeline")] == ["p"]


def test_list_reads_every_page_and_keeps_exact_names_only(api):
    emulator, client = api
    for n in range(23):
        emulator.store("source", {**SOURCE, "name": f"orders-{n}"})
    emulator.store("source", {**SOURCE, "name": "orders"})
    everything = client.list("source", page_size=10)
    assert len(everything) == 24
    gets = [path for method, path in emulator.requests if method == "GET"]
    assert sum("page=3" in p for p in gets) == 1  # three pages of ten
    # partial_name is a substring filter: "orders" matches all 24, one is exactly it.
    assert [o.name for o in client.list("source", "orders")] == ["orders"]
    assert client.list("source", "nobody") == []


def test_a_duplicate_name_is_a_409(api):
    _, client = api
    client.create("source", SOURCE)
    with pytest.raises(ApiError) as caught:
        client.create("source", SOURCE)
    assert caught.value.status == 409


def test_a_create_is_never_sent_twice_after_a_server_error(api):
    emulator, client = api
    emulator.faults[("POST", "source")] = ["500-after-store"]
    with pytest.raises(ApiError) as caught:
        client.create("source", SOURCE)
    assert caught.value.status == 500
    assert [m for m, _ in emulator.requests].count("POST") == 1
    assert emulator.names("source") == ["orders"]  # it happened: look it up, do not resend


def test_a_create_that_times_out_is_not_resent(api):
    emulator, client = api
    emulator.faults[("POST", "source")] = ["timeout-after-store"]
    emulator.slow_seconds = 1.0
    with pytest.raises(ApiError, match="timed out"):
        client.create("source", SOURCE)
    assert [m for m, _ in emulator.requests].count("POST") == 1


def test_a_rate_limited_create_is_retried(api):
    emulator, client = api
    emulator.faults[("POST", "source")] = ["429"]
    assert client.create("source", SOURCE).name == "orders"
    assert [m for m, _ in emulator.requests].count("POST") == 2


def test_an_update_is_retried_after_a_server_error(api):
    emulator, client = api
    created = client.create("source", SOURCE)
    emulator.faults[("PUT", "source")] = ["500"]
    assert client.update("source", created.id, SOURCE).id == created.id


def test_answers_are_read_tolerantly():
    assert unwrap({"result": [{"id": "a"}]}) == {"id": "a"}
    assert unwrap({"id": "a"}) == {"id": "a"}
    source = Source.model_validate(
        {"id": "s", "name": "n", "connector": "c", "brand_new_field": 1, "connector_status": "X"}
    )
    assert source.connector_status == "X" and source.config == {}


def test_an_unknown_kind_or_a_malformed_answer_is_an_error(api):
    emulator, client = api
    from streamkap_config.errors import StreamkapConfigError

    with pytest.raises(StreamkapConfigError, match="unknown kind"):
        client.list("widget")
    emulator.objects["source"]["broken"] = {"id": "broken"}  # no name, no connector
    with pytest.raises(ApiError, match="unexpected source"):
        client.get("source", "broken")
