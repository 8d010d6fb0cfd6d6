"""``streamkap-config new``: a commented starting file for one connector.

Every key a new document must set is written, with a placeholder that names its
type (``<string>``, ``<integer 1-65535>``, ``<true|false>``, ``<one of: a|b>``)
or its default; a secret is a ``${env:NAME}`` reference. Keys required only
under a condition that the defaults do not meet follow, commented, under that
condition; then every optional key, commented, with its default. Descriptions
are comments, their HTML read as text. A placeholder left in place is an
error of its type, so the file validates only once each is filled in.

>>> text = starter("transform", "map_filter")
>>> text.splitlines()[2:5]
['kind: transform', 'name: <name>', 'transform: map_filter']
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import TYPE_CHECKING, Any

from ..core.kinds import KINDS
from .definitions import strip_suffix

if TYPE_CHECKING:
    from .definitions import ConnectorDefinition, Property

__all__ = ["PLACEHOLDER", "placeholder", "starter"]

#: A placeholder of :func:`starter` (and ``<name>``): never a value anybody means.
PLACEHOLDER = re.compile(r"<(?:name|string|map|true\|false|integer(?: [^>]*)?|one of: [^>]*)>")

_WIDTH = 88


def placeholder(prop: Property) -> str:
    """What stands for a value of ``prop`` until the user writes one."""
    kind = prop.kind
    if kind == "integer":
        if prop.minimum is not None and prop.maximum is not None:
            return f"<integer {_number(prop.minimum)}-{_number(prop.maximum)}>"
        return "<integer>"
    if kind == "boolean":
        return "<true|false>"
    if kind == "enum" and prop.raw_values:
        return "<one of: " + "|".join(str(v) for v in prop.raw_values) + ">"
    if kind == "array":
        values = "|".join(str(v) for v in prop.raw_values or ()) or "string"
        return f"[<one of: {values}>]" if prop.raw_values else "[<string>]"
    if kind == "map":
        return "<map>"
    return "<string>"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _variable(code: str, prop: Property) -> str:
    """``${env:POSTGRESQL_DATABASE_PASSWORD}``: a variable name from connector and key."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{code}_{strip_suffix(prop.name)}").strip("_")
    return "${env:" + name.upper() + "}"


def _scalar(value: Any) -> str:
    """A YAML scalar (flow style) for a default: JSON is YAML here, quotes where needed."""
    words = ("true", "false", "null", "yes", "no", "on", "off", "~")
    if (
        isinstance(value, str)
        and re.fullmatch(r"[A-Za-z0-9_./:@+-]+", value)
        and value.lower() not in words
        and not re.fullmatch(r"[-+]?[0-9_.eE]+", value)
    ):
        return value
    return json.dumps(value, ensure_ascii=False)


def _value(code: str, prop: Property) -> str:
    if prop.secret:
        return _variable(code, prop)
    if prop.has_default:
        return _scalar(prop.default)
    return placeholder(prop)


def _comment(text: str, indent: str) -> list[str]:
    from ..core.text import plain_text

    plain = plain_text(text).strip()
    if not plain:
        return []
    return textwrap.wrap(
        plain, _WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# "
    )


def starter(kind: str, code: str, definition: ConnectorDefinition | None = None) -> str:
    """The starting file (YAML) of a ``kind`` document for connector ``code``."""
    from .bundle import bundled_schemas

    spec = KINDS[kind]
    if definition is None:
        definition = bundled_schemas(kind)[code].definition
    props = [p for p in definition.properties if p.user_defined and not p.readonly]
    defaults = {p.name: p.default for p in props if p.has_default}
    every = [q.name for q in definition.properties]
    shorts = [strip_suffix(n) for n in every]

    def spelled(p: Property) -> str:
        """The short spelling people write, unless it could mean another key too."""
        short = strip_suffix(p.name)
        return (
            short
            if shorts.count(short) == 1 and (short == p.name or short not in every)
            else p.name
        )

    def holds(p: Property) -> bool:
        return all(c.holds(defaults.get(c.config)) for c in p.conditions)

    required = [p for p in props if p.required and (not p.conditions or holds(p))]
    later = [p for p in props if p.required and p.conditions and not holds(p)]
    optional = [p for p in props if not p.required]
    lines = [
        f"# A {definition.display_name} {kind} (schema {definition.version[:12]}): replace "
        "every <...>;",
        "# commented keys are optional, or apply only under the condition above them.",
        f"kind: {kind}",
        "name: <name>",
        f"{spec.code_field}: {code}",
        "config:",
    ]
    for p in required:
        lines += _comment(p.display_name + (f": {p.description}" if p.description else ""), "  ")
        lines.append(f"  {spelled(p)}: {_value(code, p)}")
    groups: dict[str, list[Property]] = {}
    for p in later:
        groups.setdefault(" and ".join(c.describe() for c in p.conditions), []).append(p)
    for condition, members in groups.items():
        lines.append(f"  # when {condition}:")
        for p in members:
            lines.append(f"  # {spelled(p)}: {_value(code, p)}")
    if optional:
        lines.append("  # optional:")
        for p in optional:
            about = f"  ({p.display_name})" if p.display_name else ""
            lines.append(f"  # {spelled(p)}: {_value(code, p)}{about}")
    if not required:
        lines[5] = "config: {}  # to set one of the keys below, remove the {} and uncomment it"
    return "\n".join(lines) + "\n"
