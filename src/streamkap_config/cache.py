"""The schema cache: every connector definition ever fetched, content-addressed.

Layout under the cache directory (platformdirs' user cache dir, or
``STREAMKAP_CONFIG_CACHE``, or ``--cache-dir``)::

    connectors/<code>/<version>/definition.json   canonical JSON; its sha256 is <version>
    connectors/<code>/<version>/schema.json       the generated JSON Schema
    connectors/<code>/<version>/meta.json         sha256s, ETag, fetched_at, URL, generator
    connectors/<code>/current.json                the newest version fetched, with its ETag
    .lock                                          cross-process write lock

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
import dataclasses
import datetime as dt
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bundle import SchemaVersion, bundled_schemas
from .definitions import ConnectorDefinition, canonical_json, parse_definitions
from .errors import CacheError, DefinitionError, SchemaUnavailableError, StreamkapConfigError

if TYPE_CHECKING:
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

LOCK_FILE = "streamkap-schemas.lock"
_THREAD_LOCK = threading.Lock()
DEFAULT_TTL = dt.timedelta(days=7)


def default_cache_dir() -> Path:
    """``STREAMKAP_CONFIG_CACHE``, else the platform's user cache directory."""
    env = os.environ.get("STREAMKAP_CONFIG_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("streamkap-config", appauthor=False))


def _ttl_from_env() -> dt.timedelta:
    """``STREAMKAP_SCHEMA_TTL_DAYS`` (default 7): when a cached schema gets a notice."""
    raw = os.environ.get("STREAMKAP_SCHEMA_TTL_DAYS", "")
    try:
        return dt.timedelta(days=float(raw)) if raw.strip() else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True)
class VersionInfo:
    """One known version of a connector's schema."""

    connector: str
    version: str
    origin: str  # "cache" or "bundled"
    fetched_at: str | None = None
    current: bool = False


@dataclass(frozen=True)
class PullResult:
    """What a pull did for one connector: ``updated``, ``unchanged`` or ``error``."""

    connector: str
    status: str
    version: str | None = None
    message: str = ""


@dataclass(frozen=True)
class LockFile:
    """``streamkap-schemas.lock``: one pinned version per connector."""

    path: Path
    pins: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> LockFile:
        p = Path(path)
        try:
            data = json.loads(p.read_bytes())
            pins = data["connectors"]
            if not isinstance(pins, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("version"), str) for v in pins.values()
            ):
                raise ValueError("'connectors' must map codes to {version, sha256}")
        except FileNotFoundError:
            raise CacheError(f"{p}: lock file not found") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CacheError(f"{p}: not a valid lock file ({exc})") from None
        return cls(p, {str(k): dict(v) for k, v in pins.items()})

    def write(self) -> None:
        body = {
            "$comment": "Written by `streamkap-config schemas lock`; pins the schema each "
            "connector is validated against. Commit it; regenerate it to update.",
            "connectors": {code: self.pins[code] for code in sorted(self.pins)},
        }
        _atomic_write(self.path, _dump(body))


def find_lock(start: str | os.PathLike[str]) -> Path | None:
    """The nearest ``streamkap-schemas.lock`` in ``start`` or a parent directory."""
    here = os.path.abspath(start)
    if not os.path.isdir(here):
        here = os.path.dirname(here)
    while True:
        candidate = os.path.join(here, LOCK_FILE)
        if os.path.isfile(candidate):
            return Path(candidate)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


