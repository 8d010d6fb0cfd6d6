"""Files we write and read back: atomic writes, bounded reads, JSON that cannot hurt.

Every cache and lock file goes through here, so that a reader never sees half
a file, a huge or deeply nested file never exhausts memory or the stack, and
a damaged file is an error with a reason, never a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_JSON_BYTES",
    "StoredFileError",
    "atomic_write",
    "parse_json",
    "read_bytes",
    "read_json",
]

#: A connector definition is tens of kilobytes; anything far larger is not ours.
MAX_JSON_BYTES = 16 * 1024 * 1024


class StoredFileError(ValueError):
    """A stored file that cannot be used; the message says why."""


def atomic_write(path: Path, data: bytes) -> None:
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


def read_bytes(path: Path, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (OSError or StoredFileError)."""
    if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO blocks on open; /dev/zero never ends
        raise StoredFileError("not a regular file")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise StoredFileError(f"larger than {limit:,} bytes")
    return data


def parse_json(data: bytes | str) -> Any:
    """JSON text; too deep a nesting is an error (the C parser's recursion guard)."""
    try:
        return json.loads(data)
    except RecursionError:
        raise StoredFileError("nested too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise StoredFileError(f"not valid JSON ({exc})") from None


def read_json(path: Path, limit: int = MAX_JSON_BYTES) -> Any:
    """A stored JSON file, bounded in size and depth."""
    return parse_json(read_bytes(path, limit))
