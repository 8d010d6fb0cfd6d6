"""A stateful emulator of the Streamkap API's objects on 127.0.0.1, for tests.

Sources, destinations, transforms and pipelines live in memory. It behaves as
DESIGN.md says the API does: lists are paged (``page``, ``page_size`` at most
100, ``has_next``) and filtered by ``partial_name`` (a substring); ``GET
/{kind}s/{id}`` answers ``{"result": [object]}``; a second object of one kind
with one name is a 409; ``config`` comes back with integers and booleans as
strings, secrets left out, and the definition's defaults filled in.

Faults on demand, consumed one per matching request from ``faults``
(``(method, kind)`` -> list) or by the number of the write (``fail_on``):
``"500-after-store"`` (the object is stored, then
a 500), ``"timeout-after-store"`` (stored, then no answer for
``slow_seconds``), ``"429"`` (``Retry-After: 0``), ``"500"``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httptest import JsonHandler, LocalServer, issue_token
from streamkap_config import bundled_schemas

TOKEN = "emulator-token"
CLIENT_ID, SECRET = "emulator-client", "emulator-client-secret-42"
KINDS = ("source", "destination", "transform", "pipeline")


def _echo(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """``config`` as the API echoes it: strings, no secrets, defaults filled in."""
    code = body.get("transform" if kind == "transform" else "connector")
    known = bundled_schemas(kind).get(code) if kind != "pipeline" else None
    props = {p.name: p for p in known.definition.properties} if known else {}
    config = {p.name: p.default for p in props.values() if p.has_default and not p.secret}
    for key, value in (body.get("config") or {}).items():
        prop = props.get(key)
        if prop is not None and prop.secret:
            continue  # never echoed
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, int):
            value = str(value)
        config[key] = value
    for key, value in list(config.items()):
        if isinstance(value, bool):
            config[key] = "true" if value else "false"
        elif isinstance(value, int):
            config[key] = str(value)
    return config


class Emulator(LocalServer):
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.faults: dict[tuple[str, str], list[str]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) in order
        self.slow_seconds = 2.0
        self.writes = 0  # POST and PUT requests so far
        self.tokens = {TOKEN}
        self.issued = 0
        self.revoke_after: int | None = None  # writes after which every token is revoked once
        self.fail_on: dict[int, str] = {}  # write number (from 1) -> fault
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        super().__init__(self._handler())

    def names(self, kind: str) -> list[str]:
        return sorted(o["name"] for o in self.objects[kind].values())

    def store(self, kind: str, body: dict[str, Any], ident: str | None = None) -> dict[str, Any]:
        ident = ident or f"{kind[:3]}-{next(self._ids)}"
        obj = {k: v for k, v in body.items() if k != "config"}
        obj["id"] = ident
        if kind != "pipeline":
            obj["config"] = _echo(kind, body)
        if kind in ("source", "destination"):
            obj.setdefault("connector_status", "Active")
        self.objects[kind][ident] = obj
        return obj

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(JsonHandler):
            def route(self) -> tuple[str | None, str | None, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                segments = [s for s in parts.path.split("/") if s]
                kind = segments[0][:-1] if segments and segments[0].endswith("s") else None
                ident = segments[1] if len(segments) > 1 else None
                return (kind if kind in KINDS else None), ident, parse_qs(parts.query)

            def fault(self, kind: str) -> str | None:
                with emulator.lock:
                    emulator.writes += 1
                    at = emulator.fail_on.pop(emulator.writes, None)
                    if at is not None:
                        return at
                    queue = emulator.faults.get((self.command, kind))
                    return queue.pop(0) if queue else None

            def authorised(self) -> bool:
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Bearer ") or auth[7:] not in emulator.tokens:
                    self.send_json(401, {"detail": "Not authenticated"})
                    return False
                return True

            def body(self) -> Any:
                length = int(self.headers.get("Content-Length", 0))
                return json.loads(self.rfile.read(length) or b"{}")

            def do_GET(self) -> None:
                kind, ident, query = self.route()
                emulator.requests.append(("GET", self.path))
                if kind is None:
                    self.send_json(404, {"detail": "not found"})
                    return
                if not self.authorised():
                    return
                if ident is not None:
                    obj = emulator.objects[kind].get(ident)
                    if obj is None:
                        self.send_json(404, {"detail": f"{kind} {ident} not found"})
                    else:
                        self.send_json(200, {"result": [obj]})
                    return
                page = int(query.get("page", ["1"])[0])
                size = min(100, int(query.get("page_size", ["10"])[0]))
                partial = query.get("partial_name", [""])[0]
                items = sorted(
                    (o for o in emulator.objects[kind].values() if partial in o["name"]),
                    key=lambda o: o["id"],
                )
                chunk = items[(page - 1) * size : page * size]
                self.send_json(
                    200,
                    {
                        "result": chunk,
                        "page": page,
                        "page_size": size,
                        "total": len(items),
                        "has_next": page * size < len(items),
                    },
                )

            def write(self, ident: str | None) -> None:
                kind, _, _ = self.route()
                emulator.requests.append((self.command, self.path))
                if kind is None:
                    self.send_json(404, {"detail": "not found"})
                    return
                if not self.authorised():
                    return
                body = self.body()
                fault = self.fault(kind)
                if fault == "429":
                    self.send_json(429, {"detail": "slow down"}, {"Retry-After": "0"})
                    return
                if fault == "500":
                    self.send_json(500, {"detail": "internal error"})
                    return
                with emulator.lock:
                    taken = [
                        o
                        for o in emulator.objects[kind].values()
                        if o["name"] == body.get("name") and o["id"] != ident
                    ]
                    if taken:
                        self.send_json(409, {"detail": f"{kind} {body.get('name')} already exists"})
                        return
                    if ident is not None and ident not in emulator.objects[kind]:
                        self.send_json(404, {"detail": f"{kind} {ident} not found"})
                        return
                    obj = emulator.store(kind, body, ident)
                    if (
                        emulator.revoke_after is not None
                        and emulator.writes >= emulator.revoke_after
                    ):
                        emulator.tokens.clear()  # the next request gets a 401, once
                        emulator.revoke_after = None
                if fault == "500-after-store":
                    self.send_json(500, {"detail": "internal error"})
                    return
                if fault == "timeout-after-store":
                    time.sleep(emulator.slow_seconds)
                self.send_json(200 if ident else 201, obj)

            def do_POST(self) -> None:
                if urlsplit(self.path).path == "/auth/access-token":
                    body = self.body()
                    if body.get("client_id") != CLIENT_ID or body.get("secret") != SECRET:
                        self.send_json(401, {"detail": "bad credentials"})
                        return
                    token = issue_token(emulator)
                    self.send_json(200, {"accessToken": token, "expiresIn": 3600})
                    return
                self.write(None)

            def do_PUT(self) -> None:
                _, ident, _ = self.route()
                self.write(ident)

        return Handler


@contextmanager
def running() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator
