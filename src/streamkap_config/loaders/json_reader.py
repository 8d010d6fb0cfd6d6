"""JSON: a small reader that keeps positions and reports duplicate keys."""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from ..core.document import Positions, Tokens
from ..core.issues import Issue
from .common import Limits, ParseError, duplicate_issue, too_long_number

__all__ = ["read_json"]

# The C string scanner the json module itself uses (escapes, strictness, errors).
_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009 - untyped in typeshed
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _skip(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON whitespace."""
    found = _WS.match(text, pos)
    return found.end() if found is not None else pos


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

    def fail(self, message: str, offset: int, hint: str | None = None) -> ParseError:
        line, column = self.where(min(offset, len(self.text)))
        return ParseError(f"invalid JSON: {message}", line, column, hint)

    def trailing_comma(self, pos: int, close: str) -> ParseError | None:
        """A ``,`` right before ``close``: the error at the comma, saying so."""
        if not self.text.startswith(close, pos):
            return None
        comma = self.text.rfind(",", 0, pos)
        return self.fail(
            f"a comma before '{close}'",
            comma,
            "JSON allows no comma after the last item; remove it",
        )

    def read(self) -> tuple[Any, Positions, list[Issue]]:
        pos = _skip(self.text, 0)
        value, pos = self.value(pos, (), 0)
        pos = _skip(self.text, pos)
        if pos != len(self.text):
            raise self.fail("extra data after the document", pos)
        return value, self.positions, self.dups

    def value(self, pos: int, tokens: Tokens | None, depth: int) -> tuple[Any, int]:
        """The value at ``pos``; ``tokens`` None: read it, record nothing (a repeated key's)."""
        text = self.text
        if pos >= len(text):
            raise self.fail("unexpected end of input", pos)
        if tokens is not None:
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
            value, end = _scanstring(self.text, pos + 1, True)
            return str(value), int(end)
        except json.JSONDecodeError as exc:
            # "Unterminated string starting at": the position is the error's own.
            raise self.fail(exc.msg.lower().removesuffix(" at"), exc.pos) from None

    def obj(self, pos: int, tokens: Tokens | None, depth: int) -> tuple[dict[str, Any], int]:
        text = self.text
        result: dict[str, Any] = {}
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            return result, pos + 1
        while True:
            if not text.startswith('"', pos):
                raise self.trailing_comma(pos, "}") or self.fail(
                    "expected a key in double quotes", pos
                )
            key_pos = pos
            key, pos = self.string(pos)
            pos = _skip(text, pos)
            if not text.startswith(":", pos):
                raise self.fail("expected ':' after a key", pos)
            pos = _skip(text, pos + 1)
            here = None if tokens is None else (*tokens, key)
            line, column = self.where(key_pos)
            if key in result:
                if here is not None:
                    first = self.positions.keys.get(here)
                    self.dups.append(duplicate_issue(here, first, line, column))
                _, pos = self.value(pos, None, depth)
            else:
                if here is not None:
                    self.positions.keys[here] = (line, column)
                result[key], pos = self.value(pos, here, depth)
            pos, done = self.separator(pos, "}")
            if done:
                return result, pos

    def separator(self, pos: int, close: str) -> tuple[int, bool]:
        """Past the ``,`` or ``close`` after an item: the position, and whether it closed."""
        text = self.text
        pos = _skip(text, pos)
        if text.startswith(",", pos):
            return _skip(text, pos + 1), False
        if text.startswith(close, pos):
            return pos + 1, True
        if pos >= len(text):
            raise self.fail("unexpected end of input", pos)
        raise self.fail(f"expected ',' or '{close}'", pos)

    def array(self, pos: int, tokens: Tokens | None, depth: int) -> tuple[list[Any], int]:
        text = self.text
        result: list[Any] = []
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return result, pos + 1
        while True:
            at = None if tokens is None else (*tokens, str(len(result)))
            if result:
                broken = self.trailing_comma(pos, "]")
                if broken is not None:
                    raise broken
            item, pos = self.value(pos, at, depth)
            result.append(item)
            pos, done = self.separator(pos, "]")
            if done:
                return result, pos


def read_json(text: str, limits: Limits) -> tuple[Any, Positions, list[Issue]]:
    """The value of a JSON text, where its keys and values are, and its duplicate keys."""
    try:
        return _JsonReader(text, limits).read()
    except RecursionError:  # only past DEPTH_CEILING on a small stack; say it as depth
        raise ParseError(f"nesting deeper than {limits.max_depth} levels") from None
