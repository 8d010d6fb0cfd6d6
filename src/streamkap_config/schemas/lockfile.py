"""``streamkap-schemas.lock``: one pinned schema version per kind and connector.

The file (JSON, committed to the user's repository)::

    {"connectors":   {"postgresql": {"version": "<sha256>", "origin": "bundled"}},
     "destinations": {"snowflake":  {"version": "<sha256>", "origin": "cache"}},
     "transforms":   {...}}

``connectors`` holds the sources (the v0.1 name, kept so older lock files stay
valid). The version is the sha256 of the definition's canonical JSON.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..core.errors import CacheError
from ..core.kinds import KINDS
from ..core.records import field, record
from .bundle import dump_json
from .storage import StoredFileError, atomic_write, read_json

__all__ = ["LOCK_FILE", "LockFile", "find_lock"]

LOCK_FILE = "streamkap-schemas.lock"
_MAX_LOCK_BYTES = 4 * 1024 * 1024
_VERSION_CHARS = frozenset("0123456789abcdef")


def _valid_version(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _VERSION_CHARS


@record(frozen=True)
class LockFile:
    """The pins of a lock file: kind -> code -> ``{"version", "origin"}``."""

    path: Path
    pins: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    def pin(self, kind: str, code: str) -> str | None:
        """The version pinned for ``code`` of ``kind``, or None."""
        found = self.pins.get(kind, {}).get(code)
        return found["version"] if found else None

    def __len__(self) -> int:
        return sum(len(codes) for codes in self.pins.values())

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> LockFile:
        """Read and check a lock file; :class:`CacheError` says what is wrong."""
        p = Path(path)
        try:
            data = read_json(p, _MAX_LOCK_BYTES)
            if not isinstance(data, dict):
                raise StoredFileError("expected a JSON object")
            pins: dict[str, dict[str, dict[str, str]]] = {}
            for kind in KINDS.values():
                section = data.get(kind.section, {})
                if not isinstance(section, dict):
                    raise StoredFileError(f"'{kind.section}' must map codes to pins")
                for code, pin in section.items():
                    if not isinstance(pin, dict) or not _valid_version(pin.get("version")):
                        raise StoredFileError(
                            f"{kind.section}.{code}: expected {{version: <64 hex digits>}}"
                        )
                    pins.setdefault(kind.name, {})[str(code)] = {
                        k: v for k, v in pin.items() if isinstance(v, str)
                    }
        except FileNotFoundError:
            raise CacheError(f"{p}: lock file not found") from None
        except (OSError, StoredFileError) as exc:
            raise CacheError(f"{p}: not a valid lock file ({exc})") from None
        return cls(p, pins)

    def write(self) -> None:
        body: dict[str, object] = {
            "$comment": "Written by `streamkap-config schemas lock`; pins the schema each "
            "connector is validated against. Commit it; regenerate it to update.",
        }
        for kind in KINDS.values():
            codes = self.pins.get(kind.name, {})
            if codes or kind.name == "source":
                body[kind.section] = {code: dict(codes[code]) for code in sorted(codes)}
        atomic_write(self.path, dump_json(body))


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
