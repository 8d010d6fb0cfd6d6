"""What a source captures: its include lists, read as Debezium reads them.

An include list (``table.include.list``, ``collection.include.list``,
``topic.include.list``, with or without ``.user.defined``) is a comma-separated
list of regular expressions; ``\\,`` is a comma inside one, whitespace around
each is dropped, and each must match the whole identifier, ignoring case.

>>> captured = IncludeList.parse(r"public\\.orders, public\\.cust.*")
>>> captured.matches("public.orders"), captured.matches("PUBLIC.customers"), captured.matches("x")
(True, True, False)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from .records import record

__all__ = ["INCLUDE_KEYS", "IncludeList", "captured_by", "split_list"]

#: The keys whose value says what a source captures, in the order they are read.
INCLUDE_KEYS = (
    "table.include.list",
    "collection.include.list",
    "topic.include.list",
)
_SUFFIXES = ("", ".user.defined")
# Sources whose topics carry a fixed prefix before the captured name.
_TOPIC_PREFIX = {"dynamodb": "default."}


def split_list(text: str) -> list[str]:
    """Split at commas that are not escaped (``\\,``), trimming each entry."""
    entries: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in text:
        if escaped:
            current.append(ch if ch == "," else "\\" + ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            entries.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if escaped:
        current.append("\\")
    entries.append("".join(current).strip())
    return [e for e in entries if e]


@record(frozen=True)
class IncludeList:
    """The entries of an include list and their compiled patterns (None: not a regex)."""

    key: str
    entries: tuple[str, ...]
    patterns: tuple[re.Pattern[str] | None, ...]

    @classmethod
    def parse(cls, text: str, key: str = "table.include.list") -> IncludeList:
        entries = tuple(split_list(text))
        patterns: list[re.Pattern[str] | None] = []
        for entry in entries:
            try:
                patterns.append(re.compile(entry, re.IGNORECASE))
            except re.error:
                patterns.append(None)
        return cls(key, entries, tuple(patterns))

    @property
    def checkable(self) -> bool:
        """False when an entry is not a regular expression we can read: nothing is claimed."""
        return all(p is not None for p in self.patterns)

    def matches(self, identifier: str) -> bool:
        return any(p is not None and p.fullmatch(identifier) for p in self.patterns)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str, key: str) -> IncludeList:
    # Many pipelines name one source: its list is compiled once (re's own cache is small).
    return IncludeList.parse(text, key)


def captured_by(connector: str, config: Mapping[str, Any]) -> tuple[IncludeList, str] | None:
    """The include list of a source's canonical config and its topics' prefix, or None.

    None when the source has no include list (it captures what it finds) or one
    this reader cannot check: its topics are then not checked.
    """
    for base in INCLUDE_KEYS:
        for suffix in _SUFFIXES:
            value = config.get(base + suffix)
            if isinstance(value, str) and value.strip():
                found = _parsed(value, base + suffix)
                return (found, _TOPIC_PREFIX.get(connector, "")) if found.checkable else None
    return None
