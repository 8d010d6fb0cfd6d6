"""What every reader shares: limits, the loaded-file record, parse errors."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

from ..core.document import Document, Tokens
from ..core.issues import Issue, pointer_label, to_pointer
from ..core.records import field, record

__all__ = [
    "BYTES_CEILING",
    "DEFAULT_LIMITS",
    "DEPTH_CEILING",
    "EXTENSIONS",
    "Limits",
    "LoadedFile",
    "ParseError",
    "decode",
    "duplicate_issue",
    "too_deep",
    "too_long_number",
]

EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


#: The deepest nesting any reader accepts, whatever ``max_depth`` asks: deeper than
#: this a recursive reader could exhaust the stack.
DEPTH_CEILING = 256
#: The largest --max-bytes: a file is read whole into memory.
BYTES_CEILING = 256 * 1024 * 1024


@record(frozen=True)
class Limits:
    """Bounds on what a file may cost to read (one depth rule for every format)."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 200_000  # after alias expansion
    max_documents: int = 10_000  # YAML documents (``---``) in one file

    def __post_init__(self) -> None:
        if not 1 <= self.max_depth <= DEPTH_CEILING:
            raise ValueError(f"max_depth must be between 1 and {DEPTH_CEILING}")
        if not 1 <= self.max_bytes <= BYTES_CEILING:
            raise ValueError(f"max_bytes must be between 1 and {BYTES_CEILING:,}")


def too_deep(data: Any, max_depth: int) -> tuple[str, ...] | None:
    """The path of the first container nested deeper than ``max_depth``, else None.

    Iterative: it never recurses, whatever the data.
    """
    stack: list[tuple[Any, tuple[str, ...], int]] = [(data, (), 1)]
    while stack:
        value, tokens, depth = stack.pop()
        if isinstance(value, dict):
            children = [(v, (*tokens, str(k))) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(v, (*tokens, str(i))) for i, v in enumerate(value)]
        else:
            continue
        if depth > max_depth:
            return tokens
        stack.extend((v, t, depth + 1) for v, t in children)
    return None


def too_long_number(exc: ValueError) -> str:
    """What to say of Python refusing an integer of too many digits."""
    m = re.search(r"value has (\d+) digits", str(exc))
    digits = f"of {int(m.group(1)):,} digits " if m else ""
    return f"an integer {digits}is too long to read (at most 4,300 digits)"


DEFAULT_LIMITS = Limits()


@record
class LoadedFile:
    """A file read: its documents, and file-level issues (such as ``parse-error``)."""

    path: str
    documents: list[Document] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def sources(self) -> list[Document]:
        """Every document (of any kind): the v0.1 name of :attr:`documents`."""
        return self.documents


class ParseError(Exception):
    """A file does not parse; carries a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


def duplicate_issue(tokens: Tokens, first: tuple[int, int] | None, line: int, column: int) -> Issue:
    where = f" (first at line {first[0]})" if first else ""
    return Issue(
        "duplicate-key",
        "error",
        f"{pointer_label(tokens)}: duplicate key{where}",
        None,
        to_pointer(tokens),
        line,
        column,
        "a later value would silently replace the first; keep one",
    )


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ParseError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            line,
            column,
            "save the file as UTF-8",
        ) from None


@functools.lru_cache(maxsize=65536)
def real_path(path: str) -> str:
    """The real path of a file, to know a file reached twice (memoised: a run asks about
    each path several times); ``-`` and names in angle brackets stand for themselves.

    Its folder's real path is found once per folder (``os.path.realpath`` looks at
    every component of every path: 500 files of one folder cost 500 walks up the
    tree); the file itself is resolved only when it is a link.
    """
    if path in ("-", "<stdin>") or path.startswith("<"):
        return path
    folder, name = os.path.split(os.path.abspath(path))
    full = os.path.join(_real_folder(folder), name)
    return os.path.realpath(full) if os.path.islink(full) else full


@functools.lru_cache(maxsize=4096)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


#: How deep a directory walk goes; deeper folders are skipped with a warning.
WALK_DEPTH = 64


def walk(
    top: str,
    on_error: Callable[[str, str], None],
    keep_dir: Callable[[str, str], bool] = lambda folder, name: not name.startswith("."),
    max_depth: int = WALK_DEPTH,
) -> Iterator[str]:
    """Every regular file under ``top``, folders in sorted order; iterative, so no tree
    is too deep for it. A folder that cannot be read, and a folder past ``max_depth``,
    goes to ``on_error(path, reason)`` and is skipped: never an exception, never silence.
    Links to folders are not followed (a loop cannot hold a run)."""
    stack: list[tuple[str, int]] = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            with os.scandir(folder) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError as exc:
            on_error(folder, f"cannot read the directory: {exc.strerror or exc}")
            continue
        below: list[str] = []
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if keep_dir(folder, entry.name):
                        below.append(entry.path)
                elif entry.is_file():  # a FIFO or a device would block the run
                    yield entry.path
            except OSError as exc:
                on_error(entry.path, f"cannot read it: {exc.strerror or exc}")
        if below and depth + 1 > max_depth:
            on_error(folder, f"folders nested deeper than {max_depth} levels were not read")
            continue
        stack.extend((path, depth + 1) for path in reversed(below))
