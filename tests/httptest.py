"""What the test servers on 127.0.0.1 share: a quiet threaded server, its
start and stop, and a JSON handler."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_requests: set[socket.socket] = set()
        self.requests_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.requests_lock:
            self.open_requests.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.requests_lock:
            self.open_requests.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the connections clients keep open: their handler threads then end too
        (a handler waiting for the next request on a kept-alive connection would
        otherwise outlive the server, and a thread left running stops a later test
        from forking)."""
        with self.requests_lock:
            open_requests = list(self.open_requests)
        for request in open_requests:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout tests) is expected


class LocalServer:
    """A server on a free port of 127.0.0.1, serving from a thread while in a ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = QuietServer(("127.0.0.1", 0), handler)
        # A short poll interval: shutdown() returns within milliseconds, not half a second.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}"

    def __enter__(self) -> Any:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.close_connections()


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle's algorithm and
    # delayed ACKs add 40 ms to every request on loopback.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def issue_token(server: Any) -> str:
    """A new access token of a test server (``lock``, ``issued`` and ``tokens`` on it)."""
    with server.lock:
        server.issued += 1
        token = f"issued-{server.issued}"
        server.tokens.add(token)
    return token
