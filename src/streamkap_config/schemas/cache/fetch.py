"""Fetching connector definitions from the API into the cache: :class:`SchemaCache`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from ...core.errors import CacheError, DefinitionError, StreamkapConfigError
from ...core.kinds import KINDS
from ...core.records import record
from ..bundle import bundled_schemas
from ..definitions import ConnectorDefinition, parse_definitions
from .store import valid_code
from .versions import CacheVersions

if TYPE_CHECKING:
    from ...remote.client import StreamkapClient

__all__ = ["PullResult", "SchemaCache", "connector_definitions"]

R = TypeVar("R")


@record(frozen=True)
class PullResult:
    """What a pull did for one connector: ``updated``, ``unchanged`` or ``error``."""

    connector: str
    status: str
    version: str | None = None
    message: str = ""


class SchemaCache(CacheVersions):
    """Connector schemas of one kind from the lock pin, the on-disk cache and the bundle.

    ``get(code)`` is local only, and reads the disk once per connector for the
    life of the instance (a pull through it refreshes that); make a new instance
    to see what other processes pulled. ``pull()`` fetches from the API.
    :meth:`for_kind` gives the cache of another kind (sharing the directory,
    the lock file and the notices). Pass the cache to
    :func:`~streamkap_config.validate_document` as ``schemas=``.
    """

    def pull(
        self,
        codes: Sequence[str] | None = None,
        *,
        client: StreamkapClient | None = None,
        concurrency: int = 16,
        progress: Callable[[PullResult], None] | None = None,
        deadline: float = 300.0,
    ) -> list[PullResult]:
        """Fetch connector definitions of this cache's kind from the API into the cache.

        ``codes=None`` fetches every connector in one request; otherwise one
        request per code, up to ``concurrency`` (16) at a time, each sending the
        stored ETag. A bad response is reported in its :class:`PullResult`
        and never cached; the previous version stays current. Every request
        of the pull ends within ``deadline`` seconds. Transform definitions are
        bundled only (no endpoint serves them).
        """
        from ...remote.client import StreamkapClient

        if KINDS[self.kind].definitions_path is None:
            raise CacheError(f"{KINDS[self.kind].plural} are bundled only: nothing to pull")
        for code in codes or ():
            if not valid_code(code):
                raise CacheError(f"{code!r} is not a connector code")
        own = client is None
        if client is None:
            client = StreamkapClient.from_env(base_url=self.api_url)
        try:
            return self._pull(client, codes, concurrency, progress, client.clock() + deadline)
        finally:
            if own:
                client.close()

    def _pull(
        self,
        client: StreamkapClient,
        codes: Sequence[str] | None,
        concurrency: int,
        progress: Callable[[PullResult], None] | None,
        end: float,
    ) -> list[PullResult]:
        def within(job: Callable[[], R]) -> R:
            # The deadline is the whole pull's: each worker thread enters what is left of it.
            with client.deadline_within(end - client.clock()):
                return job()

        if codes is None:
            results = within(lambda: self._pull_all(client))
            if progress:
                for r in results:
                    progress(r)
            return results
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            results = []
            for r in pool.map(lambda c: within(lambda: self._pull_one(client, c)), codes):
                results.append(r)
                if progress:
                    progress(r)
            return results

    def _pull_one(self, client: StreamkapClient, code: str) -> PullResult:
        current = self._current(code)
        has_current = current is not None and self._load_cached(code, current["version"])
        etag = current.get("etag") if current and has_current else None
        try:
            response = client.get_connectors(code, etag=etag, kind=self.kind)
            if response.not_modified:
                self._touch(code)
                return PullResult(code, "unchanged", current["version"] if current else None)
            definition = parse_definitions(response.data, code=code, kind=self.kind)[0]
            if current and current["version"] == definition.version and has_current:
                self.store(definition, etag=response.etag, url=response.url)
                return PullResult(code, "unchanged", definition.version)
            self.store(definition, etag=response.etag, url=response.url)
            return PullResult(code, "updated", definition.version)
        except DefinitionError as exc:
            return PullResult(code, "error", None, f"not a valid connector definition: {exc}")
        except StreamkapConfigError as exc:
            return PullResult(code, "error", None, str(exc))

    def _pull_all(self, client: StreamkapClient) -> list[PullResult]:
        try:
            response = client.get_connectors(None, kind=self.kind)
        except StreamkapConfigError as exc:
            return [PullResult("*", "error", None, str(exc))]
        if not isinstance(response.data, dict) or not response.data:
            return [PullResult("*", "error", None, "not a valid connector definition")]
        codes = {v: c for c, v in bundled_schemas(self.kind).display_names().items()}
        results = []
        # One connector at a time: a bad one is reported, the good ones are stored.
        for display_name, body in response.data.items():
            try:
                (definition,) = parse_definitions({display_name: body}, codes=codes, kind=self.kind)
                if not valid_code(definition.code):
                    raise DefinitionError(display_name, None, "not a valid connector code")
                current = self._current(definition.code)
                changed = current is None or current["version"] != definition.version
                self.store(definition, etag=None, url=response.url)
            except (DefinitionError, StreamkapConfigError) as exc:
                name = str(display_name)[:60]
                results.append(PullResult(name, "error", None, str(exc)))
                continue
            status = "updated" if changed else "unchanged"
            results.append(PullResult(definition.code, status, definition.version))
        return results


def connector_definitions(
    client: StreamkapClient, code: str | None = None, *, kind: str = "source"
) -> tuple[ConnectorDefinition, ...]:
    """Parsed definitions of one connector of ``kind``, or of all of them, from the API."""
    response = client.get_connectors(code, kind=kind)
    if code is not None:
        return parse_definitions(response.data, code=code, kind=kind)
    codes = {v: c for c, v in bundled_schemas(kind).display_names().items()}
    return parse_definitions(response.data, codes=codes, kind=kind)
