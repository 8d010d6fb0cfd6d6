"""TOML: the standard parser for values, a line scan for positions."""

from __future__ import annotations

import functools
import re
import sys
from typing import Any

from ..core.document import Positions, Tokens
from ..core.issues import Issue
from .common import Limits, ParseError, too_deep, too_long_number

__all__ = ["read_toml"]


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
            part = _basic_string(part)
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return parts


def _basic_string(quoted: str) -> str:
    """A TOML basic string's value (its escapes are TOML's, not JSON's: \\U0001F600)."""
    tomllib = _tomllib()
    try:
        return str(tomllib.loads(f"k = {quoted}")["k"])
    except (tomllib.TOMLDecodeError, ValueError, RecursionError):
        return quoted[1:-1]  # a position is all we need; the parser already read it


def _tomllib() -> Any:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    return tomllib


def read_toml(text: str, limits: Limits) -> tuple[Any, Positions, list[Issue]]:
    tomllib = _tomllib()
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ParseError(f"nesting deeper than {limits.max_depth} levels") from None
    except ValueError as exc:
        if not isinstance(exc, tomllib.TOMLDecodeError):  # an integer past Python's digit limit
            raise ParseError(f"invalid TOML: {too_long_number(exc)}") from None
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line, column = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if "at end of document" in message:
            line = text.count("\n") + 1
        if message.startswith("Cannot overwrite a value") or "twice" in message:
            raise _duplicate(text, line) from None
        raise ParseError(f"invalid TOML: {message}", line, column) from None
    positions = _toml_positions(text)
    deep = too_deep(data, limits.max_depth)
    if deep is not None:
        line, column = positions.of_key(deep) or (1, 1)
        raise ParseError(f"nesting deeper than {limits.max_depth} levels", line, column)
    return data, positions, []


def _duplicate(text: str, line: int) -> ParseError:
    """A key (or table) written twice: said so, at the second, naming the first line."""
    table_re, pair_re, _ = _toml_patterns()
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    m = pair_re.match(here) or table_re.match(here)
    if m is None:
        return ParseError("invalid TOML: a key or table is defined twice", line, 1)
    key = m.group(2).strip()
    indent = len(here) - len(here.lstrip())
    first = None
    for n in range(line - 2, -1, -1):  # upward, within the same table (a table: anywhere)
        other = lines[n]
        header = table_re.match(other)
        found = header or pair_re.match(other)
        if (
            found is not None
            and found.group(2).strip() == key
            and bool(header) == bool(table_re.match(here))
        ):
            first = n + 1
            break
        if header is not None and not table_re.match(here):
            break
    where = f" (first at line {first})" if first else ""
    return ParseError(
        f'duplicate key "{key}"{where}',
        line,
        indent + 1,
        "a TOML key is set once in its table: remove one",
    )


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
