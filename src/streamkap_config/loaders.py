"""Files -> source documents that remember the line and column of every key and value.

YAML (``.yaml``/``.yml``), JSON and TOML. A file holds one source (a
CreateSource body), a list of them under ``sources:``, or several YAML
documents separated by ``---``.

>>> loaded = load_text('name: orders\\nconnector: postgresql\\nconfig: {}\\n', "orders.yaml")
>>> doc = loaded.sources[0]
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

import bisect
import functools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .document import Positions, SourceDocument, Tokens
from .errors import LoadError
from .issues import Issue, pointer_label, to_pointer

__all__ = [
    "EXTENSIONS",
    "Limits",
    "LoadedFile",
    "ParseError",
    "iter_files",
    "load_file",
    "load_text",
]

EXTENSIONS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


@dataclass(frozen=True)
class Limits:
    """Bounds on what a file may cost to read."""

    max_bytes: int = 5 * 1024 * 1024
    max_depth: int = 64
    max_nodes: int = 200_000  # after alias expansion


@dataclass
class LoadedFile:
    """A file read: its sources, and file-level issues (such as ``parse-error``)."""

    path: str
    sources: list[SourceDocument] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


class ParseError(Exception):
    """A file does not parse; carries a 1-based line and column."""

    def __init__(self, message: str, line: int = 1, column: int = 1, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


# ---------------------------------------------------------------------------------------
# Entry points


def load_file(
    path: str | os.PathLike[str],
    *,
    limits: Limits = Limits(),
    connector: str | None = None,
    fmt: str | None = None,
) -> LoadedFile:
    """Read and parse one file. Raises :class:`LoadError` when it cannot be read at all.

    A file that is read but does not parse gives a ``parse-error`` issue in
    :attr:`LoadedFile.issues` instead.
    """
    name = os.fspath(path)
    try:
        size = os.stat(name).st_size
        if size > limits.max_bytes:
            raise LoadError(name, f"file is {size:,} bytes, over the limit of {limits.max_bytes:,}")
        with open(name, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)
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
    return load_text(data, name, limits=limits, connector=connector, fmt=fmt)


def load_text(
    text: str | bytes,
    path: str = "<string>",
    *,
    limits: Limits = Limits(),
    connector: str | None = None,
    fmt: str | None = None,
) -> LoadedFile:
    """Parse ``text`` (format from ``fmt`` or the extension of ``path``)."""
    loaded = LoadedFile(path)
    kind = fmt or EXTENSIONS.get(Path(path).suffix.lower(), "yaml")
    try:
        if isinstance(text, bytes):
            if len(text) > limits.max_bytes:
                raise ParseError(f"input is over the limit of {limits.max_bytes:,} bytes")
            text = _decode(text)
        if not text.strip():
            raise ParseError("the file is empty", hint="a source needs name, connector and config")
        if kind == "json":
            roots = [_JsonReader(text, limits).read()]
        elif kind == "toml":
            roots = [_read_toml(text)]
        else:
            roots = list(_read_yaml(text, limits))
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
        _split_sources(loaded, data, positions, dups, connector)
    return loaded


def iter_files(paths: list[str]) -> Iterator[str]:
    """Files named, and files with a known extension under directories named (sorted).

    A file reached twice (named twice, or named and inside a directory named)
    is given once.
    """
    seen: set[str] = set()

    def first_time(path: str) -> bool:
        real = path if path == "-" else os.path.realpath(path)
        if real in seen:
            return False
        seen.add(real)
        return True

    for given in paths:
        if os.path.isdir(given):
            found = []
            for root, dirs, files in os.walk(given):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    if Path(name).suffix.lower() in EXTENSIONS and not name.startswith("."):
                        found.append(os.path.join(root, name))
            yield from (f for f in sorted(found) if first_time(f))
        elif first_time(given):
            yield given


# ---------------------------------------------------------------------------------------
# Shapes


def _split_sources(
    loaded: LoadedFile,
    data: Any,
    positions: Positions,
    dups: list[Issue],
    connector: str | None,
) -> None:
    if data is None:  # an empty document between others: nothing to check
        return
    if not isinstance(data, (dict, list)):
        line, column = positions.of_value(()) or (1, 1)
        loaded.issues.append(
            Issue(
                "parse-error",
                "error",
                f"expected a mapping (a source) or a list of sources, got a {type(data).__name__}",
                None,
                "",
                line,
                column,
                "a source needs name, connector and config",
            )
        )
        return
    bases: list[Tokens]
    if isinstance(data, dict) and "sources" in data and "config" not in data:
        sources = data["sources"]
        if not isinstance(sources, list):
            line, column = positions.of_value(("sources",)) or (1, 1)
            loaded.issues.append(
                Issue(
                    "parse-error",
                    "error",
                    "sources: expected a list of sources",
                    None,
                    "/sources",
                    line,
                    column,
                    None,
                )
            )
            return
        for extra in data:
            if extra != "sources":
                line, column = positions.of_key((extra,)) or (1, 1)
                loaded.issues.append(
                    Issue(
                        "envelope",
                        "error",
                        f"{pointer_label((extra,))}: unknown field beside sources",
                        None,
                        to_pointer((extra,)),
                        line,
                        column,
                        "a file of sources holds only the sources: list",
                    )
                )
        if not sources:
            line, column = positions.of_value(("sources",)) or (1, 1)
            loaded.issues.append(
                Issue(
                    "envelope",
                    "warning",
                    "sources: the list is empty",
                    None,
                    "/sources",
                    line,
                    column,
                    "add a source, or remove the file",
                )
            )
        items = sources
        bases = [("sources", str(i)) for i in range(len(sources))]
    elif isinstance(data, list):
        items = data
        bases = [(str(i),) for i in range(len(data))]
    else:
        items = [data]
        bases = [()]
    placed: set[int] = set()
    for item, base in zip(items, bases, strict=True):
        bare = connector is not None and isinstance(item, dict) and "config" not in item
        doc = SourceDocument(
            data=item,
            positions=positions,
            base=base,
            path=loaded.path,
            bare=bare,
            connector=connector,
        )
        prefix = to_pointer(base)
        for n, issue in enumerate(dups):
            inside = issue.pointer == prefix or issue.pointer.startswith(prefix + "/")
            if inside and n not in placed:
                doc.issues.append(issue)
                placed.add(n)
        loaded.sources.append(doc)
    loaded.issues.extend(issue for n, issue in enumerate(dups) if n not in placed)


def _duplicate(tokens: Tokens, first: tuple[int, int] | None, line: int, column: int) -> Issue:
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


def _decode(data: bytes) -> str:
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


# ---------------------------------------------------------------------------------------
# YAML, from the event stream (libyaml when present): positions, duplicates, bounds.

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_YAML11_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9]+(:[0-5]?[0-9])+(\.[0-9]*)?")
_CORE_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "!",
}


def _plain_scalar(text: str) -> tuple[Any, str | None]:
    """A plain scalar under YAML 1.2 core rules, and a note where YAML 1.1 differs."""
    if text in _NULLS:
        return None, None
    if text in _TRUE:
        return True, None
    if text in _FALSE:
        return False, None
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(text):
            digits = text.lstrip("+-")
            if len(digits) > 1 and digits[0] == "0":
                return text, (
                    f'the bare word {text} is kept as the string "{text}" '
                    "(YAML 1.1 reads it as an octal number); quote it to be clear"
                )
            return int(text), None
        if text[:2] in ("0o", "0x"):
            try:
                return int(text[2:], 8 if text[1] == "o" else 16), None
            except ValueError:
                return text, None
        if _FLOAT.fullmatch(text):
            note = None
            if "e" in text.lower() and "." not in text:
                note = (
                    f"the bare word {text} was read as the number {float(text)!r} "
                    "(YAML 1.1 reads it as a string); quote it if you meant text"
                )
            return float(text), note
        if text.lower() in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[text.lower()], None
        if _DATE.fullmatch(text):
            return text, (
                f'the bare word {text} is kept as the string "{text}" (YAML 1.1 reads it as a date)'
            )
        if _SEXAGESIMAL.fullmatch(text):
            return text, (
                f'the bare word {text} is kept as the string "{text}" '
                "(YAML 1.1 reads it as a base-60 number)"
            )
        return text, None
    if text.lower() in _YAML11_BOOL_WORDS:
        return text, (
            f'the bare word {text} is kept as the string "{text}" '
            "(YAML 1.1 reads it as a boolean); write true or false for a boolean"
        )
    return text, None


def _tagged_scalar(tag: str, text: str, line: int, column: int) -> Any:
    try:
        if tag == "tag:yaml.org,2002:str":
            return text
        if tag == "tag:yaml.org,2002:null":
            return None
        if tag == "tag:yaml.org,2002:bool":
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            raise ValueError(text)
        if tag == "tag:yaml.org,2002:int":
            return int(text, 0)
        if tag == "tag:yaml.org,2002:float":
            return float(text)
    except ValueError:
        raise ParseError(
            f"the value is not a valid {tag.rsplit(':', 1)[-1]} for its tag", line, column
        ) from None
    raise ParseError(
        f"unsupported YAML tag {tag}", line, column, "only plain data is read; remove the tag"
    )


class _Frame:
    __slots__ = ("anchor", "container", "key", "key_is_merge", "merged", "skip", "tokens")

    def __init__(self, container: Any, tokens: Tokens, anchor: str | None) -> None:
        self.container = container
        self.tokens = tokens
        self.anchor = anchor
        self.key: str | None = None
        self.key_is_merge = False
        self.merged: set[str] = set()
        self.skip = False  # the next value belongs to a repeated key: read and drop it


def _read_yaml(text: str, limits: Limits) -> Iterator[tuple[Any, Positions, list[Issue]]]:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    events = yaml.parse(text, Loader=loader_class)
    result: list[tuple[Any, Positions, list[Issue]]] = []
    try:
        _build_yaml(events, limits, result, yaml)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise _explain_yaml_error(text, problem, line, column) from None
    except yaml.YAMLError as exc:
        raise ParseError(f"invalid YAML: {exc}") from None
    return iter(result)


_KEY_LINE = re.compile(r"^( *)(-\s+)?([^\s#:][^#:]*?)\s*:(\s|$)")


def _spaces(n: int) -> str:
    return f"{n} space" if n == 1 else f"{n} spaces"


def _explain_yaml_error(text: str, problem: str, line: int, column: int) -> ParseError:
    """libyaml's complaint, said in terms of what the user did: tabs, a stray indent."""
    lines = text.split("\n")
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    if "\t" in indent or here[column - 1 : column] == "\t":
        tab = here.index("\t") + 1 if "\t" in here else column
        return ParseError(
            "invalid YAML: a tab in indentation (YAML does not allow tabs for indentation)",
            line,
            tab,
            "indent with spaces",
        )
    key = _KEY_LINE.match(here)
    if key is not None and problem in (
        "did not find expected key",
        "mapping values are not allowed in this context",
        "did not find expected '-' indicator",
    ):
        for before in range(line - 2, -1, -1):
            sibling = _KEY_LINE.match(lines[before])
            if sibling is None:
                if lines[before].strip() and not lines[before].lstrip().startswith("#"):
                    break
                continue
            mine, theirs = len(key.group(1)), len(sibling.group(1))
            if mine == theirs:
                break
            return ParseError(
                f"invalid YAML: the key {key.group(3)} is indented {_spaces(mine)}, which does "
                f"not match its siblings (the key {sibling.group(3)} on line {before + 1} "
                f"is indented {_spaces(theirs)})",
                line,
                mine + 1,
                "give every key of one mapping the same indentation",
            )
    return ParseError(f"invalid YAML: {problem}", line, column)


