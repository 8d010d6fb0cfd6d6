"""The schema cache: every connector definition ever fetched, content-addressed.

Layout under the cache directory (platformdirs' user cache dir, or
``STREAMKAP_CONFIG_CACHE``, or ``--cache-dir``)::

    <section>/<code>/<version>/definition.json   canonical JSON; its sha256 is <version>
    <section>/<code>/<version>/schema.json       the generated JSON Schema
    <section>/<code>/<version>/meta.json         sha256s, ETag, fetched_at, URL, generator
    <section>/<code>/current.json                the newest version fetched, with its ETag
    .lock                                         cross-process write lock

``<section>`` is ``connectors`` for sources (the v0.1 layout) and
``destinations`` for destinations; one :class:`SchemaCache` serves one kind
and :meth:`SchemaCache.for_kind` gives the others.

Reads never need the network: :meth:`SchemaCache.get` takes the lock-file pin,
then the newest cached version, then the bundled one. Writes go to a temp
file in the same directory and are renamed into place under the lock, so a
reader never sees half a file. A file whose sha256 does not match is reported
(:attr:`SchemaCache.notices`), ignored, and replaced on the next pull.

>>> import tempfile
>>> cache = SchemaCache(tempfile.mkdtemp())
>>> cache.get("postgresql").origin
'bundled'
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bundle import SchemaVersion, bundled_schemas, dump_json, sha256_hex
from .definitions import ConnectorDefinition, canonical_json, parse_definitions
from .errors import CacheError, DefinitionError, SchemaUnavailableError, StreamkapConfigError
from .kinds import KINDS
from .lockfile import LOCK_FILE, LockFile, find_lock
from .records import record, replace
from .storage import StoredFileError, atomic_write, parse_json, read_bytes, read_json

if TYPE_CHECKING:
    import datetime as dt

    from .client import StreamkapClient
    from .diff import SchemaDiff

__all__ = [
    "LOCK_FILE",
    "LockFile",
    "PullResult",
    "SchemaCache",
    "VersionInfo",
    "default_cache_dir",
    "find_lock",
]

_THREAD_LOCK = threading.Lock()
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


def _now() -> dt.datetime:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc)


@record(frozen=True)
class VersionInfo:
    """One known version of a connector's schema."""

    connector: str
    version: str
    origin: str  # "cache" or "bundled"
    fetched_at: str | None = None
    current: bool = False


@record(frozen=True)
class PullResult:
    """What a pull did for one connector: ``updated``, ``unchanged`` or ``error``."""

    connector: str
    status: str
    version: str | None = None
    message: str = ""


_CODE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")
_VERSION = re.compile(r"[0-9a-f]{64}")
_TEMP_MAX_AGE = 3600.0  # seconds: a temp file this old belongs to a killed writer


def valid_code(code: object) -> bool:
    """A connector code as the API spells them: lower-case letters, digits, ``_`` and ``-``."""
    return isinstance(code, str) and _CODE.fullmatch(code) is not None


