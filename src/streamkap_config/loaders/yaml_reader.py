"""YAML, from the event stream (libyaml when present): positions, duplicates, bounds."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..document import YAML11_BOOLEAN_WORDS, Positions, Tokens
from ..issues import Issue
from .common import Limits, ParseError, duplicate_issue, too_long_number

__all__ = ["read_yaml"]

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
    if text.lower() in YAML11_BOOLEAN_WORDS:
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


def read_yaml(text: str, limits: Limits) -> Iterator[tuple[Any, Positions, list[Issue]]]:
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
            dups.append(duplicate_issue(tokens, positions.keys.get(tokens), line, column))
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
            try:
                if tag is not None and tag != "!" and not (plain and event.implicit[0]):
                    value = _tagged_scalar(tag, text, line, column)
                elif plain:
                    value, note = _plain_scalar(text)
                else:
                    value = text
            except ValueError as exc:  # an integer past Python's digit limit
                raise ParseError(too_long_number(exc), line, column) from None
            frame = stack[-1] if stack else None
            if frame is not None and isinstance(frame.container, dict) and frame.key is None:
                set_key(frame, text, plain, line, column)
                if event.anchor is not None:  # an anchored key: *alias may name it later
                    anchors[event.anchor] = (text, 1)
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
