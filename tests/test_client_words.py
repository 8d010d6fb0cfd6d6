"""The HTTP client word for word: every request it sends, every message it raises,
every wait it takes.

A scripted server on 127.0.0.1 answers each request with the next answer of its
script and records what it was sent; a fake clock and a fake sleep (the client
takes both) make deadlines and back-off exact counts, never wall time.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import threading
import time
import types
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httptest import LocalServer
from streamkap_config.core.errors import ApiError, ListingTooLargeError, StreamkapConfigError
from streamkap_config.remote import client as client_module
from streamkap_config.remote.client import (
    DECODE_STEP,
    StreamkapClient,
    _decoded,
    _detail,
    _snippet,
    scrub,
)

# -- the scripted server ---------------------------------------------------------------


class Answer:
    """One answer of a script: a status, a body (bytes, or JSON), headers, a delay."""

    def __init__(
        self,
        status: int = 200,
        body: Any = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.status, self.headers, self.delay = status, headers or {}, delay
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()


class Seen:
    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes) -> None:
        parts = urlsplit(target)
        self.method, self.path = method, parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers, self.body = headers, body

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class ScriptHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        script: Script = self.server.script  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        with script.lock:
            script.seen.append(Seen(self.command, self.path, headers, body))
            answer = script.answers.pop(0) if script.answers else Answer(418, b"script ended")
        if answer.delay:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.status != 304:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if answer.status != 304:
                self.wfile.write(answer.body)
        except OSError:
            pass  # the client gave up (a timeout)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


class Script(LocalServer):
    def __init__(self, *answers: Answer) -> None:
        super().__init__(ScriptHandler)
        self.httpd.script = self  # type: ignore[attr-defined]
        self.lock = threading.Lock()
        self.answers = list(answers)
        self.seen: list[Seen] = []

    def then(self, *answers: Answer) -> Script:
        with self.lock:
            self.answers.extend(answers)
        return self


class FakeTime:
    """A clock that moves only when the client sleeps (or never, when frozen)."""

    def __init__(self, frozen: bool = False) -> None:
        self.now, self.frozen, self.sleeps = 1000.0, frozen, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if not self.frozen:
            self.now += seconds


@pytest.fixture
def script():
    with Script() as s:
        yield s


@pytest.fixture
def fake():
    return FakeTime()


@pytest.fixture
def steady(monkeypatch):
    """Back-off jitter at its middle: each delay is exactly backoff * 2 ** (attempt - 1)."""
    monkeypatch.setattr(client_module, "random", types.SimpleNamespace(random=lambda: 0.5))


def make(script: Script, fake: FakeTime, **kw: Any) -> StreamkapClient:
    kw.setdefault("token", "tok-1")
    kw.setdefault("timeout", 5.0)
    return StreamkapClient(script.url, clock=fake.clock, sleep=fake.sleep, **kw)


def raised(call: Any, *args: Any, **kw: Any) -> ApiError:
    with pytest.raises(ApiError) as info:
        call(*args, **kw)
    return info.value


def source(ident: str = "s1", name: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"id": ident, "name": name, "connector": "postgresql", **extra}


# -- construction ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com", "API URL 'ftp://example.com' is not an http(s) URL"),
        ("https://", "API URL 'https:' is not an http(s) URL"),
        (
            "http://example.com",
            "API URL 'http://example.com' uses plain HTTP; only https is allowed "
            "(except to loopback)",
        ),
        (
            "http://10.0.0.1:8080/",
            "API URL 'http://10.0.0.1:8080' uses plain HTTP; only https is allowed "
            "(except to loopback)",
        ),
    ],
)
def test_a_url_that_is_not_https_or_loopback_is_refused_in_these_words(url, says):
    with pytest.raises(StreamkapConfigError) as info:
        StreamkapClient(url, token="t")
    assert str(info.value) == says


@pytest.mark.parametrize(
    "url", ["http://localhost:9", "http://127.0.0.1:9", "http://127.8.9.10", "http://[::1]:9"]
)
def test_plain_http_to_a_loopback_host_is_allowed(url):
    assert StreamkapClient(url, token="t").base_url == url


def test_the_base_url_loses_its_trailing_slashes_and_defaults_to_the_public_api():
    assert StreamkapClient("https://api.example.com//", token="t").base_url == (
        "https://api.example.com"
    )
    assert StreamkapClient(None, token="t").base_url == "https://api.streamkap.com"


@pytest.mark.parametrize("value", ["t\u00f6ken", "tab\there", "line\n"])
@pytest.mark.parametrize("field", ["token", "client_id"])
def test_a_credential_that_cannot_go_in_a_header_is_refused_by_name(field, value):
    name = {"token": "STREAMKAP_TOKEN", "client_id": "STREAMKAP_CLIENT_ID"}[field]
    with pytest.raises(StreamkapConfigError) as info:
        StreamkapClient("https://api.example.com", **{field: value})
    assert str(info.value) == (
        f"{name} holds characters that cannot be sent in an HTTP header "
        "(only printable ASCII is allowed)"
    )


@pytest.mark.parametrize(
    ("kw", "auth"),
    [
        ({"token": "t"}, "token"),
        ({"client_id": "id", "secret": "s"}, "client credentials"),
        ({"token": "t", "client_id": "id", "secret": "s"}, "client credentials"),
        ({}, "none"),
    ],
)
def test_the_repr_names_the_kind_of_auth_and_nothing_else(kw, auth):
    c = StreamkapClient("https://api.example.com", **kw)
    assert repr(c) == f"StreamkapClient('https://api.example.com', auth={auth!r})"


def test_from_env_reads_every_variable_and_takes_empty_ones_as_unset(monkeypatch, script, fake):
    monkeypatch.setenv("STREAMKAP_API_URL", script.url)
    monkeypatch.setenv("STREAMKAP_TOKEN", "")
    monkeypatch.setenv("STREAMKAP_CLIENT_ID", "cid")
    monkeypatch.setenv("STREAMKAP_SECRET", "csecret")
    c = StreamkapClient.from_env(clock=fake.clock, sleep=fake.sleep)
    assert c.base_url == script.url and repr(c).endswith("auth='client credentials')")
    script.then(Answer(200, {"accessToken": "issued", "expiresIn": 600}), Answer(200, []))
    c.list("source")
    assert script.seen[0].json == {"client_id": "cid", "secret": "csecret"}
    assert script.seen[1].headers["authorization"] == "Bearer issued"
    monkeypatch.setenv("STREAMKAP_TOKEN", "envtok")
    monkeypatch.setenv("STREAMKAP_CLIENT_ID", "")
    monkeypatch.setenv("STREAMKAP_SECRET", "")
    assert repr(StreamkapClient.from_env()) == (f"StreamkapClient({script.url!r}, auth='token')")
    assert StreamkapClient.from_env("https://other.example.com").base_url == (
        "https://other.example.com"
    )


def test_every_request_carries_these_headers_and_follows_no_redirect(script, fake, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    script.then(Answer(302, b"moved", {"Location": "/elsewhere"}))
    err = raised(make(script, fake).get_connectors, "s3")
    assert str(err) == (
        f"GET {script.url}/sources/connectors?connector_code=s3 -> 302: request failed "
        "(body: 'moved')"
    )
    (seen,) = script.seen  # the proxy variables were ignored, the redirect not followed
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["accept-encoding"] == "gzip, deflate"
    assert seen.headers["user-agent"] == "streamkap-config"
    assert seen.headers["authorization"] == "Bearer tok-1"


# -- secrets out of every text -----------------------------------------------------------


SECRET = 'p"w/\u00e9 d'


@pytest.mark.parametrize(
    "form",
    [
        SECRET,
        'p\\"w/\u00e9 d',  # JSON-escaped
        'p\\"w/\\u00e9 d',  # JSON-escaped, ASCII only
        'p\\"w\\/\u00e9 d',  # JSON-escaped with an escaped slash
        "p%22w%2F%C3%A9%20d",  # percent-encoded
        "p%22w%2F%C3%A9+d",  # form-encoded
    ],
)
def test_every_form_of_a_secret_is_cut_out(form):
    assert scrub(f"<{form}>", [SECRET]) == "<********>"


def test_a_secret_is_cut_out_with_its_whitespace_folded_and_the_longest_first():
    assert scrub("x a b y", ["a \n b"]) == "x ******** y"
    assert scrub("abcd", ["ab", "abcd"]) == "********"
    assert scrub("abcd", [None, ""]) == "abcd"
    assert scrub("x y", ["  "]) == "x y"  # whitespace only: its folded form is empty


def test_redacted_values_and_the_credentials_are_cut_out_of_a_servers_text(script, fake):
    c = make(script, fake, token=None, client_id="cid", secret="csecret")
    c.redact(["from-env-1", "", None, 5])  # type: ignore[list-item]
    assert c.scrubbed("a from-env-1 b csecret c") == "a ******** b ******** c"
    script.then(
        Answer(200, {"accessToken": "issued-token"}),
        Answer(400, b"echo: issued-token from-env-1 csecret"),
    )
    err = raised(c.create, "source", {"name": "x"})
    assert err.snippet == "echo: ******** ******** ********"


# -- the body's snippet and the API's own words --------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b'{"a":   "\\u00e9", "b": "\\/"}', '{"a": "\u00e9", "b": "/"}'),  # re-encoded
        (b"x%2Fy%2fz", "x/y/z"),  # percent-decoded in any case
        (b"a\n\n   b\tc", "a b c"),  # whitespace folded
        (b"a\x01b", "a?b"),  # what cannot be printed
        (b"\xff", "\ufffd"),  # not UTF-8
        (b"x" * 80, "x" * 80),
        (b"x" * 81, "x" * 77 + "..."),
        (b"[" * 100_000, "[" * 77 + "..."),  # too deep for json: shown as text
        (b"50%", "50%"),
    ],
)
def test_a_snippet_is_the_folded_printable_head_of_the_body(body, shown):
    assert _snippet(body, []) == shown


@pytest.mark.parametrize(
    "body",
    [b"key ab\n  cd!", b'{"k": "ab cd"}', b"key ab%20cd", b'{"k": "ab\\u0020cd"}'],
)
def test_no_encoding_or_folding_brings_a_secret_back_into_a_snippet(body):
    assert "ab cd" not in _snippet(body, ["ab cd"])
    assert "********" in _snippet(body, ["ab cd"])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"detail": "  name \\n  taken "}', "name taken"),
        (b'{"detail": "a\\u0001b"}', "a?b"),
        (b'{"detail": "uses tok-9 here"}', "uses ******** here"),
        (
            json.dumps(
                {
                    "detail": [
                        {"loc": ["body", "transforms", 0, "topic_id"], "msg": "field required"},
                        {"loc": [], "msg": "bad"},
                        "not an error",
                        {"msg": ""},
                        {"loc": ["query", "page"]},
                    ]
                }
            ).encode(),
            "transforms.0.topic_id field required; bad; query.page",
        ),
        (
            json.dumps({"detail": [{"loc": ["f", i], "msg": "m"} for i in range(7)]}).encode(),
            "f.0 m; f.1 m; f.2 m; f.3 m; f.4 m (and 2 more)",
        ),
        (json.dumps({"detail": "y" * 301}).encode(), "y" * 297 + "..."),
        (json.dumps({"detail": "y" * 300}).encode(), "y" * 300),
    ],
)
def test_the_apis_detail_is_taken_in_its_own_words(body, detail):
    assert _detail(body, ["tok-9"]) == detail


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"detail": 5}', b'{"detail": "  "}', b'{"other": "x"}', b"[" * 99999],
)
def test_a_body_without_a_detail_has_none(body):
    assert _detail(body, []) is None


def test_an_error_quotes_the_detail_or_else_the_snippet(script, fake):
    script.then(Answer(422, {"detail": "name already exists"}), Answer(400, b"<p>no</p>"))
    c = make(script, fake)
    first = raised(c.create, "source", {"name": "x"})
    assert str(first) == (
        f"POST {script.url}/sources?secret_returned=false&wait=false -> 422: request failed: "
        "name already exists"
    )
    assert first.already_exists
    second = raised(c.delete, "source", "s1")
    assert str(second) == (
        f"DELETE {script.url}/sources/s1 -> 400: request failed (body: '<p>no</p>')"
    )


# -- content encodings, unpacked in bounded steps ----------------------------------------


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", " gzip ", "identity, gzip"])
def test_a_gzip_body_unpacks_whole_in_steps_no_larger_than_the_bound(encoding):
    body = b"0" * (3 * DECODE_STEP + 17)
    out = list(_decoded(iter([gzip.compress(body)]), encoding))
    assert b"".join(out) == body
    assert len(out) >= 4 and max(map(len, out)) == DECODE_STEP


def test_a_deflate_body_in_many_pieces_unpacks_whole():
    body = bytes(range(256)) * 1000
    packed = zlib.compress(body)
    assert b"".join(_decoded(iter(pieces(packed, 100)), "deflate")) == body


@pytest.mark.parametrize("encoding", ["", "identity", "identity, identity"])
def test_a_body_without_encoding_passes_as_received(encoding):
    assert list(_decoded(iter([b"ab", b"cd"]), encoding)) == [b"ab", b"cd"]


@pytest.mark.parametrize(
    ("encoding", "body", "says"),
    [
        ("br", b"x", "unsupported content encoding 'br'"),
        ("gzip, gzip", b"x", "unsupported content encoding 'gzip, gzip'"),
        ("gzip", b"not gzip at all", "the body does not unpack"),
        ("gzip", gzip.compress(b"0" * 5000)[:-12], "the compressed body ends early"),
    ],
)
def test_a_body_that_does_not_unpack_is_a_decoding_error(encoding, body, says):
    with pytest.raises(httpx.DecodingError) as info:
        b"".join(_decoded(iter([body]), encoding))
    assert str(info.value) == says


def test_an_undecodable_body_is_an_api_error_without_a_status(script, fake):
    script.then(Answer(200, b"plain", {"Content-Encoding": "br"}))
    err = raised(make(script, fake).get_connectors, "s3")
    assert str(err) == (
        f"GET {script.url}/sources/connectors?connector_code=s3: "
        "the response body could not be decoded"
    )


# -- bounded in size and in time -----------------------------------------------------------


def test_a_body_is_refused_one_byte_past_the_bound_counted_unpacked(script, fake):
    c = make(script, fake, max_bytes=100)
    script.then(Answer(200, b"[" + b" " * 98 + b"]"))
    assert c.get_connectors("s3").data == []
    script.then(Answer(200, gzip.compress(b"[" + b" " * 99 + b"]"), {"Content-Encoding": "gzip"}))
    err = raised(c.get_connectors, "s3")
    assert str(err) == (
        f"GET {script.url}/sources/connectors?connector_code=s3 -> 200: "
        "response larger than 100 bytes; refused"
    )


def test_a_request_whose_deadline_has_passed_is_not_sent(script, fake):
    c = make(script, fake)
    with c.deadline_within(0):
        err = raised(c.get_connectors, "s3")
    assert (
        str(err) == f"GET {script.url}/sources/connectors?connector_code=s3: no answer within 60 s"
    )
    assert script.seen == []


def test_a_body_still_arriving_at_the_deadline_is_cut_off(script):
    ticks = iter(range(0, 10_000))  # every reading of the clock is one second later
    c = StreamkapClient(script.url, token="t", deadline=5, clock=lambda: float(next(ticks)))
    body = gzip.compress(json.dumps(["x" * 100] * 3000).encode())
    script.then(Answer(200, body, {"Content-Encoding": "gzip"}))
    err = raised(c.get_connectors, "s3")
    assert str(err) == (
        f"GET {script.url}/sources/connectors?connector_code=s3 -> 200: "
        "response not complete within 5 s"
    )
    # read at 0 (the deadline), 1 (no pause), 2 (before sending), then once a piece
    # from 3 on: the third piece, at 5, is past the deadline
    assert next(ticks) == 6


def test_nested_deadlines_keep_the_nearest_and_each_thread_its_own(fake):
    c = StreamkapClient("https://api.example.com", token="t", clock=fake.clock)
    assert c._deadline_at == float("inf")
    with c.deadline_within(10):
        with c.deadline_within(100):
            assert c._deadline_at == 1010.0
            other: list[float] = []
            thread = threading.Thread(target=lambda: other.append(c._deadline_at))
            thread.start()
            thread.join()
            assert other == [float("inf")]
        with c.deadline_within(4):
            assert c._deadline_at == 1004.0
        assert c._deadline_at == 1010.0
    assert c._deadline_at == float("inf")


# -- retries and waits -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_read_is_retried_on_a_transient_status_with_doubling_waits(
    script, fake, steady, status, caplog
):
    caplog.set_level(logging.INFO, logger="streamkap_config.remote.client")
    script.then(*[Answer(status, b"busy")] * 3, Answer(200, []))
    c = make(script, fake, backoff=0.5)
    assert c.list("source") == []
    assert fake.sleeps == [0.5, 1.0, 2.0] and len(script.seen) == 4
    shown = f"{script.url}/sources?page=1&page_size=100"
    assert [r.getMessage() for r in caplog.records] == [
        f"GET {shown} -> {status}; retry 1 in 0.50s",
        f"GET {shown} -> {status}; retry 2 in 1.00s",
        f"GET {shown} -> {status}; retry 3 in 2.00s",
    ]


def test_the_jitter_spreads_each_wait_between_half_and_one_and_a_half_times(
    script, fake, monkeypatch
):
    draws = iter([0.0, 0.999])
    monkeypatch.setattr(client_module, "random", types.SimpleNamespace(random=lambda: next(draws)))
    script.then(Answer(503), Answer(503), Answer(200, []))
    make(script, fake, backoff=2.0).list("source")
    assert fake.sleeps == [1.0, pytest.approx(5.996)]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "rate limited after 3 attempts"),
        (500, "server error after 3 attempts"),
        (503, "server error after 3 attempts"),
    ],
)
def test_retries_are_bounded_and_the_last_answer_is_reported(script, fake, status, reason):
    script.then(*[Answer(status, {"detail": "try later"})] * 3)
    err = raised(make(script, fake, retries=2).get, "source", "s1")
    assert str(err) == f"GET {script.url}/sources/s1 -> {status}: {reason}: try later"
    assert len(script.seen) == 3 and len(fake.sleeps) == 2


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "request failed"),
        (403, "forbidden"),
        (404, "not found"),
        (409, "request failed"),
        (300, "request failed"),
        (501, "server error after 1 attempt"),
    ],
)
def test_other_statuses_are_not_retried(script, fake, status, reason):
    script.then(Answer(status, b"no"))
    err = raised(make(script, fake).get, "source", "s1")
    assert str(err) == f"GET {script.url}/sources/s1 -> {status}: {reason} (body: 'no')"
    assert err.status == status and len(script.seen) == 1 and fake.sleeps == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_create_is_never_resent_after_a_server_error(script, fake, status):
    script.then(Answer(status, b"oops"), Answer(200, source()))
    err = raised(make(script, fake).create, "source", {"name": "orders"})
    assert str(err) == (
        f"POST {script.url}/sources?secret_returned=false&wait=false -> {status}: "
        "server error after 1 attempt (body: 'oops')"
    )
    assert len(script.seen) == 1


def test_a_create_is_resent_after_a_429_which_it_never_reached(script, fake, steady):
    script.then(Answer(429, headers={"Retry-After": "2"}), Answer(200, source()))
    made = make(script, fake).create("source", {"name": "orders"})
    assert (made.id, made.name) == ("s1", "orders")
    assert fake.sleeps == [2.0] and [s.method for s in script.seen] == ["POST", "POST"]


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        ("3", 3.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("1.5", 1.5),
        ("1000", 30.0),  # max_retry_after
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.5),  # a date: the back-off instead
        ("", 0.5),
    ],
)
def test_retry_after_is_honoured_within_its_bound(script, fake, steady, retry_after, wait):
    script.then(Answer(503, headers={"Retry-After": retry_after}), Answer(200, []))
    make(script, fake, backoff=0.5).list("source")
    assert fake.sleeps == [wait]


def test_a_429_pauses_every_later_request_of_the_client_and_never_shortens(script, steady):
    frozen = FakeTime(frozen=True)  # the pause never ends by itself: each request waits it
    c = make(script, frozen)
    script.then(
        Answer(429, headers={"Retry-After": "5"}),
        Answer(429, headers={"Retry-After": "1"}),
        Answer(200, []),
        Answer(200, []),
    )
    c.list("source")
    assert frozen.sleeps == [5.0, 5.0]
    c.list("destination")
    assert frozen.sleeps == [5.0, 5.0, 5.0]


def test_a_wait_past_the_deadline_is_refused_in_these_words(script, fake):
    script.then(Answer(503, headers={"Retry-After": "7"}))
    err = raised(make(script, fake, deadline=7).get, "source", "s1")
    assert str(err) == (
        f"GET {script.url}/sources/s1: retrying would take 7 s more, past the deadline "
        "(7 s left of 7 s)"
    )
    script.then(Answer(503, headers={"Retry-After": "6.5"}), Answer(200, source()))
    assert make(script, fake, deadline=7).get("source", "s1").id == "s1"
    assert fake.sleeps == [6.5]


def test_a_429_pause_counts_against_the_deadline(script, fake):
    script.then(Answer(429, headers={"Retry-After": "9"}))
    err = raised(make(script, fake, deadline=8).get, "source", "s1")
    assert "retrying would take 9 s more, past the deadline (8 s left of 8 s)" in str(err)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_is_retried_for_reads_and_never_for_creates(fake, steady, caplog):
    caplog.set_level(logging.INFO, logger="streamkap_config.remote.client")
    url = f"http://127.0.0.1:{free_port()}"
    c = StreamkapClient(url, token="t", retries=2, clock=fake.clock, sleep=fake.sleep)
    err = raised(c.get, "source", "s1")
    assert str(err) == f"GET {url}/sources/s1: connection failed (ConnectError) after 3 attempts"
    assert err.status is None and fake.sleeps == [0.5, 1.0]
    assert [r.getMessage() for r in caplog.records] == [
        f"GET {url}/sources/s1 connection failed (ConnectError); retry 1",
        f"GET {url}/sources/s1 connection failed (ConnectError); retry 2",
    ]
    err = raised(c.create, "source", {"name": "x"})
    assert str(err) == (
        f"POST {url}/sources?secret_returned=false&wait=false: "
        "connection failed (ConnectError) after 1 attempt"
    )
    assert fake.sleeps == [0.5, 1.0]


def test_a_timeout_is_retried_for_reads_and_never_for_creates(script, fake, steady, caplog):
    caplog.set_level(logging.INFO, logger="streamkap_config.remote.client")
    # A timeout of 0.5 s that only the delayed answer misses, even on a loaded machine.
    script.then(Answer(200, [], delay=1.5), Answer(200, []))
    c = make(script, fake, timeout=0.5, retries=1)
    assert c.list("source") == []
    assert fake.sleeps == [0.5]
    assert [r.getMessage() for r in caplog.records] == [
        f"GET {script.url}/sources?page=1&page_size=100 timed out; retry 1"
    ]
    script.then(Answer(200, source(), delay=1.5))
    err = raised(c.create, "source", {"name": "x"})
    assert str(err) == (
        f"POST {script.url}/sources?secret_returned=false&wait=false: timed out after 1 attempt"
    )


# -- auth --------------------------------------------------------------------------------


def test_client_credentials_are_exchanged_once_and_renewed_before_they_expire(script, fake):
    c = make(script, fake, token=None, client_id="cid", secret="csecret", renew_before=30)
    script.then(Answer(200, {"accessToken": "first", "expiresIn": 100}), Answer(200, []))
    c.list("source")
    token_request = script.seen[0]
    assert (token_request.method, token_request.path) == ("POST", "/auth/access-token")
    assert token_request.json == {"client_id": "cid", "secret": "csecret"}
    assert "authorization" not in token_request.headers
    fake.now += 69.9  # 100 s less 30 s early: still good
    script.then(Answer(200, []))
    c.list("source")
    fake.now += 0.1
    script.then(Answer(200, {"accessToken": "second"}), Answer(200, []))
    c.list("source")
    assert [s.headers.get("authorization") for s in script.seen] == [
        None,
        "Bearer first",
        "Bearer first",
        None,
        "Bearer second",
    ]
    fake.now += 3569.9  # no expiresIn: an hour, less 30 s
    script.then(Answer(200, []))
    c.list("source")
    fake.now += 0.1
    script.then(Answer(200, {"accessToken": "third", "expiresIn": 10}), Answer(200, []))
    c.list("source")
    assert script.seen[-1].headers["authorization"] == "Bearer third"
    # expiresIn under renew_before: renewed at every request, never a negative lifetime
    script.then(Answer(200, {"accessToken": "fourth", "expiresIn": 10}), Answer(200, []))
    c.list("source")
    assert len(script.seen) == 10


def test_a_401_renews_an_issued_token_once(script, fake):
    c = make(script, fake, token=None, client_id="cid", secret="csecret")
    script.then(
        Answer(200, {"accessToken": "old"}),
        Answer(401),
        Answer(200, {"accessToken": "new"}),
        Answer(200, source()),
    )
    assert c.get("source", "s1").id == "s1"
    assert [s.headers.get("authorization") for s in script.seen] == [
        None,
        "Bearer old",
        None,
        "Bearer new",
    ]
    script.then(Answer(401), Answer(200, {"accessToken": "newer"}), Answer(401, b"still no"))
    err = raised(c.get, "source", "s1")
    assert str(err) == (
        f"GET {script.url}/sources/s1 -> 401: unauthorized (set STREAMKAP_TOKEN, or "
        "STREAMKAP_CLIENT_ID and STREAMKAP_SECRET) (body: 'still no')"
    )
    assert len(script.seen) == 7


def test_a_401_with_a_static_token_is_not_retried(script, fake):
    script.then(Answer(401, b"{}"))
    err = raised(make(script, fake).get, "source", "s1")
    assert err.status == 401 and len(script.seen) == 1
    assert "unauthorized (set STREAMKAP_TOKEN" in str(err)


def test_a_401_on_the_token_exchange_itself_is_an_error_not_a_loop(script, fake):
    c = make(script, fake, token=None, client_id="cid", secret="csecret")
    script.then(Answer(401, {"detail": "bad client csecret"}))
    err = raised(c.get, "source", "s1")
    assert str(err) == (
        f"POST {script.url}/auth/access-token -> 401: unauthorized (set STREAMKAP_TOKEN, or "
        "STREAMKAP_CLIENT_ID and STREAMKAP_SECRET): bad client ********"
    )
    assert len(script.seen) == 1


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"not json", "JSONDecodeError"),
        ({"token": "x"}, "KeyError"),
        ({"accessToken": ""}, "ValueError"),
        ({"accessToken": 5}, "ValueError"),
        ({"accessToken": "t", "expiresIn": "soon"}, "ValueError"),
        ({"accessToken": "t", "expiresIn": None}, "TypeError"),
        ({"accessToken": "t\u00f6"}, "StreamkapConfigError"),
        ([1], "TypeError"),
    ],
)
def test_an_unexpected_token_answer_is_named_by_its_fault(script, fake, body, kind):
    c = make(script, fake, token=None, client_id="cid", secret="csecret")
    script.then(Answer(200, body))
    err = raised(c.get, "source", "s1")
    assert str(err) == (
        f"POST {script.url}/auth/access-token -> 200: unexpected token response ({kind})"
    )


def test_without_a_secret_the_client_id_alone_sends_no_token(script, fake):
    c = make(script, fake, token=None, client_id="cid")
    script.then(Answer(200, []))
    c.list("source")
    assert "authorization" not in script.seen[0].headers


# -- connector definitions ------------------------------------------------------------------


def test_connectors_are_asked_by_code_and_kind_conditional_on_an_etag(script, fake):
    c = make(script, fake)
    script.then(Answer(200, {"S3": {}}, {"ETag": '"v1"'}), Answer(304), Answer(200, []))
    got = c.get_connectors("s3")
    assert (got.url, got.data, got.etag, got.not_modified) == (
        f"{script.url}/sources/connectors?connector_code=s3",
        {"S3": {}},
        '"v1"',
        False,
    )
    again = c.get_connectors("s3", etag='"v1"', kind="destination")
    assert (again.data, again.etag, again.not_modified) == (None, '"v1"', True)
    assert again.url == f"{script.url}/destinations/connectors?connector_code=s3"
    every = c.get_connectors(None)
    assert (every.url, every.etag) == (f"{script.url}/sources/connectors", None)
    first, second, third = script.seen
    assert (first.path, first.query, "if-none-match" in first.headers) == (
        "/sources/connectors",
        {"connector_code": "s3"},
        False,
    )
    assert (second.path, second.headers["if-none-match"]) == ("/destinations/connectors", '"v1"')
    assert third.query == {}


def test_transforms_have_no_definitions_endpoint(script, fake):
    err = raised(make(script, fake).get_connectors, "map_filter", kind="transform")
    assert str(err) == f"GET {script.url}: no endpoint serves transform definitions"
    assert script.seen == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<html>", "response is not JSON"), (b"[" * 100_000, "response nested too deeply")],
)
def test_a_catalogue_that_is_not_json_is_an_error_with_its_snippet(script, fake, body, reason):
    script.then(Answer(200, body))
    err = raised(make(script, fake).get_connectors, "s3")
    assert str(err).startswith(
        f"GET {script.url}/sources/connectors?connector_code=s3 -> 200: {reason} (body: "
    )
    assert err.snippet == _snippet(body, [])


# -- objects ---------------------------------------------------------------------------------


def test_list_reads_pages_until_a_short_one_and_keeps_exact_names(script, fake):
    full = [source(f"s{i}", "orders" if i % 2 else "orders-old") for i in range(3)]
    script.then(Answer(200, {"result": full}), Answer(200, {"result": [source("s9", "orders")]}))
    found = make(script, fake).list("source", "orders", page_size=3)
    assert [o.id for o in found] == ["s1", "s9"]
    assert [s.query for s in script.seen] == [
        {"page": "1", "page_size": "3", "partial_name": "orders"},
        {"page": "2", "page_size": "3", "partial_name": "orders"},
    ]
    assert {s.path for s in script.seen} == {"/sources"}


@pytest.mark.parametrize(("asked", "sent"), [(0, "1"), (-5, "1"), (100, "100"), (500, "100")])
def test_the_page_size_asked_is_between_1_and_100(script, fake, asked, sent):
    script.then(Answer(200, []))
    make(script, fake).list("pipeline", page_size=asked)
    assert script.seen[0].query == {"page": "1", "page_size": sent}
    assert script.seen[0].path == "/pipelines"


@pytest.mark.parametrize(("answered", "pages"), [(2, 2), (0, 1), (200, 1), ("2", 1), (None, 1)])
def test_a_page_size_the_server_says_it_used_ends_the_listing_when_valid(
    script, fake, answered, pages
):
    two = [source("a"), source("b")]
    script.then(
        Answer(200, {"result": two, "page_size": answered}),
        Answer(200, {"result": [source("c")], "page_size": answered}),
    )
    found = make(script, fake).list("source", page_size=50)
    assert len(script.seen) == pages and len(found) == 2 * pages - (pages - 1)


def test_a_bare_list_is_a_page_too(script, fake):
    script.then(Answer(200, [source("a")]))
    assert [o.id for o in make(script, fake).list("source")] == ["a"]


def test_a_repeated_page_stops_the_listing(script, fake):
    page = {"result": [source("a"), source("b")]}
    script.then(Answer(200, page), Answer(200, page))
    err = raised(make(script, fake).list, "source", page_size=2)
    assert str(err) == (
        f"GET {script.url}/sources: page 2 repeats an earlier page; the listing was stopped "
        "rather than read without end"
    )


def test_a_listing_past_its_callers_pages_is_too_large(script, fake):
    page = lambda n: Answer(200, [source(f"{n}a"), source(f"{n}b")])  # noqa: E731
    script.then(page(1), page(2), page(3))
    with pytest.raises(ListingTooLargeError) as info:
        make(script, fake).list("destination", page_size=2, max_pages=2)
    assert str(info.value) == f"GET {script.url}/destinations: more than 2 pages; not read further"
    assert info.value.pages == 2 and len(script.seen) == 2


def test_a_listing_past_every_page_allowed_is_refused(script, fake, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_PAGES", 2)
    t = lambda ident: source(ident, transform="map_filter")  # noqa: E731
    script.then(*(Answer(200, [t(f"{n}a"), t(f"{n}b")]) for n in range(3)))
    err = raised(make(script, fake).list, "transform", page_size=2)
    assert str(err) == (
        f"GET {script.url}/transforms: more than 2 pages of transforms; refused rather than "
        "planning from part of the account"
    )
    assert len(script.seen) == 2
    script.answers.clear()
    script.then(Answer(200, [t("x"), t("y")]), Answer(200, [t("z")]))
    assert len(make(script, fake).list("transform", page_size=2)) == 3  # 2 pages: allowed


@pytest.mark.parametrize("body", [{"result": "x"}, {"total": 0}, "text", 5])
def test_a_page_that_holds_no_list_is_an_error(script, fake, body):
    script.then(Answer(200, body))
    err = raised(make(script, fake).list, "source")
    assert str(err) == f"GET {script.url}/sources: expected a list of results"


def test_one_deadline_bounds_every_page_of_a_listing(script, fake):
    full = [source("a"), source("b")]
    script.then(
        Answer(503, headers={"Retry-After": "6"}),
        Answer(200, full),
        Answer(503, headers={"Retry-After": "6"}),
    )
    err = raised(make(script, fake, list_deadline=10).list, "source", page_size=2)
    assert str(err) == (
        f"GET {script.url}/sources?page=2&page_size=2: retrying would take 6 s more, past the "
        "deadline (4 s left of 60 s)"
    )


@pytest.mark.parametrize(
    ("item", "fields"),
    [
        ({"id": "a", "connector": "c"}, "name"),
        ({"connector": "c"}, "id, name"),
        ({"id": "a", "name": "n"}, "connector"),
    ],
)
def test_an_object_of_the_wrong_shape_is_named_by_its_fields(script, fake, item, fields):
    script.then(Answer(200, [item]))
    err = raised(make(script, fake).list, "source")
    assert str(err) == f"GET {script.url}/sources: unexpected source in the answer ({fields})"


def test_get_reads_one_object_with_its_kinds_parameters(script, fake):
    c = make(script, fake)
    script.then(Answer(200, {"result": [source("a/b")]}))
    assert c.get("source", "a/b").id == "a/b"
    script.then(Answer(200, {"id": "t1", "name": "t", "transform": "map_filter"}))
    assert c.get("transform", "t1").id == "t1"
    assert [(s.method, s.path, s.query) for s in script.seen] == [
        ("GET", "/sources/a%2Fb", {}),
        ("GET", "/transforms/t1", {"unwind_topics": "false"}),
    ]


def test_writes_ask_for_no_secret_back_and_no_wait(script, fake):
    c = make(script, fake)
    script.then(Answer(200, source()), Answer(200, source()))
    c.create("source", {"name": "orders", "config": {"p": 1}})
    c.update("source", "s1", {"name": "orders"})
    script.then(Answer(200, {"id": "t1", "name": "t", "transform": "map_filter"}))
    c.update("transform", "t1", {"name": "t"})
    script.then(Answer(204), Answer(200))
    c.delete("transform", "t1")
    c.delete("pipeline", "p1")
    writes = {"secret_returned": "false", "wait": "false"}
    assert [(s.method, s.path, s.query) for s in script.seen] == [
        ("POST", "/sources", writes),
        ("PUT", "/sources/s1", writes),
        ("PUT", "/transforms", writes),
        ("DELETE", "/transforms", {"id": "t1"}),
        ("DELETE", "/pipelines/p1", {}),
    ]
    assert script.seen[0].json == {"name": "orders", "config": {"p": 1}}
    assert script.seen[2].json == {"name": "t", "id": "t1"}
    assert script.seen[3].body == b""


def test_an_empty_answer_is_none_and_a_non_json_one_an_error(script, fake):
    c = make(script, fake)
    script.then(Answer(200, b""), Answer(200, b"<html>ok</html>"))
    assert c._call("DELETE", "/sources/x") is None
    err = raised(c._call, "DELETE", "/sources/y")
    assert str(err) == (
        f"DELETE {script.url}/sources/y -> 200: response is not JSON (body: '<html>ok</html>')"
    )


def test_an_unknown_kind_and_an_unsendable_url_are_named(script, fake):
    c = make(script, fake)
    with pytest.raises(StreamkapConfigError) as info:
        c.list("widget")
    assert str(info.value) == "unknown kind 'widget'"
    err = raised(c._call, "GET", "/sources/\x00")
    assert str(err) == f"GET {script.url}/sources/\x00: the request URL is not valid"
    assert script.seen == []


def test_close_and_the_with_block_close_the_connection_pool(script, fake):
    with make(script, fake) as c:
        script.then(Answer(200, []))
        c.list("source")
    with pytest.raises(RuntimeError):
        c.list("source")


# -- what the mutation run found untested ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    body=st.lists(
        st.one_of(st.binary(max_size=300), st.integers(1, 200_000).map(lambda n: b"0" * n)),
        max_size=6,
    ).map(b"".join),
    size=st.integers(1, 5000),
    encoding=st.sampled_from(["gzip", "deflate"]),
)
def test_any_body_in_any_pieces_unpacks_to_itself(body, size, encoding):
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
    out = list(_decoded(iter(pieces(packed, size)), encoding))
    assert b"".join(out) == body
    assert all(0 < len(chunk) <= DECODE_STEP for chunk in out)


def test_a_zlib_stream_sent_as_gzip_does_not_unpack():
    with pytest.raises(httpx.DecodingError, match="the body does not unpack"):
        b"".join(_decoded(iter([zlib.compress(b"{}")]), "gzip"))


def test_the_size_bound_counts_every_piece_not_the_last_one(script, fake):
    body = gzip.compress(b" " * (2 * DECODE_STEP) + b"[]")
    script.then(Answer(200, body, {"Content-Encoding": "gzip"}))
    err = raised(make(script, fake, max_bytes=DECODE_STEP + 1).get_connectors, "s3")
    assert err.reason == f"response larger than {DECODE_STEP + 1:,} bytes; refused"


def test_the_longest_form_goes_first_whatever_its_letters():
    assert scrub("ab", ["b", "ab"]) == "********"


def test_six_errors_say_one_more():
    body = json.dumps({"detail": [{"loc": ["f", i], "msg": "m"} for i in range(6)]}).encode()
    assert _detail(body, []) == "f.0 m; f.1 m; f.2 m; f.3 m; f.4 m (and 1 more)"


def test_the_defaults_are_the_documented_ones():
    c = StreamkapClient("https://api.example.com/prefiX/", token="t")
    assert c.base_url == "https://api.example.com/prefiX"
    assert (c.retries, c.backoff, c.max_retry_after, c.deadline) == (3, 0.5, 30.0, 60.0)
    assert (c.renew_before, c.list_deadline, c.max_bytes) == (30.0, 300.0, 16 * 1024 * 1024)
    assert c._http.timeout == httpx.Timeout(10.0)
    assert StreamkapClient.from_env(retries=7, deadline=5).retries == 7


def test_a_clock_that_starts_at_zero_waits_for_nothing(script):
    fake = FakeTime()
    fake.now = 0.0
    script.then(Answer(200, []))
    make(script, fake).list("source")
    assert fake.sleeps == []


def test_a_pause_that_has_passed_costs_no_wait(script, fake):
    script.then(Answer(429, headers={"Retry-After": "2"}), Answer(200, []), Answer(200, []))
    c = make(script, fake)
    c.list("source")
    c.list("source")
    assert fake.sleeps == [2.0]


def test_only_these_headers_are_sent(script, fake):
    script.then(Answer(200, []))
    make(script, fake).list("source")
    assert set(script.seen[0].headers) == {
        "host",
        "accept",
        "accept-encoding",
        "connection",
        "user-agent",
        "authorization",
    }


def test_a_given_token_is_used_before_any_exchange_and_renewed_on_a_401(script, fake):
    c = make(script, fake, token="given", client_id="cid", secret="csecret")
    script.then(Answer(200, []), Answer(401), Answer(200, {"accessToken": "issued"}))
    script.then(Answer(200, []))
    c.list("source")
    c.list("source")
    assert [s.headers.get("authorization") for s in script.seen] == [
        "Bearer given",
        "Bearer given",
        None,
        "Bearer issued",
    ]


def test_redacting_adds_to_what_was_redacted():
    c = StreamkapClient("https://api.example.com", token="t")
    c.redact(["one"])
    c.redact(["two"])
    assert c.scrubbed("one two") == "******** ********"


def test_a_page_size_of_one_said_by_the_server_reads_on(script, fake):
    script.then(
        Answer(200, {"result": [source("a")], "page_size": 1}),
        Answer(200, {"result": [], "page_size": 1}),
    )
    assert [o.id for o in make(script, fake).list("source", page_size=50)] == ["a"]
    assert len(script.seen) == 2


def test_waits_past_the_deadline_name_the_request_in_every_path(fake, script, steady):
    url = f"http://127.0.0.1:{free_port()}"
    c = StreamkapClient(url, token="t", deadline=1, backoff=2, clock=fake.clock, sleep=fake.sleep)
    err = raised(c.get, "source", "s1")
    assert str(err) == (
        f"GET {url}/sources/s1: retrying would take 2 s more, past the deadline (1 s left of 1 s)"
    )
    script.then(Answer(429, headers={"Retry-After": "9"}))
    err = raised(make(script, fake, deadline=8).get, "source", "s1")
    assert str(err) == (
        f"GET {script.url}/sources/s1: retrying would take 9 s more, past the deadline "
        "(8 s left of 8 s)"
    )
    script.then(Answer(503, headers={"Retry-After": "1"}))
    err = raised(make(script, fake, deadline=0.4).get, "source", "s1")
    assert str(err).endswith("retrying would take 1 s more, past the deadline (0 s left of 0.4 s)")


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda c: c.get("source", "s1"), "GET", "/sources/s1"),
        (lambda c: c.create("source", {"name": "x"}), "POST", "/sources"),
        (lambda c: c.update("source", "s1", {"name": "x"}), "PUT", "/sources/s1"),
    ],
)
def test_a_wrong_object_in_an_answer_names_the_request(script, fake, call, method, path):
    script.then(Answer(200, {"id": "s1", "name": "x"}))
    err = raised(call, make(script, fake))
    assert str(err) == f"{method} {script.url}{path}: unexpected source in the answer (connector)"
    script.then(Answer(400, b"no"))
    err = raised(call, make(script, fake))
    assert str(err).startswith(f"{method} {script.url}{path}")


def test_a_nested_field_is_named_by_its_dotted_place(script, fake):
    pipeline = {"id": "p1", "name": "p", "source": {"name": "s"}, "destination": {"id": "d"}}
    script.then(Answer(200, pipeline))
    err = raised(make(script, fake).get, "pipeline", "p1")
    assert (
        str(err) == f"GET {script.url}/pipelines/p1: unexpected pipeline in the answer (source.id)"
    )
