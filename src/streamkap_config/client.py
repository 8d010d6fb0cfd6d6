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
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .definitions import ConnectorDefinition, parse_definitions
from .records import record

if TYPE_CHECKING:
    from .resources import Resource
from .errors import ApiError, StreamkapConfigError

__all__ = ["DEFAULT_API_URL", "MAX_RESPONSE_BYTES", "ConnectorsResponse", "StreamkapClient"]

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.streamkap.com"
_RETRY_STATUSES = {429, 500, 502, 503, 504}
#: The most a response may hold once decoded; a connector catalogue is a few MB.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_SNIPPET = 80


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _snippet(data: bytes, secrets: tuple[str | None, ...], limit: int = _SNIPPET) -> str:
    """A short, whitespace-folded prefix of a body, with every credential cut out."""
    text = data[: limit * 8].decode("utf-8", "replace")
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


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
        self.max_bytes = max_bytes
        # Renew an issued token this many seconds before it expires.
        self.renew_before = renew_before
        self._deadline_at = float("inf")  # set by deadline_within() for a batch of requests
        self._token = token
        self._client_id = client_id
        self.__secret = secret
        self._expires_at = float("inf") if token else 0.0
        self._auth_lock = threading.Lock()
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout),
            headers={"Accept": "application/json", "User-Agent": "streamkap-config"},
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

    @contextlib.contextmanager
    def deadline_within(self, seconds: float) -> Iterator[None]:
        """Every request made inside the block ends within ``seconds`` from now."""
        previous = self._deadline_at
        self._deadline_at = min(previous, time.monotonic() + seconds)
        try:
            yield
        finally:
            self._deadline_at = previous

    def _secrets(self) -> tuple[str | None, ...]:
        return (self._token, self.__secret)

    def __enter__(self) -> StreamkapClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- auth -----------------------------------------------------------------------------

    def _bearer(self, force: bool = False) -> str | None:
        with self._auth_lock:
            if self._client_id is None or self.__secret is None:
                return self._token
            if force or self._token is None or time.monotonic() >= self._expires_at:
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
                raise ValueError("empty accessToken")
            _header_safe(token, "the issued access token")
        except (ValueError, KeyError, TypeError, RecursionError, StreamkapConfigError) as exc:
            raise ApiError(
                "POST",
                url,
                response.status_code,
                f"unexpected token response ({exc.__class__.__name__})",
            ) from None
        # Renew a little early so that a request never carries an expired token.
        return token, time.monotonic() + max(0.0, expires_in - self.renew_before)

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
        shown = url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        deadline = min(self._deadline_at, time.monotonic() + self.deadline)
        while True:
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
                    method, shown, None, f"{kind} after {attempt + 1} attempts"
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
                self._wait(delay, deadline, method, shown)
                continue
            if status == 304 or 200 <= status < 300:
                return response
            reason = {
                401: "unauthorized (set STREAMKAP_TOKEN, or STREAMKAP_CLIENT_ID and "
                "STREAMKAP_SECRET)",
                403: "forbidden",
                404: "not found",
                429: f"rate limited after {attempt + 1} attempts",
            }.get(
                status,
                f"server error after {attempt + 1} attempts" if status >= 500 else "request failed",
            )
            raise ApiError(
                method, shown, status, reason, _snippet(response.content, self._secrets())
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
        if time.monotonic() >= deadline:
            raise ApiError(method, shown, None, f"no answer within {self.deadline:g} s")
        with self._http.stream(
            method, url, params=params, headers=headers, json=json_body
        ) as response:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():  # decoded: a gzip bomb is counted unpacked
                size += len(chunk)
                if size > self.max_bytes:
                    raise ApiError(
                        method,
                        shown,
                        response.status_code,
                        f"response larger than {self.max_bytes:,} bytes; refused",
                    )
                if time.monotonic() >= deadline:
                    raise ApiError(
                        method,
                        shown,
                        response.status_code,
                        f"response not complete within {self.deadline:g} s",
                    )
                chunks.append(chunk)
            return Response(response.status_code, response.headers, b"".join(chunks))

    def _wait(self, delay: float, deadline: float, method: str, shown: str) -> None:
        if time.monotonic() + delay >= deadline:
            raise ApiError(method, shown, None, f"no answer within {self.deadline:g} s")
        time.sleep(delay)

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
        from .kinds import KINDS

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

    def _path(self, kind: str) -> str:
        from .resources import RESOURCES

        if kind not in RESOURCES:
            raise StreamkapConfigError(f"unknown kind {kind!r}")
        return f"{self.base_url}/{kind}s"

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

    def list(self, kind: str, name: str | None = None, page_size: int = 100) -> list[Resource]:
        """Every object of ``kind`` (all pages); with ``name``, those named exactly that."""
        url = self._path(kind)
        found: list[Resource] = []
        page = 1
        while True:
            params = {"page": str(page), "page_size": str(min(100, page_size))}
            if name is not None:
                params["partial_name"] = name  # a substring filter: exact names kept below
            response = self._send("GET", url, params=params)
            data = self._json("GET", url, response)
            items = data.get("result") if isinstance(data, dict) else data
            if not isinstance(items, list):
                raise ApiError("GET", url, response.status_code, "expected a list of results")
            found.extend(self._object(kind, "GET", url, item) for item in items)
            if not (isinstance(data, dict) and data.get("has_next")) or not items or page > 10_000:
                break
            page += 1
        return [o for o in found if name is None or o.name == name]

    def get(self, kind: str, ident: str) -> Resource:
        """One object by id."""
        url = f"{self._path(kind)}/{ident}"
        response = self._send("GET", url)
        return self._object(kind, "GET", url, self._json("GET", url, response))

    def create(self, kind: str, body: dict[str, Any]) -> Resource:
        """``POST /{kind}s`` without waiting and without secrets in the answer.

        Not retried after a timeout or a server error (the object may exist):
        look it up by name before trying again.
        """
        url = self._path(kind)
        params = {"secret_returned": "false", "wait": "false"}
        response = self._send("POST", url, params=params, json_body=body)
        return self._object(kind, "POST", url, self._json("POST", url, response))

    def update(self, kind: str, ident: str, body: dict[str, Any]) -> Resource:
        """``PUT /{kind}s/{id}`` (it replaces lists such as ``table.include.list``)."""
        url = f"{self._path(kind)}/{ident}"
        params = {"secret_returned": "false", "wait": "false"}
        response = self._send("PUT", url, params=params, json_body=body)
        return self._object(kind, "PUT", url, self._json("PUT", url, response))

    def connector_definitions(
        self, code: str | None = None, *, kind: str = "source"
    ) -> tuple[ConnectorDefinition, ...]:
        """Parsed definitions of one connector of ``kind``, or of all of them."""
        response = self.get_connectors(code, kind=kind)
        if code is not None:
            return parse_definitions(response.data, code=code, kind=kind)
        from .bundle import bundled_schemas

        codes = {v: c for c, v in bundled_schemas(kind).display_names().items()}
        return parse_definitions(response.data, codes=codes, kind=kind)