def _timestamp(value: object) -> str | None:
    """An ISO 8601 time with a time zone, or None for anything else."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    import datetime as dt

    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return value if parsed.tzinfo is not None else None


class SchemaCache:
    """Connector schemas of one kind from the lock pin, the on-disk cache and the bundle.

    ``get(code)`` is local only, and reads the disk once per connector for the
    life of the instance (a pull through it refreshes that); make a new instance
    to see what other processes pulled. ``pull()`` fetches from the API.
    :meth:`for_kind` gives the cache of another kind (sharing the directory,
    the lock file and the notices). Pass the cache to
    :func:`~streamkap_config.validate_document` as ``schemas=``.
    """

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
        self._kinds: dict[str, SchemaCache] = {kind: self}

    @property
    def ttl(self) -> dt.timedelta:
        """How old a cached schema may get before a notice suggests a pull."""
        if self._ttl is None:
            self._ttl = _ttl_from_env()
        return self._ttl

    def for_kind(self, kind: str) -> SchemaCache:
        """The cache of ``kind`` over the same directory, lock file and notices."""
        found = self._kinds.get(kind)
        if found is None:
            found = SchemaCache(
                self.directory, lock=self.lock, ttl=self._ttl, api_url=self.api_url, kind=kind
            )
            found.notices = self.notices
            found._kinds = self._kinds
            self._kinds[kind] = found
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
        if not valid_code(code) or (version is not None and not _VERSION.fullmatch(version)):
            raise SchemaUnavailableError(code, "not a valid connector code")
        base = self._root / code
        return base / version if version else base

    def _current(self, code: str) -> dict[str, Any] | None:
        """``current.json`` of ``code`` if it is sound; a damaged one is reported once."""
        path = self._dir(code) / "current.json"
        try:
            data = read_json(path)
            if not isinstance(data, dict) or not _VERSION.fullmatch(str(data.get("version"))):
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
            "fetched_at": _timestamp(data.get("fetched_at")),
        }

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
        fetched_at = _timestamp(version.fetched_at)
        if fetched_at is None:
            return
        import datetime as dt

        age = _now() - dt.datetime.fromisoformat(fetched_at)
        if age > self.ttl:
            self._notice(
                f"notice: cached schema for {self._label(code)} is {age.days} days old; "
                "run `streamkap-config schemas pull` to refresh it"
            )

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
        from .jsonschema_gen import GENERATOR_VERSION, config_schema

        if meta.get("generator_version") != GENERATOR_VERSION:
            # Generated by another release: regenerate from the definition.
            schema = config_schema(definition)
        return self._remember(definition, schema, _timestamp(meta.get("fetched_at")))

    def _remember(
        self, definition: ConnectorDefinition, schema: Any, fetched_at: str | None
    ) -> SchemaVersion:
        from .jsonschema_gen import GENERATOR_VERSION

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

    def versions(self, code: str) -> list[VersionInfo]:
        """Every version known for ``code``: cached ones (newest first), then bundled."""
        infos: list[VersionInfo] = []
        current = self._current(code)
        folder = self._dir(code)
        with contextlib.suppress(OSError):
            for sub in folder.iterdir():
                if not _VERSION.fullmatch(sub.name) or not sub.is_dir():
                    continue
                try:
                    meta = read_json(sub / "meta.json")
                except (OSError, StoredFileError):
                    continue
                fetched = _timestamp(meta.get("fetched_at")) if isinstance(meta, dict) else None
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
        from .diff import diff_definitions

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
        from .jsonschema_gen import GENERATOR_VERSION, config_schema

        code, version = definition.code, definition.version
        raw = canonical_json(dict(definition.raw))
        schema = config_schema(definition)
        schema_bytes = dump_json(schema)
        fetched_at = _now().isoformat(timespec="seconds")
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
        current["fetched_at"] = _now().isoformat(timespec="seconds")
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
        from .client import StreamkapClient

        if KINDS[self.kind].definitions_path is None:
            raise CacheError(f"{KINDS[self.kind].plural} are bundled only: nothing to pull")
        for code in codes or ():
            if not valid_code(code):
                raise CacheError(f"{code!r} is not a connector code")
        own = client is None
        if client is None:
            client = StreamkapClient.from_env(base_url=self.api_url)
        try:
            with client.deadline_within(deadline):
                return self._pull(client, codes, concurrency, progress)
        finally:
            if own:
                client.close()

    def _pull(
        self,
        client: StreamkapClient,
        codes: Sequence[str] | None,
        concurrency: int,
        progress: Callable[[PullResult], None] | None,
    ) -> list[PullResult]:
        if codes is None:
            results = self._pull_all(client)
            if progress:
                for r in results:
                    progress(r)
            return results
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            results = []
            for r in pool.map(lambda c: self._pull_one(client, c), codes):
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
            if sub.is_dir(follow_symlinks=False) and _VERSION.fullmatch(sub.name):
                _sweep(Path(sub.path))
