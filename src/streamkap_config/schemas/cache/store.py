"""The cache's storage: where each file lives, reading it back checked, writing it
atomically under the cross-process lock (the layout is in :mod:`..cache`)."""

from __future__ import annotations

import _thread
import contextlib
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.errors import CacheError, DefinitionError, SchemaUnavailableError
from ...core.kinds import KINDS
from ..bundle import SchemaVersion, bundled_schemas, dump_json, sha256_hex
from ..definitions import ConnectorDefinition, canonical_json, parse_definitions
from ..lockfile import LockFile
from ..storage import StoredFileError, atomic_write, parse_json, read_bytes, read_json

if TYPE_CHECKING:
    import datetime as dt

    from typing_extensions import Self

__all__ = ["DEFAULT_TTL_DAYS", "CacheStore", "default_cache_dir", "valid_code"]

# threading.Lock() itself, without importing threading on every run (a pull locks it).
_THREAD_LOCK = _thread.allocate_lock()
DEFAULT_TTL_DAYS = 7.0


def default_cache_dir() -> Path:
    """``STREAMKAP_CONFIG_CACHE``, else the platform's user cache directory."""
    env = os.environ.get("STREAMKAP_CONFIG_CACHE")
    if env:
        return Path(env)
    if sys.platform.startswith("linux"):
        # The XDG rule platformdirs applies on Linux, without importing it on every run.
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
        return base / "streamkap-config"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("streamkap-config", appauthor=False))


def _ttl_from_env() -> dt.timedelta:
    """``STREAMKAP_SCHEMA_TTL_DAYS`` (default 7): when a cached schema gets a notice."""
    import datetime as dt

    raw = os.environ.get("STREAMKAP_SCHEMA_TTL_DAYS", "")
    default = dt.timedelta(days=DEFAULT_TTL_DAYS)
    try:
        return dt.timedelta(days=float(raw)) if raw.strip() else default
    except OverflowError:  # inf, 1e10: never stale
        return dt.timedelta.max if float(raw) > 0 else default
    except ValueError:  # not a number, nan
        return default


def now_utc() -> dt.datetime:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


_CODE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
VERSION_ID = re.compile(r"[0-9a-f]{64}")
_TEMP_MAX_AGE = 3600.0  # seconds: a temp file this old belongs to a killed writer


def valid_code(code: object) -> bool:
    """A connector code as the API spells them: lower-case letters, digits, ``_`` and ``-``."""
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


