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
- The token and the secret never appear in logs, errors or reprs. An error
  names the method, URL and status and carries a short body snippet.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .definitions import ConnectorDefinition, parse_definitions
from .errors import ApiError, StreamkapConfigError

__all__ = ["DEFAULT_API_URL", "ConnectorsResponse", "StreamkapClient"]

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.streamkap.com"
_RETRY_STATUSES = {429, 500, 502, 503, 504}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _snippet(text: str, limit: int = 200) -> str:
    folded = " ".join(text.split())
    return folded if len(folded) <= limit else folded[: limit - 3] + "..."


@dataclass(frozen=True)
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
    ) -> None:
        url = (base_url or DEFAULT_API_URL).rstrip("/")
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
            data = response.json()
            token = data["accessToken"]
            expires_in = float(data.get("expiresIn", 3600))
            if not isinstance(token, str) or not token:
                raise ValueError("empty accessToken")
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(
                "POST",
                url,
                response.status_code,
                f"unexpected token response ({exc.__class__.__name__})",
            ) from None
        # Renew a little early so that a request never carries an expired token.
        return token, time.monotonic() + max(0.0, expires_in - 30)

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
    ) -> httpx.Response:
        attempt = 0
        reauthed = False
        while True:
            request_headers = dict(headers or {})
            if auth:
                token = self._bearer()
                if token:
                    request_headers["Authorization"] = f"Bearer {token}"
            shown = url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
            try:
                response = self._http.request(
                    method, url, params=params, headers=request_headers, json=json_body
                )
                body = response.content  # read fully: a truncated body raises here
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, httpx.TimeoutException)
                    else (f"connection failed ({exc.__class__.__name__})")
                )
                if attempt < self.retries:
                    attempt += 1
                    delay = self._delay(attempt, None)
                    log.info("%s %s %s; retry %d in %.2fs", method, shown, kind, attempt, delay)
                    time.sleep(delay)
                    continue
                raise ApiError(
                    method, shown, None, f"{kind} after {attempt + 1} attempts"
                ) from None
            status = response.status_code
            if status == 401 and auth and self._client_id and not reauthed:
                reauthed = True
                self._bearer(force=True)
                continue
            if status in _RETRY_STATUSES and attempt < self.retries:
                attempt += 1
                delay = self._delay(attempt, response.headers.get("Retry-After"))
                log.info("%s %s -> %d; retry %d in %.2fs", method, shown, status, attempt, delay)
                time.sleep(delay)
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
            raise ApiError(method, shown, status, reason, _snippet(body.decode("utf-8", "replace")))

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
        except ValueError:
            raise ApiError(
                "GET",
                shown,
                response.status_code,
                "response is not JSON",
                _snippet(response.content.decode("utf-8", "replace")),
            ) from None
        return ConnectorsResponse(shown, data, response.headers.get("ETag"))

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