def _build_yaml(events: Any, limits: Limits, out: list[Any], yaml: Any) -> None:
    ScalarEvent, AliasEvent = yaml.ScalarEvent, yaml.AliasEvent
    MappingStart, SequenceStart = yaml.MappingStartEvent, yaml.SequenceStartEvent
    CollectionEnd = yaml.CollectionEndEvent
    DocumentStart, DocumentEnd = yaml.DocumentStartEvent, yaml.DocumentEndEvent

    positions = Positions()
    dups: list[Issue] = []
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    root: list[Any] = []
    nodes = 0
    counts: list[int] = []  # nodes built inside each open collection (for anchors)

    def attach(value: Any, line: int, column: int, cost: int) -> None:
        nonlocal nodes
        nodes += cost
        if nodes > limits.max_nodes:
            raise ParseError(
                f"the document expands to over {limits.max_nodes:,} nodes",
                line,
                column,
                "aliases that multiply content (a 'billion laughs' file) are refused",
            )
        for i in range(len(counts)):
            counts[i] += cost
        if not stack:
            root.append(value)
            positions.values[()] = (line, column)
            return
        frame = stack[-1]
        container = frame.container
        if isinstance(container, list):
            tokens = (*frame.tokens, str(len(container)))
            container.append(value)
            positions.values.setdefault(tokens, (line, column))
            return
        key = frame.key
        assert key is not None
        frame.key = None
        if frame.skip:
            frame.skip = False
            return
        if frame.key_is_merge:
            frame.key_is_merge = False
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                if not isinstance(source, dict):
                    raise ParseError(
                        "a merge key (<<) needs a mapping or a list of mappings", line, column
                    )
                for k, v in source.items():
                    if k not in container:
                        container[k] = v
                        frame.merged.add(k)
            return
        tokens = (*frame.tokens, key)
        container[key] = value
        positions.values.setdefault(tokens, (line, column))

    def set_key(frame: _Frame, key: str, plain: bool, line: int, column: int) -> None:
        if key == "<<" and plain:
            frame.key, frame.key_is_merge = key, True
            return
        tokens = (*frame.tokens, key)
        container = frame.container
        if key in container and key not in frame.merged:
            dups.append(_duplicate(tokens, positions.keys.get(tokens), line, column))
            # The first value stays; the repeated one is read and dropped.
            frame.key, frame.skip = key, True
            return
        frame.merged.discard(key)
        container.pop(key, None)
        frame.key = key
        positions.keys.setdefault(tokens, (line, column))

    for event in events:
        cls = event.__class__
        mark = event.start_mark
        line, column = mark.line + 1, mark.column + 1
        if cls is ScalarEvent:
            style = event.style
            tag = event.tag
            if tag is not None and tag not in _CORE_TAGS and not tag.startswith("tag:yaml.org"):
                raise ParseError(
                    f"unsupported YAML tag {tag}",
                    line,
                    column,
                    "only plain data is read; remove the tag",
                )
            text = event.value
            note = None
            plain = not style
            if tag is not None and tag != "!" and not (plain and event.implicit[0]):
                value = _tagged_scalar(tag, text, line, column)
            elif plain:
                value, note = _plain_scalar(text)
            else:
                value = text
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame.container, dict) and frame.key is None:
                set_key(frame, text, plain, line, column)
                continue
            if frame is not None and note is not None:
                c = frame.container
                tok = (*frame.tokens, str(len(c)) if isinstance(c, list) else str(frame.key))
                positions.notes[tok] = note
            attach(value, line, column, 1)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1)
        elif cls is MappingStart or cls is SequenceStart:
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame.container, dict) and frame.key is None:
                raise ParseError("a mapping or list cannot be a key", line, column)
            if event.tag is not None and event.tag not in _CORE_TAGS:
                raise ParseError(
                    f"unsupported YAML tag {event.tag}",
                    line,
                    column,
                    "only plain data is read; remove the tag",
                )
            if len(stack) >= limits.max_depth:
                raise ParseError(f"nesting deeper than {limits.max_depth} levels", line, column)
            container: Any = {} if cls is MappingStart else []
            if frame is None:
                tokens: Tokens = ()
            elif isinstance(frame.container, list):
                tokens = (*frame.tokens, str(len(frame.container)))
            else:
                tokens = (*frame.tokens, str(frame.key))
            attach(container, line, column, 1)
            stack.append(_Frame(container, tokens, event.anchor))
            counts.append(1)
        elif issubclass(cls, CollectionEnd):
            frame = stack.pop()
            size = counts.pop()
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.container, size)
        elif cls is AliasEvent:
            found = anchors.get(event.anchor)
            if found is None:
                raise ParseError(f"unknown alias *{event.anchor}", line, column)
            value, cost = found
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame.container, dict) and frame.key is None:
                if not isinstance(value, str):
                    raise ParseError("an alias used as a key must name a string", line, column)
                set_key(frame, value, False, line, column)
                continue
            attach(value, line, column, cost)
        elif cls is DocumentStart:
            root.clear()
            positions = Positions()
            dups = []
            anchors = {}
        elif cls is DocumentEnd:
            out.append((root[0] if root else None, positions, dups))


