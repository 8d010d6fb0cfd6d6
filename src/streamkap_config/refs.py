"""``${env:NAME}`` references: where they stand, and what they resolve to.

A reference may stand in any string value, as the whole value or inside it;
``$${`` is a literal ``${``. Validation leaves references as written (a whole
reference satisfies a requirement and any type); building a payload resolves
every one, and a variable that is not set is an error, never literal text.

>>> is_whole_reference("${env:PG_PASSWORD}"), is_whole_reference("${env:X}hunter2")
(True, False)
>>> resolve("jdbc://${env:HOST}:5432 costs $${5}", {"HOST": "db"}.get)
('jdbc://db:5432 costs ${5}', [])
>>> literal_text("${env:X}hunter2")
'hunter2'
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "EnvLookup",
    "EnvReader",
    "has_escape_or_reference",
    "has_reference",
    "is_whole_reference",
    "literal_text",
    "reference_names",
    "resolve",
]

_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_WHOLE = re.compile(r"\$\{env:" + _NAME + r"\}")
# An escaped ``$${`` first, so that ``$${env:X}`` is never read as a reference.
_TOKEN = re.compile(r"\$\$\{|\$\{env:" + _NAME + r"\}")

#: Looks a variable up: its value, or None when it is not set (or not allowed).
EnvLookup = Callable[[str], "str | None"]


def is_whole_reference(value: Any) -> bool:
    """True when ``value`` is exactly one ``${env:NAME}`` and nothing else."""
    return value.__class__ is str and _WHOLE.fullmatch(value) is not None


def reference_names(value: str) -> list[str]:
    """The variable names referenced in ``value``, in order (escapes skipped)."""
    if "${" not in value:
        return []
    return [m.group(1) for m in _TOKEN.finditer(value) if m.group(1)]


def has_reference(value: Any) -> bool:
    """True when a string (or any string in a list) holds a reference."""
    if value.__class__ is str:
        return "${" in value and bool(reference_names(value))
    if value.__class__ is list:
        return any(has_reference(v) for v in value)
    return False


def has_escape_or_reference(value: Any) -> bool:
    """True when resolving could change ``value`` (a reference or a ``$${`` escape)."""
    if value.__class__ is str:
        return "${" in value
    if value.__class__ is list:
        return any(has_escape_or_reference(v) for v in value)
    return False


def literal_text(value: str) -> str:
    """``value`` without its references: the part written in the file itself."""
    return _TOKEN.sub(lambda m: "" if m.group(1) else "${", value)


def resolve(value: str, lookup: EnvLookup) -> tuple[str, list[str]]:
    """Replace every reference and escape. Returns the text and the names not found."""
    missing: list[str] = []

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if not name:
            return "${"
        found = lookup(name)
        if found is None:
            missing.append(name)
            return ""
        return found

    return _TOKEN.sub(one, value), missing


class EnvReader:
    """Reads variables from ``environ``, only those whose names match an ``allow`` glob.

    >>> reader = EnvReader({"PG_PASSWORD": "x", "HOME": "/root"}, allow=["PG_*"])
    >>> reader("PG_PASSWORD"), reader("HOME"), reader.allows("HOME")
    ('x', None, False)
    """

    def __init__(self, environ: Mapping[str, str], allow: Iterable[str] | None = None) -> None:
        self._environ = environ
        self._patterns = None if allow is None else tuple(p.strip() for p in allow if p.strip())

    def allows(self, name: str) -> bool:
        """True when references may read ``name``."""
        patterns = self._patterns
        return patterns is None or any(fnmatch.fnmatchcase(name, p) for p in patterns)

    def __call__(self, name: str) -> str | None:
        if not self.allows(name):
            return None
        value = self._environ.get(name)
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:  # never the environment's values
        return f"EnvReader(allow={self._patterns!r})"
