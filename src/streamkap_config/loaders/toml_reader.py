"""TOML: the standard parser for values, a line scan for positions."""

from __future__ import annotations

import functools
import json
import re
import sys
from typing import Any

from ..document import Positions, Tokens
from ..issues import Issue
from .common import ParseError

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
            part = json.loads(part)
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return parts


def read_toml(text: str) -> tuple[Any, Positions, list[Issue]]:
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