# ---------------------------------------------------------------------------------------
# JSON: a small reader that keeps positions and reports duplicate keys.

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


class _JsonReader:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.positions = Positions()
        self.dups: list[Issue] = []
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def fail(self, message: str, offset: int) -> ParseError:
        line, column = self.where(min(offset, len(self.text)))
        return ParseError(f"invalid JSON: {message}", line, column)

    def read(self) -> tuple[Any, Positions, list[Issue]]:
        pos = _WS.match(self.text, 0).end()  # type: ignore[union-attr]
        value, pos = self.value(pos, (), 0)
        pos = _WS.match(self.text, pos).end()  # type: ignore[union-attr]
        if pos != len(self.text):
            raise self.fail("extra data after the document", pos)
        return value, self.positions, self.dups

    def value(self, pos: int, tokens: Tokens, depth: int) -> tuple[Any, int]:
        text = self.text
        if pos >= len(text):
            raise self.fail("unexpected end of input", pos)
        self.positions.values.setdefault(tokens, self.where(pos))
        ch = text[pos]
        if ch == '"':
            return self.string(pos)
        if ch == "{" or ch == "[":
            if depth >= self.limits.max_depth:
                line, column = self.where(pos)
                raise ParseError(
                    f"nesting deeper than {self.limits.max_depth} levels", line, column
                )
            return (self.obj if ch == "{" else self.array)(pos + 1, tokens, depth + 1)
        for word, val in (("true", True), ("false", False), ("null", None)):
            if text.startswith(word, pos):
                return val, pos + len(word)
        m = _NUMBER.match(text, pos)
        if m is None or m.end() == pos:
            raise self.fail(f"unexpected character {text[pos]!r}", pos)
        number = m.group()
        return (float(number) if m.group(1) or m.group(2) else int(number)), m.end()

    def string(self, pos: int) -> tuple[str, int]:
        try:
            return json.decoder.scanstring(self.text, pos + 1, True)  # type: ignore[attr-defined,no-any-return]
        except json.JSONDecodeError as exc:
            raise self.fail(exc.msg.lower(), exc.pos) from None

    def obj(self, pos: int, tokens: Tokens, depth: int) -> tuple[dict[str, Any], int]:
        text = self.text
        result: dict[str, Any] = {}
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not text.startswith('"', pos):
                raise self.fail("expected a key in double quotes", pos)
            key_pos = pos
            key, pos = self.string(pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if not text.startswith(":", pos):
                raise self.fail("expected ':' after a key", pos)
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            here = (*tokens, key)
            line, column = self.where(key_pos)
            if key in result:
                self.dups.append(_duplicate(here, self.positions.keys.get(here), line, column))
                _, pos = self.value(pos, ("\x00dup", *here), depth)
            else:
                self.positions.keys[here] = (line, column)
                result[key], pos = self.value(pos, here, depth)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                continue
            if text.startswith("}", pos):
                return result, pos + 1
            if pos >= len(text):
                raise self.fail("unexpected end of input", pos)
            raise self.fail("expected ',' or '}'", pos)

    def array(self, pos: int, tokens: Tokens, depth: int) -> tuple[list[Any], int]:
        text = self.text
        result: list[Any] = []
        pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith("]", pos):
            return result, pos + 1
        while True:
            item, pos = self.value(pos, (*tokens, str(len(result))), depth)
            result.append(item)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
                continue
            if text.startswith("]", pos):
                return result, pos + 1
            if pos >= len(text):
                raise self.fail("unexpected end of input", pos)
            raise self.fail("expected ',' or ']'", pos)


# ---------------------------------------------------------------------------------------
# TOML: the standard parser for values, a line scan for positions.


@functools.cache
def _toml_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    # Compiled on first use: most runs never read TOML.
    part = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
    key = rf"{part}(?:\s*\.\s*{part})*"
    table = re.compile(rf"^\s*(\[\[?)\s*({key})\s*\]\]?\s*(?:#.*)?$")
    pair = re.compile(rf"^(\s*)({key})\s*=\s*")
    return table, pair, re.compile(part)


def _toml_parts(key: str) -> list[str]:
    parts = []
    for m in _toml_patterns()[2].finditer(key):
        part = m.group()
        if part[0] == '"':
            part = json.loads(part)
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return parts


def _read_toml(text: str) -> tuple[Any, Positions, list[Issue]]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, column = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if "at end of document" in message:
            line = text.count("\n") + 1
        raise ParseError(f"invalid TOML: {message}", line, column) from None
    return data, _toml_positions(text), []


def _toml_positions(text: str) -> Positions:
    table_re, pair_re, _ = _toml_patterns()
    positions = Positions()
    table: Tokens = ()
    arrays: dict[Tokens, int] = {}
    in_multiline: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = table_re.match(line)
        if header:
            parts = _toml_parts(header.group(2))
            resolved: list[str] = []
            for part in parts:
                resolved.append(part)
                if tuple(resolved) in arrays and len(resolved) < len(parts):
                    resolved.append(str(arrays[tuple(resolved)]))
            key_tokens = tuple(resolved)
            if header.group(1) == "[[":
                arrays[key_tokens] = arrays.get(key_tokens, -1) + 1
                key_tokens = (*key_tokens, str(arrays[key_tokens]))
            table = key_tokens
            column = line.index(header.group(2)) + 1
            positions.keys.setdefault(table, (number, column))
            positions.values.setdefault(table, (number, column))
            continue
        pair = pair_re.match(line)
        if pair:
            tokens = (*table, *_toml_parts(pair.group(2)))
            positions.keys.setdefault(tokens, (number, len(pair.group(1)) + 1))
            positions.values.setdefault(tokens, (number, pair.end() + 1))
            rest = line[pair.end() :]
            for quote in ('"""', "'''"):
                if rest.startswith(quote) and rest.count(quote) == 1:
                    in_multiline = quote
    return positions
