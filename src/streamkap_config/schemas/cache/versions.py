"""Which version of a schema a run uses (the lock pin, the newest cached, the bundled
one), every version known, and the lock file written from them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.errors import SchemaUnavailableError
from ...core.kinds import KINDS
from ...core.records import record, replace
from ..bundle import SchemaVersion
from ..lockfile import LOCK_FILE, LockFile
from ..storage import StoredFileError, read_json
from .store import VERSION_ID, CacheStore, now_utc, timestamp_or_none, valid_code

if TYPE_CHECKING:
    from ..diff import SchemaDiff

__all__ = ["CacheVersions", "VersionInfo"]


@record(frozen=True)
class VersionInfo:
    """One known version of a connector's schema."""

    connector: str
    version: str
    origin: str  # "cache" or "bundled"
    fetched_at: str | None = None
    current: bool = False


class CacheVersions(CacheStore):
    """What :class:`SchemaCache` reads: versions chosen, listed, loaded, diffed, pinned."""

    def get(self, code: str) -> SchemaVersion | None:
        """The schema to validate ``code`` with: lock pin, then cache, then bundled.

        Returns None for a connector nobody knows (or a code that cannot be
        one); raises :class:`SchemaUnavailableError` when a pinned version is
        nowhere to be found.
        """
        if not valid_code(code):
            return None
        pinned = self.lock.pin(self.kind, code) if self.lock is not None else None
        if pinned is not None:
            return self._pinned(code, pinned)
        if code not in self._chosen:
            self._chosen[code] = self._choose(code)
        return self._chosen[code]

    def _choose(self, code: str) -> SchemaVersion | None:
        current = self._current(code)
        if current is not None:
            found = self._load_cached(code, current["version"])
            if found is not None:
                self._check_age(code, found)
                return found
        return self._bundled.get(code, None)

    def _pinned(self, code: str, version: str) -> SchemaVersion:
        found = self._load_cached(code, version)
        bundled = self._bundled
        if found is None and code in bundled and bundled[code].version == version:
            found = bundled[code]
        if found is None:
            assert self.lock is not None
            raise SchemaUnavailableError(
                code,
                f"version {version[:12]} pinned in {self.lock.path.name} is neither cached "
                "nor bundled; run `streamkap-config schemas pull` or update the lock",
            )
        return replace(found, origin="lock")

    def _check_age(self, code: str, version: SchemaVersion) -> None:
        fetched_at = timestamp_or_none(version.fetched_at)
        if fetched_at is None:
            return
        import datetime as dt

        age = now_utc() - dt.datetime.fromisoformat(fetched_at)
        if age > self.ttl:
            self._notice(
                f"notice: cached schema for {self._label(code)} is {age.days} days old; "
                "run `streamkap-config schemas pull` to refresh it"
            )

    def versions(self, code: str) -> list[VersionInfo]:
        """Every version known for ``code``: cached ones (newest first), then bundled."""
        infos: list[VersionInfo] = []
        current = self._current(code)
        folder = self._dir(code)
        with contextlib.suppress(OSError):
            for sub in folder.iterdir():
                if not VERSION_ID.fullmatch(sub.name) or not sub.is_dir():
                    continue
                try:
                    meta = read_json(sub / "meta.json")
                except (OSError, StoredFileError):
                    continue
                fetched = (
                    timestamp_or_none(meta.get("fetched_at")) if isinstance(meta, dict) else None
                )
                is_current = current is not None and current["version"] == sub.name
                infos.append(VersionInfo(code, sub.name, "cache", fetched, is_current))
        infos.sort(key=lambda i: i.fetched_at or "", reverse=True)
        bundled = self._bundled
        if code in bundled:
            infos.append(VersionInfo(code, bundled[code].version, "bundled"))
        return infos

    def load(self, code: str, version: str) -> SchemaVersion:
        """A specific version by its id or a unique prefix (or ``bundled``, ``current``)."""
        bundled = self._bundled
        if version == "bundled":
            if code not in bundled:
                raise SchemaUnavailableError(code, "no bundled version")
            return bundled[code]
        if version == "current":
            found = self.get(code)
            if found is None:
                raise SchemaUnavailableError(code, "unknown connector")
            return found
        matches = sorted({i.version for i in self.versions(code) if i.version.startswith(version)})
        if not matches:
            raise SchemaUnavailableError(code, f"no version {version!r}")
        if len(matches) > 1:
            raise SchemaUnavailableError(code, f"version prefix {version!r} is ambiguous")
        found = self._load_cached(code, matches[0])
        if found is None and code in bundled and bundled[code].version == matches[0]:
            found = bundled[code]
        if found is None:
            raise SchemaUnavailableError(code, f"version {matches[0][:12]} is unreadable")
        return found

    def diff(self, code: str, old: str | None = None, new: str | None = None) -> SchemaDiff:
        """What changed for ``code`` between two versions.

        Without versions: the lock pin (else the previous cached version, else
        the bundled one) against the newest cached version.
        """
        from ..diff import diff_definitions

        if new is None:
            current = self._current(code)
            new = current["version"] if current else "bundled"
        if old is None:
            pinned = self.lock.pin(self.kind, code) if self.lock is not None else None
            if pinned is not None:
                old = pinned
            else:
                cached = [
                    i for i in self.versions(code) if i.origin == "cache" and i.version != new
                ]
                old = cached[0].version if cached else "bundled"
        before, after = self.load(code, old), self.load(code, new)
        return diff_definitions(before.definition, after.definition)

    def write_lock(
        self,
        path: str | os.PathLike[str] = LOCK_FILE,
        codes: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> LockFile:
        """Pin the version :meth:`get` gives now, for ``codes`` of ``kinds``.

        Default: every connector of every kind (``codes`` names codes of this
        cache's kind unless ``kinds`` is given).
        """
        previous = self.lock
        chosen = (
            list(kinds) if kinds is not None else (list(KINDS) if codes is None else [self.kind])
        )
        for cache in self._kinds.values():
            cache.lock = None
        try:
            pins: dict[str, dict[str, dict[str, str]]] = {}
            for kind in chosen:
                cache = self.for_kind(kind)
                cache.lock = None
                for code in codes if codes is not None else list(cache):
                    found = cache.get(code)
                    if found is None:
                        raise SchemaUnavailableError(code, f"unknown {KINDS[kind].label}")
                    pins.setdefault(kind, {})[code] = {
                        "version": found.version,
                        "origin": found.origin,
                    }
        finally:
            for cache in self._kinds.values():
                cache.lock = previous
        lock = LockFile(Path(path), pins)
        lock.write()
        return lock
