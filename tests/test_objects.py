"""The typed client for sources, destinations, transforms and pipelines, against the
stateful emulator of the API (tests/emulator.py) on 127.0.0.1."""

from __future__ import annotations

import pytest

from emulator import DEVELOPMENT_TAG, TOKEN, running
from streamkap_config.core.errors import ApiError
from streamkap_config.remote.client import StreamkapClient
from streamkap_config.remote.resources import Destination, Pipeline, Source, unwrap

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
    # The API echoes numbers as strings, never echoes secrets, fills in defaults and
    # placeholders, attaches its Development tag; a write's status is transient.
    assert created.config["database.port.user.defined"] == "5432"
    assert "database.password" not in created.config
    assert created.config["snapshot.read.only.user.defined"] == "Yes"
    assert created.config["ssh.public.key.user.displayed"] == "<SSH.PUBLIC.KEY>"
    assert created.tags == [DEVELOPMENT_TAG] and created.connector_status == "Pending"
    again = client.get("source", created.id)
    assert again.connector_status == "Active"
    assert again.model_copy(update={"connector_status": "Pending", "task_statuses": {}}) == created
    renamed = client.update("source", created.id, {**SOURCE, "tags": ["t1"]})
    assert renamed.tags == ["t1"] and renamed.id == created.id
    assert renamed.connector_status == "Pending Update"
    kept = client.update("source", created.id, SOURCE)  # no tags: the backend keeps them
    assert kept.tags == ["t1"]
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
    # A write's answer names the topics by their ids; a read by their names.
    assert pipe.source.topics == [f"source_{created.id}.public.orders"]
    assert pipe.pretty_topics() == ["public.orders"]
    assert [o.source.topics for o in client.list("pipeline")] == [["public.orders"]]


def test_list_reads_every_page_and_keeps_exact_names_only(api):
    emulator, client = api
    for n in range(23):
        emulator.seed("source", {**SOURCE, "name": f"orders-{n}"})
    emulator.seed("source", {**SOURCE, "name": "orders"})
    everything = client.list("source", page_size=10)
    assert len(everything) == 24
    gets = [path for method, path in emulator.requests if method == "GET"]
    assert sum("page=3" in p for p in gets) == 1  # three pages of ten
    # partial_name is a substring filter: "orders" matches all 24, one is exactly it.
    assert [o.name for o in client.list("source", "orders")] == ["orders"]
    assert client.list("source", "nobody") == []


@pytest.mark.parametrize("status", [422, 409])
def test_a_duplicate_name_is_refused_in_the_apis_words(api, status):
    emulator, client = api
    emulator.duplicate_status = status
    client.create("source", SOURCE)
    with pytest.raises(ApiError) as caught:
        client.create("source", SOURCE)
    assert caught.value.status == status and caught.value.already_exists
    assert caught.value.detail == "Validation error: A source with name 'orders' already exists"
    assert str(caught.value).endswith(
        ": Validation error: A source with name 'orders' already exists"
    )
    assert "{" not in str(caught.value)  # the API's words, not a Python repr of its body


def test_the_emulator_refuses_what_the_backend_refuses(api):
    emulator, client = api
    src = client.create("source", SOURCE)
    refusals = {
        "an unknown field": ("source", {**SOURCE, "name": "x", "colour": "red"}, "colour"),
        "an unknown connector": ("source", {**SOURCE, "name": "y", "connector": "nope"}, "nope"),
        "a port out of range": (
            "source",
            {
                **SOURCE,
                "name": "z",
                "config": {**SOURCE["config"], "database.port.user.defined": 70000},
            },
            "'database.port.user.defined' must be between 1 and 65535",
        ),
        "a transform entry without topic_id": (
            "pipeline",
            {
                "name": "p",
                "source": {
                    "id": src.id,
                    "name": "orders",
                    "connector": "postgresql",
                    "topics": ["public.orders"],
                },
                "destination": {"id": src.id, "name": "orders", "connector": "postgresql"},
                "transforms": [{"id": "t", "name": "t", "topics": ["public.orders"]}],
                "snapshot_new_tables": True,
            },
            "transforms.0.topic_id field required",
        ),
    }
    for what, (kind, body, said) in refusals.items():
        with pytest.raises(ApiError) as caught:
            client.create(kind, body)
        assert caught.value.status == 422, what
        assert said in str(caught.value), what
    with pytest.raises(ApiError) as caught:
        client.get("destination", "nope")
    assert caught.value.status == 404 and "Destination not found: nope" in str(caught.value)
    assert [o.name for o in client.list("source", page_size=100_000)] == ["orders"]  # asks 100
    with pytest.raises(ApiError) as caught:
        client._call("GET", "/sources", {"page_size": "101"})
    assert caught.value.status == 422
    assert emulator.names("source") == ["orders"]


def test_a_put_without_the_secret_breaks_the_connector(api):
    """The backend replaces the config: a body without the password loses it."""
    _, client = api
    created = client.create("source", SOURCE)
    without = {
        **SOURCE,
        "config": {k: v for k, v in SOURCE["config"].items() if "password" not in k},
    }
    client.update("source", created.id, without)
    assert client.get("source", created.id).connector_status == "Broken"
    client.update("source", created.id, SOURCE)
    assert client.get("source", created.id).connector_status == "Active"


def test_transforms_are_updated_and_deleted_where_the_backend_wants_them(api):
    emulator, client = api
    body = {"transform": "map_filter", "name": "t", "config": {"transforms.language": "JavaScript"}}
    created = client.create("transform", body)
    client.update("transform", created.id, {**body, "config": {"transforms.language": "Python"}})
    assert client.get("transform", created.id).config["transforms.language"] == "Python"
    client.delete("transform", created.id)
    assert emulator.objects["transform"] == {}
    writes = [(m, p.split("?")[0]) for m, p in emulator.requests if m != "GET"]
    assert writes == [("POST", "/transforms"), ("PUT", "/transforms"), ("DELETE", "/transforms")]
    assert ("GET", f"/transforms/{created.id}?unwind_topics=false") in emulator.requests
    (put,) = [b for m, _, b in emulator.bodies if m == "PUT"]
    assert put["id"] == created.id
    # The path the other kinds use is refused for transforms.
    with pytest.raises(ApiError) as caught:
        client._call("PUT", f"/transforms/{created.id}", None, body)
    assert caught.value.status == 405


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
    from streamkap_config.core.errors import StreamkapConfigError

    with pytest.raises(StreamkapConfigError, match="unknown kind"):
        client.list("widget")
    emulator.objects["source"]["broken"] = {"id": "broken"}  # no name, no connector
    with pytest.raises(ApiError, match="unexpected source"):
        client.get("source", "broken")
