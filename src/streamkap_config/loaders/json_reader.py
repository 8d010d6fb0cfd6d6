"""JSON: a small reader that keeps positions and reports duplicate keys."""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from ..document import Positions, Tokens
from ..issues import Issue
from .common import Limits, ParseError, duplicate_issue, too_long_number

__all__ = ["read_json"]

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
        try:
            return (float(number) if m.group(1) or m.group(2) else int(number)), m.end()
        except ValueError as exc:  # past Python's digit limit
            raise self.fail(too_long_number(exc), pos) from None

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
                self.dups.append(duplicate_issue(here, self.positions.keys.get(here), line, column))
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


def read_json(text: str, limits: Limits) -> tuple[Any, Positions, list[Issue]]:
    """The value of a JSON text, where its keys and values are, and its duplicate keys."""
    try:
        return _JsonReader(text, limits).read()
    except RecursionError:  # only past DEPTH_CEILING on a small stack; say it as depth
        raise ParseError(f"nesting deeper than {limits.max_depth} levels") from None
