"""HTTP client for the Streamkap API: auth, timeouts, bounded retries.

>>> client = StreamkapClient("https://api.streamkap.com", token="t0k3n")
>>> client
StreamkapClient('https://api.streamkap.com', auth='token')

- Base URL from the argument, else ``STREAMKAP_API_URL``, else
  ``https://api.streamkap.com``. Plain HTTP is refused except to loopback hosts.
- Auth: ``STREAMKAP_TOKEN`` as a bearer token, or ``STREAMKAP_CLIENT_ID`` +
  ``STREAMKAP_SECRET`` exchanged at ``POST /auth/access-token`` and renewed
  before it expires (and once on a 401).
- Every request has a timeout. Connection errors, timeouts, 429 (honouring
  ``Retry-After``) and 5xx are retried with exponential backoff and jitter, a
  bounded number of times; other 4xx are not.
- Bounded: every response body is read as a stream and refused past
  :data:`MAX_RESPONSE_BYTES` once decoded (a gzip bomb stops there); every
  request has a total deadline (``deadline``, 60 s), retries and waits
  included, so a server trickling bytes cannot hold a run; a pull can set a
  deadline for all its requests (:meth:`StreamkapClient.deadline_within`).
- The token and the secret never appear in logs, errors or reprs: an error
  names the method, URL and status and quotes at most a short prefix of the
  body, with any credential cut out of it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import httpx

from ..core.records import record

if TYPE_CHECKING:
    from .endpoints import Endpoint
    from .resources import Resource
from ..core.errors import ApiError, ListingTooLargeError, StreamkapConfigError

__all__ = ["DEFAULT_API_URL", "MAX_RESPONSE_BYTES", "ConnectorsResponse", "StreamkapClient"]

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.streamkap.com"
_RETRY_STATUSES = {429, 500, 502, 503, 504}
#: The most a response may hold once decoded; a connector catalogue is a few MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_SNIPPET = 80
#: The most pages one listing reads; past it the listing fails (it never truncates).
MAX_PAGES = 2_000
#: What every write asks: no secrets in the answer, no waiting for the connector.
_WRITE_PARAMS = (("secret_returned", "false"), ("wait", "false"))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # urlsplit's hostname: no brackets
    except ValueError:
        return False


def _variants(secret: str) -> set[str]:
    """The forms a value can take in a body: as is, JSON-escaped, URL-encoded, folded."""
    from urllib.parse import quote, quote_plus

    escaped = json.dumps(secret, ensure_ascii=False)[1:-1]
    ascii_escaped = json.dumps(secret)[1:-1]
    forms = {secret, escaped, ascii_escaped, escaped.replace("/", "\\/"), quote(secret, safe="")}
    forms |= {quote_plus(secret), " ".join(secret.split())}
    return {f for f in forms if f}


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every form of every secret replaced by ``********`` (longest first)."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms |= _variants(secret)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "********")
    return text


#: The most a compressed body unpacks to in one step: a gzip bomb that arrives in one
#: piece (64 KiB of it is 64 MiB of zeros) is still counted as it unpacks.
DECODE_STEP = 64 * 1024


def _decoded(raw: Iterator[bytes], encoding: str) -> Iterator[bytes]:
    """The body's bytes as sent, unpacked by its Content-Encoding at most
    :data:`DECODE_STEP` bytes at a time (httpx unpacks each received piece whole)."""
    import zlib

    names = [e.strip().lower() for e in encoding.split(",") if e.strip()]
    names = [e for e in names if e != "identity"]
    if not names:
        yield from raw
        return
    if len(names) > 1 or names[0] not in ("gzip", "deflate"):
        raise httpx.DecodingError(f"unsupported content encoding {encoding!r}")
    unpack = zlib.decompressobj(16 + zlib.MAX_WBITS if names[0] == "gzip" else zlib.MAX_WBITS)
    # No flush at the end: a stream's trailer (its checksum) comes after its last byte of
    # output, so a stream that reached its end has nothing left to give, and one that
    # did not is refused below whatever it holds.
    try:
        for piece in raw:
            while piece:
                out = unpack.decompress(piece, DECODE_STEP)
                piece = unpack.unconsumed_tail
                if out:
                    yield out
    except zlib.error:
        raise httpx.DecodingError("the body does not unpack") from None
    if not unpack.eof:
        raise httpx.DecodingError("the compressed body ends early")


def _snippet(data: bytes, secrets: Iterable[str | None], limit: int = _SNIPPET) -> str:
    """A short, whitespace-folded prefix of a body, with every secret cut out.

    The whole decoded body is scrubbed, then folded and scrubbed again, and only
    then cut: no transformation can bring a secret back together.
    """
    secrets = tuple(secrets)
    text = data.decode("utf-8", "replace")
    with contextlib.suppress(ValueError, RecursionError):
        # JSON is shown re-encoded: no escape (\/, \u002d) can hide a secret's form.
        text = json.dumps(json.loads(text), ensure_ascii=False)
    if "%" in text:  # percent-encoded in any case (%2f, %2F): shown decoded
        from urllib.parse import unquote

        text = unquote(text)
    text = scrub(text, secrets)
    folded = scrub(" ".join(text.split()), secrets)
    folded = "".join(c if c.isprintable() else "?" for c in folded)
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


def _detail(data: bytes, secrets: Iterable[str | None], limit: int = 300) -> str | None:
    """The API's own words from ``{"detail": ...}`` (a text, or FastAPI's list of errors)."""
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        return None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):  # [{"loc": ["body", "transforms", 0, "topic_id"], "msg": ...}]
        parts = []
        for item in detail[:5]:
            if isinstance(item, dict):
                loc = [str(x) for x in item.get("loc") or [] if x != "body"]
                part = " ".join(p for p in (".".join(loc), str(item.get("msg", ""))) if p)
                if part:  # an item with neither a place nor words adds no "; "
                    parts.append(part)
        detail = "; ".join(parts) + (f" (and {len(detail) - 5} more)" if len(detail) > 5 else "")
    if not isinstance(detail, str) or not detail.strip():
        return None
    secrets = tuple(secrets)
    text = scrub(" ".join(scrub(detail, secrets).split()), secrets)
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


def _header_safe(value: str | None, name: str) -> None:
    """A credential must go into an HTTP header as printable ASCII."""
    if value is not None and not (value.isascii() and value.isprintable()):
        raise StreamkapConfigError(
            f"{name} holds characters that cannot be sent in an HTTP header "
            "(only printable ASCII is allowed)"
        )


@record(frozen=True)
class Response:
    """A whole response: status, headers and the decoded body (bounded in size)."""

    status_code: int
    headers: httpx.Headers
    content: bytes


@record(frozen=True)
class ConnectorsResponse:
    """The answer to ``GET /sources/connectors``: data (None on 304) and its ETag."""

    url: str
    data: Any
    etag: str | None
    not_modified: bool = False


class StreamkapClient:
    """A small, thread-safe client for the endpoints this tool needs."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        token: str | None = None,
        client_id: str | None = None,
        secret: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 30.0,
        deadline: float = 60.0,
        max_bytes: int = MAX_RESPONSE_BYTES,
        renew_before: float = 30.0,
        list_deadline: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        url = (base_url or DEFAULT_API_URL).rstrip("/")
        _header_safe(token, "STREAMKAP_TOKEN")
        _header_safe(client_id, "STREAMKAP_CLIENT_ID")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StreamkapConfigError(f"API URL {url!r} is not an http(s) URL")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise StreamkapConfigError(
                f"API URL {url!r} uses plain HTTP; only https is allowed (except to loopback)"
            )
        self.base_url = url
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.deadline = deadline
        self.list_deadline = list_deadline  # every page of one listing, together
        self.max_bytes = max_bytes
        # Renew an issued token this many seconds before it expires.
        self.renew_before = renew_before
        # What deadlines are measured with, and how a back-off waits (a test's fake clock).
        self.clock, self._sleep = clock, sleep
        self._local = threading.local()  # deadline_within() is per thread
        self._pause_until = 0.0  # after a 429: no request of any thread before then
        self._token = token
        self._client_id = client_id
        self.__secret = secret
        self.__redacted: set[str] = set()
        self._expires_at = float("inf") if token else 0.0
        self._auth_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            # Only the encodings _decoded unpacks, in bounded steps.
            headers={
                "Accept": "application/json",
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": "streamkap-config",
            },
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    def from_env(cls, base_url: str | None = None, **kwargs: Any) -> StreamkapClient:
        """A client configured from ``STREAMKAP_*`` environment variables."""
        env = os.environ
        return cls(
            base_url or env.get("STREAMKAP_API_URL") or DEFAULT_API_URL,
            token=env.get("STREAMKAP_TOKEN") or None,
            client_id=env.get("STREAMKAP_CLIENT_ID") or None,
            secret=env.get("STREAMKAP_SECRET") or None,
            **kwargs,
        )

    def __repr__(self) -> str:
        auth = (
            "token"
            if self._token and not self._client_id
            else ("client credentials" if self._client_id else "none")
        )
        return f"StreamkapClient({self.base_url!r}, auth={auth!r})"

    def close(self) -> None:
        self._http.close()

    @property
    def _deadline_at(self) -> float:
        return float(getattr(self._local, "deadline_at", float("inf")))

    @contextlib.contextmanager
    def deadline_within(self, seconds: float) -> Iterator[None]:
        """Every request this thread makes inside the block ends within ``seconds``."""
        previous = self._deadline_at
        self._local.deadline_at = min(previous, self.clock() + seconds)
        try:
            yield
        finally:
            self._local.deadline_at = previous

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._token, self.__secret, *self.__redacted)

    def scrubbed(self, text: str) -> str:
        """``text`` (from a server: a task's trace) without the token, the secret or any
        value given to :meth:`redact`."""
        return scrub(text, self._secrets())

    def redact(self, values: Iterable[str]) -> None:
        """Cut these values (secrets sent, values read from the environment) out of
        every error this client raises from now on, whatever the server echoes."""
        self.__redacted |= {v for v in values if isinstance(v, str) and v}

    def __enter__(self) -> StreamkapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- auth -----------------------------------------------------------------------------

    def _bearer(self, force: bool = False) -> str | None:
        with self._auth_lock:
            if self._client_id is None or self.__secret is None:
                return self._token
            if force or self._token is None or self.clock() >= self._expires_at:
                self._token, self._expires_at = self._fetch_token()
            return self._token

    def _fetch_token(self) -> tuple[str, float]:
        url = f"{self.base_url}/auth/access-token"
        body = {"client_id": self._client_id, "secret": self.__secret}
        response = self._send("POST", url, json_body=body, auth=False)
        try:
            data = json.loads(response.content)
            token = data["accessToken"]
            expires_in = float(data.get("expiresIn", 3600))
            if not isinstance(token, str) or not token:
                raise ValueError  # only the class is said: see below
            _header_safe(token, "the issued access token")
        except (ValueError, KeyError, TypeError, RecursionError, StreamkapConfigError) as exc:
            raise ApiError(
                "POST",
                url,
                response.status_code,
                f"unexpected token response ({exc.__class__.__name__})",
            ) from None
        # Renew a little early so that a request never carries an expired token.
        return token, self.clock() + max(0.0, expires_in - self.renew_before)

    # -- requests -------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        auth: bool = True,
    ) -> Response:
        attempt = 0
        reauthed = False
        shown = url + ("?" + urlencode(params) if params else "")
        deadline = min(self._deadline_at, self.clock() + self.deadline)
        while True:
            pause = self._pause_until - self.clock()
            if pause > 0:  # a 429 seen by any thread slows every thread down
                self._wait(pause, deadline, method, shown)
            request_headers = dict(headers or {})
            if auth:
                token = self._bearer()
                if token:
                    request_headers["Authorization"] = f"Bearer {token}"
            try:
                response = self._exchange(
                    method, url, params, request_headers, json_body, deadline, shown
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, httpx.TimeoutException)
                    else (f"connection failed ({exc.__class__.__name__})")
                )
                if attempt < self.retries and method != "POST":
                    # A create that timed out may have happened: never sent twice here.
                    attempt += 1
                    self._wait(self._delay(attempt, None), deadline, method, shown)
                    log.info("%s %s %s; retry %d", method, shown, kind, attempt)
                    continue
                raise ApiError(
                    method, shown, None, f"{kind} after {_attempts(attempt + 1)}"
                ) from None
            except httpx.DecodingError:
                raise ApiError(
                    method, shown, None, "the response body could not be decoded"
                ) from None
            status = response.status_code
            if status == 401 and auth and self._client_id and not reauthed:
                reauthed = True
                self._bearer(force=True)
                continue
            retryable = status == 429 or (status in _RETRY_STATUSES and method != "POST")
            if retryable and attempt < self.retries:
                attempt += 1
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                log.info("%s %s -> %d; retry %d in %.2fs", method, shown, status, attempt, delay)
                if status == 429:
                    with self._auth_lock:  # one shared pause, never a retry storm
                        self._pause_until = max(self._pause_until, self.clock() + delay)
                    continue
                self._wait(delay, deadline, method, shown)
                continue
            if status == 304 or 200 <= status < 300:
                return response
            reason = {
                401: "unauthorized (set STREAMKAP_TOKEN, or STREAMKAP_CLIENT_ID and "
                "STREAMKAP_SECRET)",
                403: "forbidden",
                404: "not found",
                429: f"rate limited after {_attempts(attempt + 1)}",
            }.get(
                status,
                f"server error after {_attempts(attempt + 1)}"
                if status >= 500
                else "request failed",
            )
            secrets = self._secrets()
            raise ApiError(
                method,
                shown,
                status,
                reason,
                _snippet(response.content, secrets),
                _detail(response.content, secrets),
            )

    def _exchange(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        headers: dict[str, str],
        json_body: Any,
        deadline: float,
        shown: str,
    ) -> Response:
        """One request, its body read as a stream: bounded in decoded size and in time."""
        if self.clock() >= deadline:
            raise ApiError(method, shown, None, f"no answer within {self.deadline:g} s")
        with self._http.stream(
            method, url, params=params, headers=headers, json=json_body
        ) as response:
            chunks: list[bytes] = []
            size = 0
            encoding = response.headers.get("content-encoding", "")
            for chunk in _decoded(response.iter_raw(), encoding):  # a bomb counted unpacked
                size += len(chunk)
                if size > self.max_bytes:
                    raise ApiError(
                        method,
                        shown,
                        response.status_code,
                        f"response larger than {self.max_bytes:,} bytes; refused",
                    )
                if self.clock() >= deadline:
                    raise ApiError(
                        method,
                        shown,
                        response.status_code,
                        f"response not complete within {self.deadline:g} s",
                    )
                chunks.append(chunk)
            return Response(response.status_code, response.headers, b"".join(chunks))

    def _wait(self, delay: float, deadline: float, method: str, shown: str) -> None:
        left = deadline - self.clock()
        if delay >= left:
            raise ApiError(
                method,
                shown,
                None,
                f"retrying would take {delay:g} s more, past the deadline "
                f"({max(0.0, left):.0f} s left of {self.deadline:g} s)",
            )
        self._sleep(delay)

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(0.0, float(retry_after)), self.max_retry_after)
            except ValueError:
                pass  # an HTTP date: fall back to backoff
        base = self.backoff * (2 ** (attempt - 1))
        return float(base * (0.5 + random.random()))

    def get_connectors(
        self, code: str | None, *, etag: str | None = None, kind: str = "source"
    ) -> ConnectorsResponse:
        """``GET /sources/connectors[?connector_code=code]``, conditional on ``etag``.

        ``kind="destination"`` asks ``/destinations/connectors``.
        """
        from ..core.kinds import KINDS

        path = KINDS[kind].definitions_path
        if path is None:
            raise ApiError("GET", self.base_url, None, f"no endpoint serves {kind} definitions")
        url = f"{self.base_url}{path}"
        params = {"connector_code": code} if code else None
        shown = url + (f"?connector_code={code}" if code else "")
        headers = {"If-None-Match": etag} if etag else None
        response = self._send("GET", url, params=params, headers=headers)
        if response.status_code == 304:
            return ConnectorsResponse(shown, None, etag, not_modified=True)
        try:
            data = json.loads(response.content)
        except (ValueError, RecursionError) as exc:
            reason = (
                "response nested too deeply"
                if isinstance(exc, RecursionError)
                else ("response is not JSON")
            )
            raise ApiError(
                "GET",
                shown,
                response.status_code,
                reason,
                _snippet(response.content, self._secrets()),
            ) from None
        return ConnectorsResponse(shown, data, response.headers.get("ETag"))

    # -- objects: sources, destinations, transforms, pipelines ---------------------------

    def _endpoint(self, kind: str) -> Endpoint:
        from .endpoints import ENDPOINTS

        if kind not in ENDPOINTS:
            raise StreamkapConfigError(f"unknown kind {kind!r}")
        return ENDPOINTS[kind]

    def _json(self, method: str, url: str, response: Response) -> Any:
        try:
            return json.loads(response.content) if response.content else None
        except (ValueError, RecursionError):
            raise ApiError(
                method,
                url,
                response.status_code,
                "response is not JSON",
                _snippet(response.content, self._secrets()),
            ) from None

    def _object(self, kind: str, method: str, url: str, data: Any) -> Resource:
        from pydantic import ValidationError

        from .resources import RESOURCES, unwrap

        try:
            return RESOURCES[kind].model_validate(unwrap(data))
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise ApiError(
                method, url, None, f"unexpected {kind} in the answer ({fields})"
            ) from None

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: Any = None,
    ) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = self._send(method, url, params=params or None, json_body=body)
        except httpx.InvalidURL:  # a control character in an id that slipped past quoting
            raise ApiError(method, url, None, "the request URL is not valid") from None
        return self._json(method, url, response)

    def list(
        self,
        kind: str,
        name: str | None = None,
        page_size: int = 100,
        *,
        max_pages: int | None = None,
    ) -> list[Resource]:
        """Every object of ``kind`` (all pages); with ``name``, those named exactly that.

        Pages are read until one is shorter than the page size: the API's
        ``total`` can be wrong while objects are deleted, and it has no
        ``has_next``. ``partial_name`` is a substring filter, so exact names
        are kept here. Bounded: at most :data:`MAX_PAGES` pages within one
        deadline (``list_deadline``), a repeated page stops the listing with an
        error, and with ``name`` only matching objects are kept. ``max_pages``
        stops earlier with :class:`~streamkap_config.core.errors.ListingTooLargeError`
        (plan then looks its documents up one by one).
        """
        endpoint = self._endpoint(kind)
        url = f"{self.base_url}{endpoint.path}"
        size = max(1, min(100, page_size))
        found: list[Resource] = []
        seen: set[tuple[str, ...]] = set()
        with self.deadline_within(self.list_deadline):
            for page in range(1, MAX_PAGES + 1):
                if max_pages is not None and page > max_pages:
                    raise ListingTooLargeError("GET", url, max_pages)
                params = {"page": str(page), "page_size": str(size)}
                if name is not None:
                    params["partial_name"] = name
                data = self._call("GET", endpoint.path, params)
                items = data.get("result") if isinstance(data, dict) else data
                if not isinstance(items, list):
                    raise ApiError("GET", url, None, "expected a list of results")
                objects = [self._object(kind, "GET", url, item) for item in items]
                ids = tuple(o.id for o in objects)
                if ids and ids in seen:
                    raise ApiError(
                        "GET",
                        url,
                        None,
                        f"page {page} repeats an earlier page; the listing was stopped "
                        "rather than read without end",
                    )
                seen.add(ids)
                found.extend(o for o in objects if name is None or o.name == name)
                answered = data.get("page_size") if isinstance(data, dict) else None
                limit = answered if isinstance(answered, int) and 0 < answered <= size else size
                if len(items) < limit:
                    return found
        raise ApiError(
            "GET",
            url,
            None,
            f"more than {MAX_PAGES} pages of {kind}s; refused rather than planning from part "
            "of the account",
        )

    def get(self, kind: str, ident: str) -> Resource:
        """One object by id (``ApiError`` with status 404 when there is none)."""
        endpoint = self._endpoint(kind)
        path = endpoint.object_path(ident)
        data = self._call("GET", path, dict(endpoint.read_params))
        return self._object(kind, "GET", f"{self.base_url}{path}", data)

    def create(self, kind: str, body: dict[str, Any]) -> Resource:
        """``POST /{kind}s?secret_returned=false&wait=false``.

        Not retried after a timeout or a server error (the object may exist):
        look it up by name before trying again. The answer's statuses are
        transient (``Pending``): a later read settles them.
        """
        path = self._endpoint(kind).path
        data = self._call("POST", path, dict(_WRITE_PARAMS), body)
        return self._object(kind, "POST", f"{self.base_url}{path}", data)

    def update(self, kind: str, ident: str, body: dict[str, Any]) -> Resource:
        """Replace object ``ident`` with ``body``, a whole body (secrets included).

        ``PUT /{kind}s/{id}``, or ``PUT /transforms`` with the id in the body.
        It replaces lists such as ``table.include.list``.
        """
        path, params, sent = self._endpoint(kind).update_request(ident, body)
        data = self._call("PUT", path, {**dict(_WRITE_PARAMS), **params}, sent)
        return self._object(kind, "PUT", f"{self.base_url}{path}", data)

    def delete(self, kind: str, ident: str) -> None:
        """Delete object ``ident`` (``DELETE /{kind}s/{id}``, ``/transforms?id=``)."""
        path, params = self._endpoint(kind).delete_request(ident)
        self._call("DELETE", path, params)
