"""``${env:NAME}`` and ``${var:NAME}`` references: where they stand, what they resolve to.

``${env:NAME}`` reads an environment variable; ``${var:NAME}`` a variable of
the environment the run is for (``[environments.<env>.variables]`` in
``streamkap.toml``). A reference may stand in any string value, as the whole
value or inside it; ``$${`` is a literal ``${``. Validation leaves references
as written (a whole reference satisfies a requirement and any type); building
a payload resolves every one, and a variable that is not set is an error,
never literal text. Both kinds are masked alike in every output.

>>> is_whole_reference("${env:PG_PASSWORD}"), is_whole_reference("${env:X}hunter2")
(True, False)
>>> resolve("jdbc://${env:HOST}:5432 costs $${5}", {"HOST": "db"}.get)
('jdbc://db:5432 costs ${5}', [])
>>> resolve("${var:region}-${env:X}", {}.get, {"region": "eu"}.get)
('eu-', ['X'])
>>> literal_text("${env:X}hunter2"), variable_names("${var:a}${env:b}${var:c}")
('hunter2', ['a', 'c'])
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "EnvLookup",
    "EnvReader",
    "Variables",
    "has_escape_or_reference",
    "has_reference",
    "is_whole_reference",
    "literal_text",
    "reference_names",
    "resolve",
    "unclosed_reference",
    "variable_names",
]

_NAME = r"([A-Za-z_][A-Za-z0-9_]*)"
_WHOLE = re.compile(r"\$\{(?:env|var):" + _NAME + r"\}")
# An escaped ``$${`` first, so that ``$${env:X}`` is never read as a reference.
# Group 1 is the namespace (env or var), group 2 the name.
_TOKEN = re.compile(r"\$\$\{|\$\{(env|var):" + _NAME + r"\}")

#: Looks a variable up: its value, or None when it is not set (or not allowed).
EnvLookup = Callable[[str], "str | None"]


def is_whole_reference(value: Any) -> bool:
    """True when ``value`` is exactly one ``${env:NAME}`` (or ``${var:NAME}``), nothing else."""
    return value.__class__ is str and _WHOLE.fullmatch(value) is not None


def reference_names(value: str) -> list[str]:
    """The names referenced in ``value`` (``env`` and ``var`` alike), in order, no escapes."""
    if "${" not in value:
        return []
    return [m.group(2) for m in _TOKEN.finditer(value) if m.group(1)]


def variable_names(value: str) -> list[str]:
    """The ``${var:NAME}`` names referenced in ``value``, in order."""
    if "${var:" not in value:
        return []
    return [m.group(2) for m in _TOKEN.finditer(value) if m.group(1) == "var"]


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


_BARE = r"[A-Za-z_][A-Za-z0-9_]*"
_OPEN = re.compile(
    r"\$\$\{|\$\{(?:env|var):" + _BARE + r"\}|(?P<open>\$\{(?:env|var):" + _BARE + ")"
)


def unclosed_reference(value: str) -> str | None:
    """The start of a ``${env:NAME`` (or ``${var:NAME``) that no ``}`` closes, if any.

    >>> unclosed_reference("${env:PG_PASSWORD"), unclosed_reference("${env:A}-$${env:B")
    ('${env:PG_PASSWORD', None)
    """
    for m in _OPEN.finditer(value):
        if m.group("open"):
            return m.group("open")
    return None


def literal_text(value: str) -> str:
    """``value`` without its references: the part written in the file itself."""
    return _TOKEN.sub(lambda m: "" if m.group(1) else "${", value)


def resolve(
    value: str, lookup: EnvLookup, variables: EnvLookup | None = None
) -> tuple[str, list[str]]:
    """Replace every reference and escape. Returns the text and the names not found.

    ``lookup`` reads ``${env:NAME}``, ``variables`` reads ``${var:NAME}`` (none
    when not given); a variable not found is named ``var:NAME`` in the list.
    """
    missing: list[str] = []

    def one(m: re.Match[str]) -> str:
        space, name = m.group(1), m.group(2)
        if not space:
            return "${"
        found = lookup(name) if space == "env" else (variables(name) if variables else None)
        if found is None:
            missing.append(name if space == "env" else f"var:{name}")
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


class Variables:
    """The ``${var:NAME}`` values of one environment (text, as references give them).

    Its repr names the environment and the variables, never their values.

    >>> variables = Variables({"region": "eu", "port": 5432, "tls": True}, "prod")
    >>> variables("port"), variables("tls"), variables("nope"), variables
    ('5432', 'true', None, Variables('prod', names=['port', 'region', 'tls']))
    """

    def __init__(self, values: Mapping[str, Any], environment: str | None = None) -> None:
        self.environment = environment
        self._values = {name: _as_text(value) for name, value in values.items()}

    def __call__(self, name: str) -> str | None:
        return self._values.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def names(self) -> list[str]:
        return sorted(self._values)

    def values(self) -> list[str]:
        """Every value: what masking cuts out of any text a server sends back."""
        return list(self._values.values())

    def __repr__(self) -> str:
        return f"Variables({self.environment!r}, names={self.names()!r})"


def _as_text(value: Any) -> str:
    """A project-file value as a reference writes it: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
