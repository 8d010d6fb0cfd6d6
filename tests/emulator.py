"""A strict, stateful emulator of the Streamkap API's objects on 127.0.0.1, for tests.

It behaves as DESIGN.md §1 "What the backend really does" says the live backend
does (learned from the public Terraform provider), quirks included, and it
refuses what that backend refuses:

- Paths: ``/sources``, ``/destinations``, ``/pipelines`` with ``/{kind}s/{id}``
  for reads, updates and deletes; transforms read at ``/transforms/{id}``,
  updated with ``PUT /transforms`` (id in the body) and deleted with
  ``DELETE /transforms?id=``. ``PUT /transforms/{id}`` is a 405.
- Lists: ``{total, page_size, page, result}``, no ``has_next``; ``page_size``
  defaults to 10, more than 100 is a 422; ``partial_name`` is a
  case-insensitive substring filter.
- Errors: ``{"detail": "..."}``; a body of the wrong shape is a FastAPI 422
  (``{"detail": [{"loc": [...], "msg": ...}]}``); a duplicate name is a 422
  ``Validation error: A source with name 'x' already exists`` (409 with
  ``duplicate_status``); an unknown id is a 404 ``Source not found: <id>``.
- Bodies: unknown top-level fields, unknown connectors, unknown config keys,
  numbers out of range, pipelines whose transforms are not one entry per
  (transform, topic) with a ``topic_id`` are refused.
- Echoes: every config scalar comes back as a string, defaults are filled in,
  ``.user.displayed`` keys hold a placeholder (``<SSH.PUBLIC.KEY>``), secrets
  come back absent (``secret_returned=false``) or ``null`` when none is stored.
  A write answers with a transient ``connector_status`` (``Pending``,
  ``Pending Update``); the next read settles it (``Active``, or ``Broken``).
- A ``PUT`` replaces the config: one without a secret the connector had
  loses it, and the connector is ``Broken``.
- Tags: a create without ``tags`` gets the Development tag; on a ``PUT``, no
  ``tags`` keeps them, ``[]`` clears them.
- A pipeline's create and update answers give ``source.topics`` as
  ``source_<source id>.<topic>``; reads give the pretty names.

Faults on demand, consumed one per matching request from ``faults``
(``(method, kind)`` -> list) or by the number of the write (``fail_on``):
``"500-after-store"`` (the object is stored, then a 500),
``"timeout-after-store"`` (stored, then no answer for ``slow_seconds``),
``"429"`` (``Retry-After: 0``), ``"429-slow"`` (``Retry-After: 1``), ``"500"``,
``"502-html"`` (a proxy's page), ``"400-echo"`` and ``"422-echo"`` (a refusal quoting
the config it was sent).
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
from urllib.parse import parse_qs, unquote, urlsplit

from httptest import JsonHandler, LocalServer, issue_token
from streamkap_config import bundled_schemas

TOKEN = "emulator-token"
CLIENT_ID, SECRET = "emulator-client", "emulator-client-secret-42"
KINDS = ("source", "destination", "transform", "pipeline")
DEVELOPMENT_TAG = "670e5ca40afe1d3983ce0c22"
FIELDS = {
    "source": {
        "name",
        "connector",
        "config",
        "created_from",
        "desired_state",
        "kc_cluster_id",
        "tags",
    },
    "destination": {"name", "connector", "config", "created_from", "kc_cluster_id", "tags"},
    "transform": {"transform", "name", "config", "tags"},
    "pipeline": {
        "name",
        "source",
        "destination",
        "transforms",
        "topic_auto_discovery_transforms",
        "snapshot_new_tables",
        "tags",
    },
}
REQUIRED = {
    "source": ("name", "connector", "config"),
    "destination": ("name", "connector", "config"),
    "transform": ("transform", "name", "config"),
    "pipeline": ("name", "source", "destination"),
}
_SHAPES = {  # a pipeline's nested objects: field -> (required keys, allowed keys)
    "source": ({"id", "name", "connector", "topics"}, {"id", "name", "connector", "topics"}),
    "destination": ({"id", "name", "connector"}, {"id", "name", "connector"}),
    "transforms": (
        {"id", "name", "topic_id", "topic"},
        {"id", "name", "start_time", "topic_id", "topic"},
    ),
    "topic_auto_discovery_transforms": ({"transform_id", "regex"}, {"transform_id", "regex"}),
}
TITLES = {
    "source": "Source",
    "destination": "Destination",
    "transform": "Transform",
    "pipeline": "Pipeline",
}


class Refused(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail


def _shape_error(loc: list[Any], msg: str) -> Refused:
    return Refused(422, [{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class Emulator(LocalServer):
    def __init__(self) -> None:
        self.objects: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.secrets: dict[str, dict[str, Any]] = {}  # object id -> stored secret values
        self.settled: dict[str, str] = {}  # object id -> status the next read shows
        # Reads of a connector after a write that still show it Starting (a worker that
        # takes its time), and the ids of connectors that start and then break.
        self.starting_reads = 0
        self.starting: dict[str, int] = {}
        self.break_on_start: set[str] = set()  # names
        self.faults: dict[tuple[str, str], list[str]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) in order
        self.bodies: list[tuple[str, str, Any]] = []  # (method, path, body) of every write
        self.slow_seconds = 2.0
        self.writes = 0  # POST, PUT and DELETE requests so far
        self.tokens = {TOKEN}
        self.issued = 0
        self.revoke_after: int | None = None  # writes after which every token is revoked once
        self.fail_on: dict[int, str] = {}  # write number (from 1) -> fault
        self.duplicate_status = 422
        self.latency = 0.0  # seconds added to every answer (benchmarks)
        self.in_flight = 0
        self.limited: list[float] = []  # when each 429 was sent
        self.started: list[float] = []  # when each request arrived
        self.max_in_flight = 0  # the most requests under way at once
        self.lock = threading.Lock()
        self._ids = itertools.count(1)
        super().__init__(self._handler())

    # -- state -----------------------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        return sorted(o["name"] for o in self.objects[kind].values())

    def named(self, kind: str, name: str) -> dict[str, Any]:
        (obj,) = [o for o in self.objects[kind].values() if o["name"] == name]
        return obj

    def _definition(self, kind: str, code: Any) -> dict[str, Any] | None:
        known = bundled_schemas(kind).get(code) if isinstance(code, str) else None
        return {p.name: p for p in known.definition.properties} if known else None

    def seed(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store an object as if someone had created it (checked like a POST)."""
        with self.lock:
            self._check(kind, body, None)
            return self._store(kind, body, None, "create")

    def _check(self, kind: str, body: Any, ident: str | None) -> None:
        if not isinstance(body, dict):
            raise _shape_error([], "value is not a valid dict")
        for key in body:
            if key not in FIELDS[kind]:
                raise _shape_error([key], "extra fields not permitted")
        for key in REQUIRED[kind]:
            if key not in body:
                raise _shape_error([key], "field required")
        if not isinstance(body["name"], str) or not body["name"]:
            raise _shape_error(["name"], "str type expected")
        tags = body.get("tags")
        if tags is not None and not (
            isinstance(tags, list) and all(isinstance(t, str) for t in tags)
        ):
            raise _shape_error(["tags"], "value is not a valid list")
        if kind == "pipeline":
            self._check_pipeline(body)
        else:
            self._check_config(kind, body)
        taken = [
            o for o in self.objects[kind].values() if o["name"] == body["name"] and o["id"] != ident
        ]
        if taken:
            raise Refused(
                self.duplicate_status,
                f"Validation error: A {kind} with name '{body['name']}' already exists",
            )

    def _check_config(self, kind: str, body: dict[str, Any]) -> None:
        code_field = "transform" if kind == "transform" else "connector"
        props = self._definition(kind, body.get(code_field))
        if props is None:
            raise Refused(422, f"Validation error: unknown {code_field} {body.get(code_field)!r}")
        config = body["config"]
        if not isinstance(config, dict):
            raise _shape_error(["config"], "value is not a valid dict")
        for key, value in config.items():
            prop = props.get(key)
            if prop is None:
                raise Refused(422, f"Validation error: unknown config key '{key}'")
            if prop.control in ("number", "slider") and value is not None:
                try:
                    number = int(str(value))
                except ValueError:
                    raise Refused(422, f"Validation error: '{key}' must be a number") from None
                low, high = prop.minimum, prop.maximum
                if (
                    low is None
                    and high is None
                    and key.removesuffix(".user.defined").endswith(".port")
                ):
                    low, high = 1, 65535  # the backend checks ports the definitions leave open
                if (low is not None and number < low) or (high is not None and number > high):
                    raise Refused(
                        422, f"Validation error: '{key}' must be between {low} and {high}"
                    )
        if kind == "source" and body.get("desired_state") not in (
            None,
            "Pending",
            "Active",
            "Paused",
            "Stopped",
            "Pending Update",
            "Pending Delete",
        ):
            raise _shape_error(["desired_state"], "value is not a valid enumeration member")
        if body.get("created_from") not in (None, "terraform", "web", "api"):
            raise _shape_error(["created_from"], "value is not a valid enumeration member")

    def _check_pipeline(self, body: dict[str, Any]) -> None:
        for field, (required, allowed) in _SHAPES.items():
            value = body.get(field)
            if value is None:
                continue
            items = value if field in ("transforms", "topic_auto_discovery_transforms") else [value]
            if not isinstance(items, list):
                raise _shape_error([field], "value is not a valid list")
            for n, item in enumerate(items):
                loc = [field, n] if items is value else [field]
                if not isinstance(item, dict):
                    raise _shape_error(loc, "value is not a valid dict")
                missing, extra = sorted(required - item.keys()), sorted(item.keys() - allowed)
                if missing:  # FastAPI lists every one
                    raise Refused(
                        422,
                        [
                            {"loc": ["body", *loc, k], "msg": "field required", "type": "missing"}
                            for k in missing
                        ],
                    )
                if extra:
                    raise _shape_error([*loc, extra[0]], "extra fields not permitted")
        source, destination = body["source"], body["destination"]
        if source["id"] not in self.objects["source"]:
            raise Refused(404, f"Source not found: {source['id']}")
        if destination["id"] not in self.objects["destination"]:
            raise Refused(404, f"Destination not found: {destination['id']}")
        topics = source["topics"]
        if (
            not isinstance(topics, list)
            or not topics
            or not all(isinstance(t, str) for t in topics)
        ):
            raise _shape_error(["source", "topics"], "ensure this value has at least 1 items")
        seen = set()
        for n, entry in enumerate(body.get("transforms") or []):
            transform = self.objects["transform"].get(entry["id"])
            if transform is None:
                raise Refused(404, f"Transform not found: {entry['id']}")
            if entry["topic"] not in topics:
                raise Refused(
                    422,
                    f"Validation error: transforms.{n}.topic '{entry['topic']}' "
                    "is not a topic of the pipeline",
                )
            own = dict(
                zip(transform.get("topics", []), transform.get("topic_ids", []), strict=False)
            )
            expected = own.get(entry["topic"]) or f"source_{source['id']}.{entry['topic']}"
            if entry["topic_id"] != expected:
                raise Refused(
                    422,
                    f"Validation error: transforms.{n}.topic_id "
                    f"'{entry['topic_id']}' is not the id of that topic",
                )
            if (entry["id"], entry["topic"]) in seen:
                raise Refused(422, f"Validation error: transforms.{n} repeats a (transform, topic)")
            seen.add((entry["id"], entry["topic"]))
        for auto in body.get("topic_auto_discovery_transforms") or []:
            if auto["transform_id"] not in self.objects["transform"]:
                raise Refused(404, f"Transform not found: {auto['transform_id']}")

    def _store(
        self, kind: str, body: dict[str, Any], ident: str | None, how: str
    ) -> dict[str, Any]:
        old = self.objects[kind].get(ident) if ident else None
        ident = ident or f"{kind[:3]}-{next(self._ids)}"
        obj = {k: v for k, v in body.items() if k != "config"}
        obj["id"] = ident
        if "tags" not in body:
            obj["tags"] = old["tags"] if old else [DEVELOPMENT_TAG]
        if kind == "source" and "desired_state" not in body:  # absent: as it was, or running
            obj["desired_state"] = old.get("desired_state", "Active") if old else "Active"
        if kind == "pipeline":
            obj.setdefault("transforms", [])
            obj.setdefault("topic_auto_discovery_transforms", [])
            obj.setdefault("snapshot_new_tables", False)
            obj["source"] = dict(body["source"])
            self.objects[kind][ident] = obj
            return obj
        code = body["transform" if kind == "transform" else "connector"]
        props = self._definition(kind, code) or {}
        config: dict[str, Any] = {}
        for prop in props.values():
            if prop.has_default and not prop.secret:
                config[prop.name] = _text(prop.default)
            elif prop.name.endswith(".user.displayed"):
                config[prop.name] = "<" + prop.name.removesuffix(".user.displayed").upper() + ">"
        secrets: dict[str, Any] = {}
        before = self.secrets.get(ident, {})
        for key, value in body["config"].items():
            if props[key].secret:
                secrets[key] = value
            else:
                config[key] = _text(value)
        self.secrets[ident] = secrets  # a PUT replaces the config: secrets left out are lost
        obj["config"] = config
        if kind == "transform":
            obj.setdefault("topic_ids", old.get("topic_ids", []) if old else [])
            obj.setdefault("topics", old.get("topics", []) if old else [])
            obj["status"] = "STOPPED"
        else:
            wanted = {p.name for p in props.values() if p.secret and p.required} | set(before)
            broken = bool(wanted - secrets.keys())
            obj["connector_status"] = "Pending" if how == "create" else "Pending Update"
            obj["task_statuses"] = {}
            broken = broken or obj.get("name") in self.break_on_start
            if obj.get("desired_state") in ("Paused", "Stopped") and not broken:
                self.settled[ident] = obj["desired_state"]
            else:
                self.settled[ident] = "Broken" if broken else "Active"
            self.starting[ident] = self.starting_reads
        self.objects[kind][ident] = obj
        return obj

    def shown(
        self, kind: str, obj: dict[str, Any], query: dict[str, list[str]], written: bool
    ) -> dict[str, Any]:
        """An object as an answer gives it (a copy)."""
        out = json.loads(json.dumps(obj))
        ident = obj["id"]
        if kind in ("source", "destination") and not written and ident in self.settled:
            if self.starting.get(ident, 0) > 0:
                self.starting[ident] -= 1
                obj["connector_status"] = out["connector_status"] = "Starting"
                obj["task_statuses"] = out["task_statuses"] = {"0": {"status": "UNASSIGNED"}}
            else:
                # DESIGN.md says answers carry task_statuses but not their shape: a mapping
                # of task to {status, trace} here; the client also reads a list of them.
                settled = obj["connector_status"] = out["connector_status"] = self.settled[ident]
                task = {"Active": "RUNNING", "Broken": "FAILED"}.get(settled, "PAUSED")
                tasks: dict[str, Any] = {"0": {"status": task}}
                if task == "FAILED":
                    tasks["0"]["trace"] = "org.apache.kafka.connect.errors.ConnectException"
                obj["task_statuses"] = out["task_statuses"] = tasks
        if kind == "pipeline" and written:  # create and update answers: raw topic ids
            sid = obj["source"]["id"]
            out["source"]["topics"] = [f"source_{sid}.{t}" for t in obj["source"]["topics"]]
        if kind != "pipeline" and query.get("secret_returned", ["false"])[0] == "true":
            code = obj.get("transform" if kind == "transform" else "connector")
            for name, prop in (self._definition(kind, code) or {}).items():
                if prop.secret:
                    out["config"][name] = self.secrets.get(ident, {}).get(name)
        return out

    # -- HTTP ------------------------------------------------------------------------------

    @contextmanager
    def counted(self) -> Iterator[None]:
        with self.lock:
            self.started.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            yield
        finally:
            with self.lock:
                self.in_flight -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(JsonHandler):
            def route(self) -> tuple[str | None, str | None, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                segments = [unquote(s) for s in parts.path.split("/") if s]
                kind = segments[0][:-1] if segments and segments[0].endswith("s") else None
                if len(segments) > 2 or kind not in KINDS:
                    return None, None, {}
                ident = segments[1] if len(segments) > 1 else None
                return kind, ident, parse_qs(parts.query)

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
                return json.loads(self.rfile.read(length) or b"null")

            def refuse(self, exc: Refused) -> None:
                self.send_json(exc.status, {"detail": exc.detail})

            def send_fault(self, fault: str | None) -> bool:
                if fault in ("429", "429-slow"):
                    wait = "0" if fault == "429" else "1"
                    with emulator.lock:
                        emulator.limited.append(time.monotonic())
                    self.send_json(429, {"detail": "slow down"}, {"Retry-After": wait})
                elif fault == "500":
                    self.send_json(500, {"detail": "internal error"})
                elif fault == "502-html":
                    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
                    self.send_response(502)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                else:
                    return False
                return True

            def do_GET(self) -> None:
                with emulator.counted():
                    self.get()

            def get(self) -> None:
                kind, ident, query = self.route()
                emulator.requests.append(("GET", self.path))
                if kind is None:
                    self.send_json(404, {"detail": "Not Found"})
                    return
                if not self.authorised():
                    return
                with emulator.lock:
                    if ident is not None:
                        obj = emulator.objects[kind].get(ident)
                        if obj is None:
                            self.send_json(404, {"detail": f"{TITLES[kind]} not found: {ident}"})
                        else:
                            self.send_json(
                                200, {"result": [emulator.shown(kind, obj, query, False)]}
                            )
                        return
                    try:
                        page = int(query.get("page", ["1"])[0])
                        size = int(query.get("page_size", ["10"])[0])
                    except ValueError:
                        self.refuse(_shape_error(["page"], "value is not a valid integer"))
                        return
                    if page < 1 or not 1 <= size <= 100:
                        self.refuse(_shape_error(["page_size"], "ensure 1 <= page_size <= 100"))
                        return
                    partial = query.get("partial_name", [""])[0].lower()
                    items = [
                        o for o in emulator.objects[kind].values() if partial in o["name"].lower()
                    ]
                    chunk = [
                        emulator.shown(kind, o, query, False)
                        for o in items[(page - 1) * size : page * size]
                    ]
                self.send_json(
                    200, {"total": len(items), "page_size": size, "page": page, "result": chunk}
                )

            def write(self) -> None:
                kind, ident, query = self.route()
                body = self.body() if self.command != "DELETE" else None
                emulator.requests.append((self.command, self.path))
                emulator.bodies.append((self.command, self.path, body))
                if kind is None:
                    self.send_json(404, {"detail": "Not Found"})
                    return
                if not self.authorised():
                    return
                if kind == "transform" and self.command in ("PUT", "DELETE") and ident:
                    self.send_json(405, {"detail": "Method Not Allowed"})
                    return
                if self.command == "PUT" and kind == "transform":
                    ident = body.get("id") if isinstance(body, dict) else None
                    if not isinstance(ident, str):
                        self.refuse(_shape_error(["id"], "field required"))
                        return
                    body = {k: v for k, v in body.items() if k != "id"}
                if self.command == "DELETE" and kind == "transform":
                    ident = query.get("id", [None])[0]
                if self.command in ("PUT", "DELETE") and not ident:
                    self.send_json(405, {"detail": "Method Not Allowed"})
                    return
                if self.command == "POST" and ident:
                    self.send_json(405, {"detail": "Method Not Allowed"})
                    return
                fault = self.fault(kind)
                if self.send_fault(fault):
                    return
                if fault in ("400-echo", "422-echo"):  # a server that quotes what it was sent
                    config = body.get("config") if isinstance(body, dict) else None
                    echo = {"bad": config} if fault == "400-echo" else {"detail": f"bad: {config}"}
                    self.send_json(int(fault[:3]), echo)
                    return
                with emulator.lock:
                    if ident is not None and ident not in emulator.objects[kind]:
                        self.send_json(404, {"detail": f"{TITLES[kind]} not found: {ident}"})
                        return
                    try:
                        if self.command == "DELETE":
                            emulator.delete(kind, ident)
                            obj = None
                        else:
                            emulator._check(kind, body, ident)
                            how = "create" if ident is None else "update"
                            obj = emulator._store(kind, body, ident, how)
                    except Refused as exc:
                        self.refuse(exc)
                        return
                    if (
                        emulator.revoke_after is not None
                        and emulator.writes >= emulator.revoke_after
                    ):
                        emulator.tokens.clear()  # the next request gets a 401, once
                        emulator.revoke_after = None
                    answer = emulator.shown(kind, obj, query, True) if obj else {"deleted": ident}
                if fault == "500-after-store":
                    self.send_json(500, {"detail": "internal error"})
                    return
                if fault == "timeout-after-store":
                    time.sleep(emulator.slow_seconds)
                self.send_json(200 if ident else 201, answer)

            def do_POST(self) -> None:
                if urlsplit(self.path).path == "/auth/access-token":
                    body = self.body() or {}
                    if body.get("client_id") != CLIENT_ID or body.get("secret") != SECRET:
                        self.send_json(401, {"detail": "bad credentials"})
                        return
                    token = issue_token(emulator)
                    self.send_json(200, {"accessToken": token, "expiresIn": 3600})
                    return
                self.counted_write()

            def counted_write(self) -> None:
                with emulator.counted():
                    self.write()

            do_PUT = counted_write
            do_DELETE = counted_write

        return Handler

    def delete(self, kind: str, ident: str) -> None:
        if kind in ("source", "destination"):
            users = [p["name"] for p in self.objects["pipeline"].values() if p[kind]["id"] == ident]
            if users:
                raise Refused(422, f"Validation error: the {kind} is used by pipeline {users[0]}")
        if kind == "transform":
            users = [
                p["name"]
                for p in self.objects["pipeline"].values()
                if any(t["id"] == ident for t in p.get("transforms", []))
            ]
            if users:
                raise Refused(
                    422, f"Validation error: the transform is used by pipeline {users[0]}"
                )
        del self.objects[kind][ident]
        self.secrets.pop(ident, None)
        self.settled.pop(ident, None)


@contextmanager
def running() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator
