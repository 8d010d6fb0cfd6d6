"""A Streamkap-compatible API server on 127.0.0.1 for tests, with fault injection.

Serves the bundled definitions at GET /sources/connectors and
GET /destinations/connectors (bearer auth, ETags, 404 for unknown connectors)
and POST /auth/access-token. ``faults`` is a list
consumed one per connector request: "500", "429", "slow", "truncated",
"invalid-json", "wrong-shape", "html", and the hostile ones: "echo-auth" (a 403
whose body echoes the Authorization header), "trickle" (a body sent one byte at
a time, ``trickle_seconds`` apart), "huge" (a 20 MiB body), "gzip-bomb" (64 MiB
of zeros, gzip-compressed to about 64 KiB), "bad-gzip" (Content-Encoding: gzip
on a body that is not), "deep-json" (JSON nested 100,000 deep). ``echo_secret``
makes the token endpoint answer 401 with the request body echoed.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from httptest import JsonHandler, LocalServer, issue_token
from streamkap_config import bundled_schemas

CLIENT_ID, SECRET = "client-1", "sekret-client-secret"


class ApiServer(LocalServer):
    def __init__(self, *, delay: float = 0.0, token_ttl: int = 3600) -> None:
        # kind -> code -> definition; ``definitions`` and ``versions`` are the sources'.
        self.catalogue: dict[str, dict[str, Any]] = {
            kind: {code: dict(v.definition.raw) for code, v in bundled_schemas(kind).items()}
            for kind in ("source", "destination")
        }
        self.version_of: dict[str, dict[str, str]] = {
            kind: {code: v.version for code, v in bundled_schemas(kind).items()}
            for kind in ("source", "destination")
        }
        self.definitions = self.catalogue["source"]
        self.versions = self.version_of["source"]
        self.faults: list[str] = []
        self.delay = delay
        self.slow_seconds = 3.0
        self.trickle_seconds = 0.2
        self.echo_secret = False
        self.retry_after = "0"
        self.token_ttl = token_ttl
        self.tokens: set[str] = {"static-token"}
        self.issued = 0
        self.requests: Counter[str] = Counter()
        self.seen_auth: list[str | None] = []
        self.seen_headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        super().__init__(self._handler())

    def change(self, code: str, description: str = "changed", kind: str = "source") -> None:
        """Serve a new version of ``code``'s definition."""
        definitions = self.catalogue[kind]
        ((display, props),) = definitions[code].items()
        props = json.loads(json.dumps(props))
        props[0]["description"] = description
        definitions[code] = {display: props}
        from streamkap_config.schemas.definitions import definition_version

        self.version_of[kind][code] = definition_version(definitions[code])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(JsonHandler):
            def send_raw(self, status: int, data: bytes, ctype: str, length: int | None = None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(length if length is not None else len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path != "/auth/access-token":
                    self.send_json(404, {"detail": "not found"})
                    return
                with server.lock:
                    server.requests["token"] += 1
                if server.echo_secret:
                    self.send_json(401, {"detail": "bad credentials", "you_sent": body})
                    return
                if body.get("client_id") != CLIENT_ID or body.get("secret") != SECRET:
                    self.send_json(401, {"detail": "bad credentials"})
                    return
                token = issue_token(server)
                self.send_json(
                    200,
                    {
                        "accessToken": token,
                        "expiresIn": server.token_ttl,
                        "refreshToken": "r",
                        "tokenType": "Bearer",
                    },
                )

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                kind = {
                    "/sources/connectors": "source",
                    "/destinations/connectors": "destination",
                }.get(parts.path)
                if kind is None:
                    self.send_json(404, {"detail": "not found"})
                    return
                definitions, versions = server.catalogue[kind], server.version_of[kind]
                code = parse_qs(parts.query).get("connector_code", [None])[0]
                auth = self.headers.get("Authorization")
                with server.lock:
                    counted = code or "*"
                    server.requests[counted if kind == "source" else f"{kind}:{counted}"] += 1
                    server.seen_headers.append(dict(self.headers))
                    server.seen_auth.append(auth)
                    fault = server.faults.pop(0) if server.faults else None
                if server.delay:
                    time.sleep(server.delay)
                if not auth or not auth.startswith("Bearer ") or auth[7:] not in server.tokens:
                    self.send_json(401, {"detail": "Not authenticated"})
                    return
                if fault == "500":
                    self.send_json(500, {"detail": "internal error"})
                    return
                if fault is not None and self.hostile(fault, auth):
                    return
                if fault == "429":
                    self.send_json(
                        429, {"detail": "slow down"}, {"Retry-After": server.retry_after}
                    )
                    return
                if fault == "slow":
                    time.sleep(server.slow_seconds)
                if fault == "html":
                    page = (
                        b"<html><head><title>502 Bad Gateway</title></head>\n"
                        b"<body><h1>502 Bad Gateway</h1></body></html>"
                    )
                    self.send_raw(502, page, "text/html")
                    return
                if fault == "invalid-json":
                    self.send_raw(200, b'{"PostgreSQL": [', "application/json")
                    return
                if fault == "wrong-shape":
                    self.send_json(200, {"items": "nothing like a definition"})
                    return
                if code is None:
                    body: Any = {}
                    for c in sorted(definitions):
                        body.update(definitions[c])
                    self.send_json(200, body)
                    return
                if code not in definitions:
                    self.send_json(404, {"detail": f"connector {code} not found"})
                    return
                etag = f'"{versions[code]}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = json.dumps(definitions[code]).encode()
                if fault == "truncated":
                    self.send_raw(200, data[: len(data) // 2], "application/json", len(data))
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def hostile(self, fault: str, auth: str) -> bool:
                """Answer as a hostile server would; False when ``fault`` is not one of those."""
                if fault == "echo-auth":
                    self.send_json(403, {"detail": f"forbidden for {auth}"})
                elif fault == "trickle":
                    data = json.dumps(server.definitions["kafkadirect"]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    try:
                        for byte in data:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(server.trickle_seconds)
                    except OSError:
                        pass  # the client gave up, as it should
                    self.close_connection = True
                elif fault == "huge":
                    chunk = b" " * (1 << 20)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(20 * len(chunk)))
                    self.end_headers()
                    try:
                        for _ in range(20):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                    self.close_connection = True
                elif fault == "gzip-bomb":
                    import gzip

                    data = gzip.compress(b"0" * (64 << 20), compresslevel=9)
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    with contextlib.suppress(OSError):
                        self.wfile.write(data)
                    self.close_connection = True
                elif fault == "bad-gzip":
                    data = b'{"not": "gzip at all"}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif fault == "deep-json":
                    self.send_raw(200, b"[" * 100_000 + b"]" * 100_000, "application/json")
                else:
                    return False
                return True

        return Handler