def timestamp_or_none(value: object) -> str | None:
    """An ISO 8601 time with a time zone, or None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    import datetime as dt

    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return value if parsed.tzinfo is not None else None


class CacheStore:
    """Schemas of one kind as the cache directory holds them (see :class:`SchemaCache`)."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        lock: str | os.PathLike[str] | LockFile | None = None,
        ttl: dt.timedelta | None = None,
        api_url: str | None = None,
        kind: str = "source",
    ) -> None:
        if kind not in KINDS:
            raise CacheError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.lock = lock if isinstance(lock, LockFile) or lock is None else LockFile.read(lock)
        self._ttl = ttl  # read from the environment when first needed
        self.api_url = api_url
        self.kind = kind
        self.notices: list[str] = []
        self._loaded: dict[str, SchemaVersion] = {}
        # What get() chose per connector: a run over many files reads the disk once.
        self._chosen: dict[str, SchemaVersion | None] = {}
        self._bad: set[Path] = set()
        self._kinds: dict[str, CacheStore] = {kind: self}

    @property
    def ttl(self) -> dt.timedelta:
        """How old a cached schema may get before a notice suggests a pull."""
        if self._ttl is None:
            self._ttl = _ttl_from_env()
        return self._ttl

    def for_kind(self, kind: str) -> Self:
        """The cache of ``kind`` over the same directory, lock file and notices."""
        found = self._kinds.get(kind)
        if found is None:
            found = type(self)(
                self.directory, lock=self.lock, ttl=self._ttl, api_url=self.api_url, kind=kind
            )
            found.notices = self.notices
            found._kinds = self._kinds
            self._kinds[kind] = found
        assert isinstance(found, type(self))
        return found

    # -- reading --------------------------------------------------------------------------

    def __repr__(self) -> str:
        lock = f", lock={str(self.lock.path)!r}" if self.lock else ""
        return f"SchemaCache({str(self.directory)!r}, kind={self.kind!r}{lock})"

    @property
    def _bundled(self) -> Mapping[str, SchemaVersion]:
        return bundled_schemas(self.kind)

    @property
    def _root(self) -> Path:
        return self.directory / KINDS[self.kind].section

    def __iter__(self) -> Iterator[str]:
        codes = set(self._bundled)
        with contextlib.suppress(OSError):
            codes.update(
                p.name
                for p in self._root.iterdir()
                if valid_code(p.name) and (p / "current.json").is_file()
            )
        return iter(sorted(codes))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in set(self)

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)
            import logging

            logging.getLogger(__name__).warning("%s", text)

    def _label(self, code: str) -> str:
        return code if self.kind == "source" else f"{self.kind} {code}"

    def _dir(self, code: str, version: str | None = None) -> Path:
        if not valid_code(code) or (version is not None and not VERSION_ID.fullmatch(version)):
            raise SchemaUnavailableError(code, "not a valid connector code")
        base = self._root / code
        return base / version if version else base

    def _current(self, code: str) -> dict[str, Any] | None:
        """``current.json`` of ``code`` if it is sound; a damaged one is reported once."""
        path = self._dir(code) / "current.json"
        try:
            data = read_json(path)
            if not isinstance(data, dict) or not VERSION_ID.fullmatch(str(data.get("version"))):
                raise StoredFileError("no valid version")
        except FileNotFoundError:
            return None
        except (OSError, StoredFileError) as exc:
            if path not in self._bad:
                self._bad.add(path)
                self._notice(f"warning: ignoring damaged cache file {path}: {exc}")
            return None
        etag = data.get("etag")
        return {
            "version": data["version"],
            "etag": etag if isinstance(etag, str) and len(etag) <= 512 else None,
            "fetched_at": timestamp_or_none(data.get("fetched_at")),
        }

    def _load_cached(self, code: str, version: str) -> SchemaVersion | None:
        found = self._loaded.get(version)
        if found is not None:
            return found
        folder = self._dir(code, version)
        if not folder.is_dir():
            return None
        try:
            meta = read_json(folder / "meta.json")
            if not isinstance(meta, dict):
                raise StoredFileError("meta.json is not an object")
            raw = read_bytes(folder / "definition.json")
            if sha256_hex(raw) != version:
                raise StoredFileError("definition.json fails its sha256 check")
            definition = parse_definitions(parse_json(raw), code=code, kind=self.kind)[0]
            schema_bytes = read_bytes(folder / "schema.json")
            if sha256_hex(schema_bytes) != meta.get("schema_sha256"):
                raise StoredFileError("schema.json fails its sha256 check")
            schema = parse_json(schema_bytes)
            if not isinstance(schema, dict):
                raise StoredFileError("schema.json is not an object")
        except (OSError, StoredFileError, DefinitionError) as exc:
            if folder not in self._bad:
                self._bad.add(folder)
                self._notice(
                    f"warning: ignoring cached schema {self._label(code)} {version[:12]} "
                    f"in {folder}: {exc}"
                )
            return None
        from ..jsonschema_gen import GENERATOR_VERSION, config_schema

        if meta.get("generator_version") != GENERATOR_VERSION:
            # Generated by another release: regenerate from the definition.
            schema = config_schema(definition)
        return self._remember(definition, schema, timestamp_or_none(meta.get("fetched_at")))

    def _remember(
        self, definition: ConnectorDefinition, schema: Any, fetched_at: str | None
    ) -> SchemaVersion:
        from ..jsonschema_gen import GENERATOR_VERSION

        found = SchemaVersion(
            connector=definition.code,
            display_name=definition.display_name,
            version=definition.version,
            definition=definition,
            schema=schema,
            origin="cache",
            generator_version=GENERATOR_VERSION,
            fetched_at=fetched_at,
        )
        self._loaded[definition.version] = found
        self._chosen.pop(definition.code, None)
        return found

    # -- writing --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        """The cross-process file lock, taken by one thread of this process at a time."""
        from filelock import FileLock

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"cache directory {self.directory} is not writable: {exc}") from None
        # Threads queue on a local lock, so that the file lock's polling is not their queue.
        with _THREAD_LOCK, FileLock(str(self.directory / ".lock"), timeout=60):
            yield

    def store(
        self,
        definition: ConnectorDefinition,
        *,
        etag: str | None = None,
        url: str | None = None,
    ) -> SchemaVersion:
        """Add a fetched definition to the cache and make it the current version."""
        from ..jsonschema_gen import GENERATOR_VERSION, config_schema

        code, version = definition.code, definition.version
        raw = canonical_json(dict(definition.raw))
        schema = config_schema(definition)
        schema_bytes = dump_json(schema)
        fetched_at = now_utc().isoformat(timespec="seconds")
        meta = {
            "kind": self.kind,
            "connector": code,
            "display_name": definition.display_name,
            "version": version,
            "definition_sha256": sha256_hex(raw),
            "schema_sha256": sha256_hex(schema_bytes),
            "etag": etag,
            "fetched_at": fetched_at,
            "url": url,
            "generator_version": GENERATOR_VERSION,
        }
        folder = self._dir(code, version)
        try:
            with self._write_lock():
                _sweep(self._dir(code))
                atomic_write(folder / "definition.json", raw)
                atomic_write(folder / "schema.json", schema_bytes)
                atomic_write(folder / "meta.json", dump_json(meta))
                current = {"version": version, "etag": etag, "fetched_at": fetched_at}
                atomic_write(self._dir(code) / "current.json", dump_json(current))
        except OSError as exc:
            raise CacheError(f"cannot write to cache {self.directory}: {exc}") from None
        self._bad.discard(folder)
        self._bad.discard(self._dir(code) / "current.json")
        return self._remember(definition, schema, fetched_at)

    def _touch(self, code: str) -> None:
        current = self._current(code)
        if current is None:
            return
        current["fetched_at"] = now_utc().isoformat(timespec="seconds")
        with self._write_lock():
            atomic_write(self._dir(code) / "current.json", dump_json(current))
            meta_path = self._dir(code, current["version"]) / "meta.json"
            try:
                meta = read_json(meta_path)
                if isinstance(meta, dict):
                    meta["fetched_at"] = current["fetched_at"]
                    atomic_write(meta_path, dump_json(meta))
            except (OSError, StoredFileError):
                pass
        self._loaded.pop(current["version"], None)
        self._chosen.pop(code, None)


def _sweep(folder: Path) -> None:
    """Remove temp files that killed writers left behind (older than an hour)."""
    import time

    cutoff = time.time() - _TEMP_MAX_AGE
    if folder.is_symlink():
        return  # never sweep where a link points: that may be anyone's folder
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
        for sub in os.scandir(folder):
            if sub.is_dir(follow_symlinks=False) and VERSION_ID.fullmatch(sub.name):
                _sweep(Path(sub.path))