class SchemaCache:
    """Connector schemas from the lock pin, the on-disk cache and the bundle.

    ``get(code)`` is local only, and reads the disk once per connector for the
    life of the instance (a pull through it refreshes that); make a new instance
    to see what other processes pulled. ``pull()`` fetches from the API. Pass
    the cache to :func:`~streamkap_config.validate_source` as ``schemas=``.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        lock: str | os.PathLike[str] | LockFile | None = None,
        ttl: dt.timedelta | None = None,
        api_url: str | None = None,
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self.lock = lock if isinstance(lock, LockFile) or lock is None else LockFile.read(lock)
        self.ttl = ttl if ttl is not None else _ttl_from_env()
        self.api_url = api_url
        self.notices: list[str] = []
        self._loaded: dict[tuple[str, str], SchemaVersion] = {}
        # What get() chose per connector: a run over many files reads the disk once.
        self._chosen: dict[str, SchemaVersion | None] = {}
        self._bad: set[Path] = set()

    # -- reading --------------------------------------------------------------------------

    def __repr__(self) -> str:
        lock = f", lock={str(self.lock.path)!r}" if self.lock else ""
        return f"SchemaCache({str(self.directory)!r}{lock})"

    def __iter__(self) -> Iterator[str]:
        codes = set(bundled_schemas())
        root = self.directory / "connectors"
        if root.is_dir():
            codes.update(p.name for p in root.iterdir() if (p / "current.json").is_file())
        return iter(sorted(codes))

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in set(self)

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)
            import logging

            logging.getLogger(__name__).warning("%s", text)

    def _dir(self, code: str, version: str | None = None) -> Path:
        if "/" in code or code.startswith(".") or (version and "/" in version):
            raise SchemaUnavailableError(code, "not a valid connector code")
        base = self.directory / "connectors" / code
        return base / version if version else base

    def _current(self, code: str) -> dict[str, Any] | None:
        try:
            data = json.loads((self._dir(code) / "current.json").read_bytes())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("version"), str) else None

    def get(self, code: str) -> SchemaVersion | None:
        """The schema to validate ``code`` with: lock pin, then cache, then bundled.

        Returns None for a connector nobody knows; raises
        :class:`SchemaUnavailableError` when a pinned version is nowhere to be found.
        """
        if self.lock is not None and code in self.lock.pins:
            return self._pinned(code, self.lock.pins[code])
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
        return bundled_schemas().get(code, None)

    def _pinned(self, code: str, pin: dict[str, str]) -> SchemaVersion:
        version = pin["version"]
        found = self._load_cached(code, version)
        bundled = bundled_schemas()
        if found is None and code in bundled and bundled[code].version == version:
            found = bundled[code]
        if found is None:
            assert self.lock is not None
            raise SchemaUnavailableError(
                code,
                f"version {version[:12]} pinned in {self.lock.path.name} is neither cached "
                "nor bundled; run `streamkap-config schemas pull` or update the lock",
            )
        return dataclasses.replace(found, origin="lock")

    def _check_age(self, code: str, version: SchemaVersion) -> None:
        if not version.fetched_at:
            return
        try:
            fetched = dt.datetime.fromisoformat(version.fetched_at)
        except ValueError:
            return
        age = _now() - fetched
        if age > self.ttl:
            self._notice(
                f"notice: cached schema for {code} is {age.days} days old; "
                "run `streamkap-config schemas pull` to refresh it"
            )

    def _load_cached(self, code: str, version: str) -> SchemaVersion | None:
        key = (code, version)
        if key in self._loaded:
            return self._loaded[key]
        folder = self._dir(code, version)
        if not folder.is_dir():
            return None
        try:
            meta = json.loads((folder / "meta.json").read_bytes())
            raw = (folder / "definition.json").read_bytes()
            if _sha256(raw) != version:
                raise ValueError("definition.json fails its sha256 check")
            definition = parse_definitions(json.loads(raw), code=code)[0]
            schema_bytes = (folder / "schema.json").read_bytes()
            if _sha256(schema_bytes) != meta.get("schema_sha256"):
                raise ValueError("schema.json fails its sha256 check")
            schema = json.loads(schema_bytes)
        except (OSError, ValueError, DefinitionError, TypeError, AttributeError) as exc:
            if folder not in self._bad:
                self._bad.add(folder)
                self._notice(
                    f"warning: ignoring cached schema {code} {version[:12]} in {folder}: {exc}"
                )
            return None
        from .jsonschema_gen import GENERATOR_VERSION, config_schema

        if meta.get("generator_version") != GENERATOR_VERSION:
            # Generated by another release: regenerate from the definition.
            schema = config_schema(definition)
        return self._remember(definition, schema, meta.get("fetched_at"))

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
        self._loaded[(definition.code, definition.version)] = found
        self._chosen.pop(definition.code, None)
        return found

    def versions(self, code: str) -> list[VersionInfo]:
        """Every version known for ``code``: cached ones (newest first), then bundled."""
        infos: list[VersionInfo] = []
        current = self._current(code)
        folder = self._dir(code)
        if folder.is_dir():
            for sub in folder.iterdir():
                if not sub.is_dir():
                    continue
                try:
                    meta = json.loads((sub / "meta.json").read_bytes())
                except (OSError, ValueError):
                    continue
                infos.append(
                    VersionInfo(
                        code,
                        sub.name,
                        "cache",
                        meta.get("fetched_at"),
                        current is not None and current["version"] == sub.name,
                    )
                )
        infos.sort(key=lambda i: i.fetched_at or "", reverse=True)
        bundled = bundled_schemas()
        if code in bundled:
            infos.append(VersionInfo(code, bundled[code].version, "bundled"))
        return infos

    def load(self, code: str, version: str) -> SchemaVersion:
        """A specific version by its id or a unique prefix (or ``bundled``, ``current``)."""
        bundled = bundled_schemas()
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
            if self.lock is not None and code in self.lock.pins:
                old = self.lock.pins[code]["version"]
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
        schema_bytes = _dump(schema)
        fetched_at = _now().isoformat(timespec="seconds")
        meta = {
            "connector": code,
            "display_name": definition.display_name,
            "version": version,
            "definition_sha256": _sha256(raw),
            "schema_sha256": _sha256(schema_bytes),
            "etag": etag,
            "fetched_at": fetched_at,
            "url": url,
            "generator_version": GENERATOR_VERSION,
        }
        folder = self._dir(code, version)
        try:
            with self._write_lock():
                _atomic_write(folder / "definition.json", raw)
                _atomic_write(folder / "schema.json", schema_bytes)
                _atomic_write(folder / "meta.json", _dump(meta))
                current = {"version": version, "etag": etag, "fetched_at": fetched_at}
                _atomic_write(self._dir(code) / "current.json", _dump(current))
        except OSError as exc:
            raise CacheError(f"cannot write to cache {self.directory}: {exc}") from None
        self._bad.discard(folder)
        return self._remember(definition, schema, fetched_at)

    def _touch(self, code: str) -> None:
        current = self._current(code)
        if current is None:
            return
        current["fetched_at"] = _now().isoformat(timespec="seconds")
        with self._write_lock():
            _atomic_write(self._dir(code) / "current.json", _dump(current))
            meta_path = self._dir(code, current["version"]) / "meta.json"
            try:
                meta = json.loads(meta_path.read_bytes())
                meta["fetched_at"] = current["fetched_at"]
                _atomic_write(meta_path, _dump(meta))
            except (OSError, ValueError):
                pass
        self._loaded.pop((code, current["version"]), None)
        self._chosen.pop(code, None)

    def pull(
        self,
        codes: Sequence[str] | None = None,
        *,
        client: StreamkapClient | None = None,
        concurrency: int = 16,
        progress: Callable[[PullResult], None] | None = None,
    ) -> list[PullResult]:
        """Fetch connector definitions from the API into the cache.

        ``codes=None`` fetches every connector in one request; otherwise one
        request per code, up to ``concurrency`` (16) at a time, each sending the
        stored ETag. A bad response is reported in its :class:`PullResult`
        and never cached; the previous version stays current.
        """
        from .client import StreamkapClient

        own = client is None
        if client is None:
            client = StreamkapClient.from_env(base_url=self.api_url)
        try:
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
        finally:
            if own:
                client.close()

    def _pull_one(self, client: StreamkapClient, code: str) -> PullResult:
        current = self._current(code)
        has_current = current is not None and self._load_cached(code, current["version"])
        etag = current.get("etag") if current and has_current else None
        try:
            response = client.get_connectors(code, etag=etag)
            if response.not_modified:
                self._touch(code)
                return PullResult(code, "unchanged", current["version"] if current else None)
            definition = parse_definitions(response.data, code=code)[0]
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
            response = client.get_connectors(None)
            codes = {v: c for c, v in bundled_schemas().display_names().items()}
            definitions = parse_definitions(response.data, codes=codes)
        except DefinitionError as exc:
            return [PullResult("*", "error", None, f"not a valid connector definition: {exc}")]
        except StreamkapConfigError as exc:
            return [PullResult("*", "error", None, str(exc))]
        results = []
        for definition in definitions:
            current = self._current(definition.code)
            changed = current is None or current["version"] != definition.version
            self.store(definition, etag=None, url=response.url)
            status = "updated" if changed else "unchanged"
            results.append(PullResult(definition.code, status, definition.version))
        return results

    def write_lock(
        self, path: str | os.PathLike[str] = LOCK_FILE, codes: Sequence[str] | None = None
    ) -> LockFile:
        """Pin the version :meth:`get` gives now, for ``codes`` (default: every connector)."""
        previous = self.lock
        self.lock = None
        try:
            pins = {}
            for code in codes if codes is not None else list(self):
                found = self.get(code)
                if found is None:
                    raise SchemaUnavailableError(code, "unknown connector")
                pins[code] = {
                    "version": found.version,
                    "sha256": _sha256(canonical_json(dict(found.definition.raw))),
                    "origin": found.origin,
                }
        finally:
            self.lock = previous
        lock = LockFile(Path(path), pins)
        lock.write()
        return lock
