"""Listing and object paths against servers on 127.0.0.1 that answer as the backend does,
and as a broken one might: no ``has_next``, a ``total`` that lies, a capped page size,
a page repeated without end, ids that would walk the path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import streamkap_config.remote.client as client_module
from httptest import JsonHandler, LocalServer
from streamkap_config.core.errors import ApiError, StreamkapConfigError
from streamkap_config.remote.client import StreamkapClient

Pages = Callable[[int, int], tuple[list[dict[str, Any]], dict[str, Any]]]


def source(n: int, name: str | None = None) -> dict[str, Any]:
    return {"id": f"s{n}", "name": name or f"orders-{n}", "connector": "postgresql"}


class Server(LocalServer):
    """Answers ``GET /sources`` from ``pages(page, page_size)``, anything else with 404."""

    def __init__(self, pages: Pages) -> None:
        self.paths: list[str] = []
        server = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                if parts.path != "/sources":
                    self.send_json(404, {"detail": f"Source not found: {parts.path[9:]}"})
                    return
                page = int(query["page"][0])
                size = int(query["page_size"][0])
                items, extra = pages(page, size)
                self.send_json(200, {"result": items, "page": page, **extra})

            do_PUT = do_GET

        super().__init__(Handler)


def client_of(server: Server) -> StreamkapClient:
    return StreamkapClient(server.url, token="t", backoff=0.01, retries=0)


def listing(objects: list[dict[str, Any]], total: int | None = None, cap: int = 100) -> Pages:
    def pages(page: int, size: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        size = min(size, cap)
        chunk = objects[(page - 1) * size : page * size]
        return chunk, {"page_size": size, "total": len(objects) if total is None else total}

    return pages


def test_every_page_is_read_to_a_short_page_whatever_total_says():
    objects = [source(n) for n in range(250)]
    with Server(listing(objects, total=5)) as server, client_of(server) as client:
        assert [o.id for o in client.list("source")] == [o["id"] for o in objects]
        assert len(server.paths) == 3  # 100, 100, 50: the short page ends it
        assert all("page_size=100" in p for p in server.paths)


def test_a_full_last_page_costs_one_empty_page_more():
    with Server(listing([source(n) for n in range(200)])) as server, client_of(server) as client:
        assert len(client.list("source")) == 200
        assert len(server.paths) == 3


def test_a_server_that_caps_the_page_size_is_read_at_its_own_size():
    objects = [source(n) for n in range(25)]
    with Server(listing(objects, cap=10)) as server, client_of(server) as client:
        assert len(client.list("source")) == 25
        assert len(server.paths) == 3  # 10, 10, 5 (a page of 10 is not short at size 10)


def test_the_exact_name_is_kept_from_any_page_and_only_it():
    objects = [source(n, f"orders-{n}") for n in range(120)] + [source(999, "orders")]
    with Server(listing(objects)) as server, client_of(server) as client:
        (found,) = client.list("source", "orders")
        assert found.id == "s999"
        assert all("partial_name=orders" in p for p in server.paths)


def test_a_server_that_repeats_a_page_is_stopped_not_read_forever():
    def same_page(page: int, size: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return [source(n) for n in range(size)], {"page_size": size}

    with Server(same_page) as server, client_of(server) as client:
        with pytest.raises(ApiError, match="page 2 repeats an earlier page"):
            client.list("source")
        assert len(server.paths) == 2


def test_a_listing_past_the_page_cap_fails_rather_than_truncating(monkeypatch):
    monkeypatch.setattr(client_module, "MAX_PAGES", 5)

    def endless(page: int, size: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return [source(page * 1000 + n) for n in range(size)], {"page_size": size}

    with Server(endless) as server, client_of(server) as client:
        with pytest.raises(ApiError, match="more than 5 pages of sources; refused"):
            client.list("source")
        assert len(server.paths) == 5


@pytest.mark.parametrize(
    ("ident", "path"),
    [
        ("../../admin/delete?all=1#", "/sources/..%2F..%2Fadmin%2Fdelete%3Fall%3D1%23"),
        ("a\nb", "/sources/a%0Ab"),
        ("a\x1b[2Jb", "/sources/a%1B%5B2Jb"),
        ("src 1", "/sources/src%201"),
    ],
)
def test_ids_are_one_percent_encoded_path_segment(ident, path):
    with Server(listing([])) as server, client_of(server) as client:
        with pytest.raises(ApiError) as caught:
            client.get("source", ident)
        assert caught.value.status == 404
        assert server.paths == [path]
        assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


@pytest.mark.parametrize("ident", ["", " ", ".", "..", None])
def test_an_id_that_names_no_one_object_is_refused_before_any_request(ident):
    with Server(listing([])) as server, client_of(server) as client:
        for call in (
            lambda: client.get("source", ident),
            lambda: client.update("source", ident, {"name": "x"}),
            lambda: client.update("transform", ident, {"name": "x"}),
            lambda: client.delete("pipeline", ident),
            lambda: client.delete("transform", ident),
        ):
            with pytest.raises(StreamkapConfigError, match="refused an object id"):
                call()
        assert server.paths == []
