"""Files -> documents that remember the line and column of every key and value.

YAML (``.yaml``/``.yml``), JSON and TOML, one module each. A file holds one
document (a request body, with an optional ``kind``), lists of them under
``sources:``, ``destinations:`` and ``transforms:``, or several YAML
documents separated by ``---``.

>>> loaded = load_text('name: orders\\nconnector: postgresql\\nconfig: {}\\n', "orders.yaml")
>>> doc = loaded.documents[0]
>>> doc.positions.of_key(("connector",))
(2, 1)

What a careful reader needs and the usual libraries do not give:

- a duplicate key in a mapping is a ``duplicate-key`` issue (YAML and JSON
  alike), not silently the last value;
- YAML is read safely (no tags beyond the core ones) with YAML 1.2 scalars:
  a bare ``yes``, ``on``, ``0755`` or ``2026-01-01`` stays the string it looks
  like, and a note says how a YAML 1.1 reader would have taken it;
- alias expansion is bounded (a billion-laughs file is rejected at once), and
  so are the file size and the nesting depth;
- non-UTF-8 input, an empty file and a top-level scalar are ``parse-error``
  issues with a line and column.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.document import Document, Positions, Tokens
from ..core.errors import LoadError
from ..core.issues import Issue, Severity, pointer_label, to_pointer
from ..core.kinds import LIST_KEYS
from .common import (
    DEFAULT_LIMITS,
    EXTENSIONS,
    Limits,
    LoadedFile,
    ParseError,
    decode,
    real_path,
    walk,
)

_LIST_KEYS = frozenset(LIST_KEYS)

__all__ = [
    "DEFAULT_LIMITS",
    "EXTENSIONS",
    "Limits",
    "LoadedFile",
    "ParseError",
    "is_streamkap_shaped",
    "iter_files",
    "keep_folder",
    "load_file",
    "load_text",
]

#: Folders never walked into: tools' and package managers' own trees.
SKIPPED_FOLDERS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"})
#: A folder holding one of these is a Helm chart or a kustomization: never Streamkap's.
FOREIGN_MARKERS = ("Chart.yaml", "kustomization.yaml", "kustomization.yml")


def load_file(
    path: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    connector: str | None = None,
    fmt: str | None = None,
    kind: str | None = None,
) -> LoadedFile:
    """Read and parse one file. Raises :class:`LoadError` when it cannot be read at all.

    A file that is read but does not parse gives a ``parse-error`` issue in
    :attr:`LoadedFile.issues` instead.
    """
    name = os.fspath(path)
    try:
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            raise LoadError(name, "is a directory")
        if not stat.S_ISREG(info.st_mode):
            # Opening a FIFO blocks until a writer comes; a device may never end.
            raise LoadError(name, "is not a regular file (a FIFO, socket or device)")
        size = info.st_size
        if size > limits.max_bytes:
            raise LoadError(name, f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}")
        with open(name, "rb") as handle:
            # Ask for what stat said (asking for the limit allocates it on every file),
            # then for the rest up to the limit in case the file grew meanwhile.
            data = handle.read(size + 1)
            if len(data) > size:
                data += handle.read(limits.max_bytes + 1 - len(data))
    except LoadError:
        raise
    except IsADirectoryError:
        raise LoadError(name, "is a directory") from None
    except FileNotFoundError:
        raise LoadError(name, "no such file") from None
    except OSError as exc:
        raise LoadError(name, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_bytes:
        raise LoadError(name, f"file is over the limit of {limits.max_bytes:,} bytes")
    return load_text(data, name, limits=limits, connector=connector, fmt=fmt, kind=kind)


def load_text(
    text: str | bytes,
    path: str = "<string>",
    *,
    limits: Limits = DEFAULT_LIMITS,
    connector: str | None = None,
    fmt: str | None = None,
    kind: str | None = None,
) -> LoadedFile:
    """Parse ``text`` (format from ``fmt`` or the extension of ``path``).

    ``connector`` marks a file holding a bare config mapping; ``kind`` gives
    the kind of documents that stand outside any ``sources:``-style list.
    """
    loaded = LoadedFile(path)
    syntax = fmt or EXTENSIONS.get(os.path.splitext(path)[1].lower(), "yaml")
    try:
        if isinstance(text, bytes):
            if len(text) > limits.max_bytes:
                raise ParseError(f"input is over the limit of {limits.max_bytes:,} bytes")
            text = decode(text)
        if not text.strip():
            raise ParseError("the file is empty", hint="a source needs name, connector and config")
        if syntax == "json":
            from .json_reader import read_json

            roots = [read_json(text, limits)]
        elif syntax == "toml":
            from .toml_reader import read_toml

            roots = [read_toml(text, limits)]
        else:
            from .yaml_reader import read_yaml

            roots = list(read_yaml(text, limits))
    except ParseError as exc:
        loaded.issues.append(
            Issue("parse-error", "error", exc.message, None, "", exc.line, exc.column, exc.hint)
        )
        return loaded
    if all(data is None for data, _, _ in roots):
        loaded.issues.append(
            Issue(
                "parse-error",
                "error",
                "the file holds no document",
                None,
                "",
                1,
                1,
                "a source needs name, connector and config",
            )
        )
        return loaded
    for data, positions, dups in roots:
        _split_documents(loaded, data, positions, dups, connector, kind)
    return loaded


def keep_folder(folder: str, name: str) -> bool:
    """Whether a directory walk goes into ``folder/name``: not a hidden folder, a tool's
    tree (``node_modules``, ``.venv``), a Helm chart (``Chart.yaml``) or a kustomization."""
    if name.startswith(".") or name in SKIPPED_FOLDERS:
        return False
    below = os.path.join(folder, name)
    return not any(os.path.isfile(os.path.join(below, m)) for m in FOREIGN_MARKERS)


def is_streamkap_shaped(loaded: LoadedFile) -> bool:
    """Whether a file read holds what a Streamkap file holds, whatever its folder.

    A document is Streamkap's when it is in a ``sources:`` ... ``pipelines:`` list, is a
    bare config (``connector`` given), declares a known ``kind``, names a ``connector``
    or ``transform`` beside ``config`` or ``name``, has a ``name`` and a ``config``
    mapping, or a ``source`` and a ``destination`` mapping (a pipeline). Helm values,
    Kubernetes manifests (``kind: Deployment``), Argo workflows, compose files, CI
    workflows and ``pyproject.toml`` hold none of these.

    >>> is_streamkap_shaped(load_text("kind: Deployment\\nmetadata: {name: x}\\n", "d.yaml"))
    False
    >>> is_streamkap_shaped(load_text("name: a\\nconnector: postgresql\\n", "a.yaml"))
    True
    """
    from ..core.kinds import KIND_NAMES

    for doc in loaded.documents:
        if doc.bare or (doc.base and doc.base[0] in _LIST_KEYS):
            return True
        data = doc.data
        if not isinstance(data, dict):
            continue
        if data.get("kind") in KIND_NAMES:
            return True
        code = data.get("connector", data.get("transform"))
        if isinstance(code, str) and ("config" in data or "name" in data):
            return True
        if isinstance(data.get("name"), str) and isinstance(data.get("config"), dict):
            return True
        if isinstance(data.get("source"), dict) and isinstance(data.get("destination"), dict):
            return True  # a pipeline that does not say kind: pipeline
    return False


def iter_files(
    paths: list[str], on_error: Callable[[str, str], None] | None = None
) -> Iterator[str]:
    """Files named, and files with a known extension under directories named (sorted).

    A file reached twice (named twice, or named and inside a directory named)
    is given once. Inside directories only regular files are taken (a FIFO or
    a device would block the run); a directory that cannot be read is passed
    to ``on_error(path, reason)``, never skipped silently.
    """
    seen: set[str] = set()

    def first_time(path: str) -> bool:
        real = real_path(path)
        if real in seen:
            return False
        seen.add(real)
        return True

    def report(path: str, reason: str) -> None:
        if on_error is not None:
            on_error(path, reason)

    for given in paths:
        is_dir = os.path.isdir(given)  # once: a run over 500 files names 500 paths
        if is_dir and Path(given).suffix.lower() in EXTENSIONS:
            report(given, "is a directory, not a file")  # x.source.yaml/ is no file to check
        elif is_dir:
            found = [
                path
                for path in walk(given, report, keep_folder)
                if Path(path).suffix.lower() in EXTENSIONS and not Path(path).name.startswith(".")
            ]
            yield from (f for f in sorted(found) if first_time(f))
        elif first_time(given):
            yield given


def _file_issue(
    loaded: LoadedFile,
    positions: Positions,
    code: str,
    severity: Severity,
    tokens: Tokens,
    text: str,
    hint: str | None,
    at_key: bool = False,
) -> None:
    line, column = (positions.of_key(tokens) if at_key else positions.of_value(tokens)) or (1, 1)
    loaded.issues.append(Issue(code, severity, text, None, to_pointer(tokens), line, column, hint))


def _lists(
    loaded: LoadedFile, data: dict[str, Any], positions: Positions
) -> list[tuple[Any, Tokens, str | None]]:
    """The documents of a file of ``sources:`` / ``destinations:`` / ``transforms:`` lists."""
    items: list[tuple[Any, Tokens, str | None]] = []
    plurals = list(LIST_KEYS)
    for key, value in data.items():
        kind = LIST_KEYS.get(key)
        if kind is None:
            import difflib  # only for a stray key

            near = difflib.get_close_matches(str(key), plurals, n=1)
            hint = (
                f'did you mean "{near[0]}"?'
                if near
                else f"a file of lists holds only {', '.join(plurals)}"
            )
            _file_issue(
                loaded,
                positions,
                "envelope",
                "error",
                (key,),
                f"{pointer_label((key,))}: unknown field beside the document lists",
                hint,
                at_key=True,
            )
            continue
        if not isinstance(value, list):
            _file_issue(
                loaded,
                positions,
                "parse-error",
                "error",
                (key,),
                f"{key}: expected a list of {key}",
                None,
            )
            continue
        if not value:
            _file_issue(
                loaded,
                positions,
                "envelope",
                "warning",
                (key,),
                f"{key}: the list is empty",
                f"add a {kind}, or remove the list",
            )
        items.extend((item, (key, str(i)), kind) for i, item in enumerate(value))
    return items


def _split_documents(
    loaded: LoadedFile,
    data: Any,
    positions: Positions,
    dups: list[Issue],
    connector: str | None,
    kind: str | None,
) -> None:
    if data is None:  # an empty document between others: nothing to check
        return
    if not isinstance(data, (dict, list)):
        _file_issue(
            loaded,
            positions,
            "parse-error",
            "error",
            (),
            f"expected a mapping (a document) or a list of them, got a {type(data).__name__}",
            "a source needs name, connector and config",
        )
        return
    items: list[tuple[Any, Tokens, str | None]]
    if (
        isinstance(data, dict)
        and not _LIST_KEYS.isdisjoint(data)
        # A document may hold a list key of its own (a pipeline's transforms:).
        and "config" not in data
        and "kind" not in data
        and "name" not in data
    ):
        items = _lists(loaded, data, positions)
    elif isinstance(data, list):
        items = [(item, (str(i),), None) for i, item in enumerate(data)]
    else:
        items = [(data, (), None)]
    placed: set[int] = set()
    for item, base, listed in items:
        bare = connector is not None and isinstance(item, dict) and "config" not in item
        doc = Document(
            data=item,
            positions=positions,
            base=base,
            path=loaded.path,
            bare=bare,
            connector=connector,
            kind=listed or kind,
        )
        prefix = to_pointer(base)
        for n, issue in enumerate(dups):
            # Path segments, not string prefixes: /sources/1 does not hold /sources/10.
            inside = issue.pointer == prefix or issue.pointer.startswith(prefix + "/")
            if inside and n not in placed:
                doc.issues.append(issue)
                placed.add(n)
        loaded.documents.append(doc)
    loaded.issues.extend(issue for n, issue in enumerate(dups) if n not in placed)
