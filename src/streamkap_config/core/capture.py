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

from .records import field, record

__all__ = [
    "INCLUDE_KEYS",
    "MATCH_SECONDS",
    "IncludeList",
    "captured_by",
    "compile_entry",
    "parse_include_list",
    "split_list",
]

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


#: The longest one match of a risky pattern may run before the list counts as unchecked.
MATCH_SECONDS = 0.05
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


def _risky(tree: Any, inside_repeat: bool = False) -> bool:
    """A parsed pattern with a repeat inside a repeat, or alternatives under one: the
    shapes that backtrack catastrophically (``(a+)+b``, ``(a|aa)*``)."""
    for op, arg in tree:
        name = op.name  # re's opcodes carry their name (3.10's sre_constants too)
        if name in _REPEATS:
            _low, high, sub = arg
            unbounded = high is None or high > 1
            if unbounded and inside_repeat:
                return True
            if _risky(sub, inside_repeat or unbounded):
                return True
        elif name == "BRANCH":
            if inside_repeat:
                return True
            if any(_risky(branch, inside_repeat) for branch in arg[1]):
                return True
        elif name == "SUBPATTERN":
            if _risky(arg[-1], inside_repeat):
                return True
        elif name in ("ASSERT", "ASSERT_NOT") and _risky(arg[1], inside_repeat):
            return True
    return False


def compile_entry(entry: str) -> tuple[Any, str | None]:
    """``(pattern, None)``, or ``(None, why)`` for an entry that is no regular expression.

    A pattern that could backtrack without end is compiled by the ``regex``
    package, whose matches take a timeout; every other one by ``re``.
    """
    try:
        import re._parser as parser  # type: ignore[import-not-found]
    except ImportError:  # Python 3.10
        import sre_parse as parser
    try:
        risky = _risky(parser.parse(entry, re.IGNORECASE))
        if not risky:
            return re.compile(entry, re.IGNORECASE), None
        import regex  # only for the risky few: it costs 20 ms to import

        return regex.compile(entry, regex.IGNORECASE), None
    except re.error as exc:
        return None, exc.msg
    except (OverflowError, ValueError):
        return None, "a repeat count is too large"
    except RecursionError:
        return None, "nested too deeply"
    except Exception as exc:  # regex.error, on what re accepted
        return None, str(exc).split(" at position")[0] or exc.__class__.__name__


@record(frozen=True)
class IncludeList:
    """The entries of an include list and their compiled patterns (None: not a regex)."""

    key: str
    entries: tuple[str, ...]
    patterns: tuple[Any, ...]
    errors: tuple[tuple[str, str], ...] = ()  # (entry, why it is not a regex)
    # Patterns that ran out of time once are not run again.
    _slow: set[int] = field(default_factory=set, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str, key: str = "table.include.list") -> IncludeList:
        entries = tuple(split_list(text))
        patterns: list[Any] = []
        errors: list[tuple[str, str]] = []
        for entry in entries:
            pattern, why = compile_entry(entry)
            patterns.append(pattern)
            if why is not None:
                errors.append((entry, why))
        return cls(key, entries, tuple(patterns), tuple(errors))

    @property
    def checkable(self) -> bool:
        """False when an entry is not a regular expression we can read: nothing is claimed."""
        return all(p is not None for p in self.patterns)

    def match(self, identifier: str) -> bool | None:
        """Whether an entry matches the whole ``identifier``; None when it could not be
        told in time (a pattern that backtracks without end)."""
        unsure = False
        for n, pattern in enumerate(self.patterns):
            if pattern is None:
                continue
            if isinstance(pattern, re.Pattern):
                if pattern.fullmatch(identifier):
                    return True
                continue
            if n in self._slow:
                unsure = True
                continue
            try:
                if pattern.fullmatch(identifier, timeout=MATCH_SECONDS):
                    return True
            except TimeoutError:
                self._slow.add(n)
                unsure = True
        return None if unsure else False

    def matches(self, identifier: str) -> bool:
        return bool(self.match(identifier))


@functools.lru_cache(maxsize=4096)
def parse_include_list(text: str, key: str) -> IncludeList:
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
                found = parse_include_list(value, base + suffix)
                return (found, _TOPIC_PREFIX.get(connector, "")) if found.checkable else None
    return None
