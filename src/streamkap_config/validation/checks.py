"""Compiled per-key checks: a connector definition turned into one function per key.

Per schema version the definition is compiled once into a :class:`Checker`
(one small function per key, and a lookup plan from every accepted spelling to
its check); validating a document then costs one pass over its keys.

>>> from streamkap_config import bundled_schemas
>>> checker = Checker.for_definition(bundled_schemas()["postgresql"].definition)
>>> check = checker.plan["database.port"][1]
>>> check("5432", False), check("05432", False)[1][2]
((5432, None), 'write 5432 (a number has no leading zero)')
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ..core.document import YAML11_BOOLEAN_WORDS
from ..core.hints import near_value
from ..core.issues import QUOTE_HINT, describe_value
from ..core.records import field, record
from ..schemas.definitions import ConnectorDefinition, Property
from .keys import Ambiguous, KeyIndex

__all__ = ["Check", "Checker", "Problem", "Step"]

_INT_TEXT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]{1,20}$")


Problem = tuple[str, str, str | None]
Check = Callable[[Any, bool], tuple[Any, Problem | None]]


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _listing(allowed: Iterable[Any], most: int = 8) -> str:
    values = [str(a) for a in allowed]
    if len(values) <= most:
        return ", ".join(values)
    return ", ".join(values[:most]) + f", ... ({len(values)} values)"


def _compile(prop: Property, hide: bool = False) -> Check:
    """The check of one key. ``hide``: never quote the value (as for a secret)."""
    kind = prop.kind
    secret = prop.secret or hide

    def got(value: Any) -> str:
        return describe_value(value, secret)

    if kind == "string":

        def check_string(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            if isinstance(value, str):
                return value, None
            hint = None
            if isinstance(value, (bool, int, float)) and not secret:
                hint = QUOTE_HINT
            return None, ("type", f"expected a string, got {got(value)}", hint)

        return check_string

    if kind == "integer":
        lo, hi = prop.minimum, prop.maximum

        def check_integer(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            t = type(value)
            if t is int:
                number = value
            elif (t is float and value.is_integer()) or (
                t is str and not strict and _INT_TEXT.match(value.strip())
            ):
                number = int(value)
            else:
                hint = None
                if t is str and _INT_TEXT.match(value.strip()):
                    hint = "strict mode: write the number without quotes"
                elif t is str and not secret and _LEADING_ZERO.match(value.strip()):
                    hint = f"write {int(value)} (a number has no leading zero)"
                return None, ("type", f"expected an integer, got {got(value)}", hint)
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                shown = "the value" if secret else str(number)
                if lo is not None and hi is not None:
                    text = f"{shown} is out of range {lo}..{hi}"
                elif lo is not None:
                    text = f"{shown} is less than the minimum {lo}"
                else:
                    text = f"{shown} is greater than the maximum {hi}"
                return None, ("range", text, None)
            return number, None

        return check_integer

    if kind == "boolean":

        def check_boolean(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            if type(value) is bool:
                return value, None
            hint = None
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "false"):
                    if not strict:
                        return low == "true", None
                    hint = "strict mode: write true or false without quotes"
                elif low in YAML11_BOOLEAN_WORDS:
                    hint = "write true or false: words like yes/no/on/off are not booleans"
            return None, ("type", f"expected a boolean, got {got(value)}", hint)

        return check_boolean

    if kind == "enum":
        allowed = prop.raw_values or ()
        listed = _listing(allowed)

        def check_enum(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            for a in allowed:
                if value == a and type(value) is type(a):
                    return value, None
            return None, ("enum", f"{got(value)} is not one of {listed}", _enum_hint(value))

        def _enum_hint(value: Any) -> str:
            # A hint that fits an enum: the nearest allowed value, else the choices.
            if isinstance(value, str) and not secret:
                near = near_value(value, allowed)
                if near is not None:
                    return f'did you mean "{near}"?'
            if len(allowed) == 2:
                return f"write {_quoted(allowed[0])} or {_quoted(allowed[1])}"
            return f"write one of {listed}"

        return check_enum

    if kind == "map":
        return _compile_map(prop, got)

    items = prop.raw_values

    def check_list(value: Any, strict: bool) -> tuple[Any, Problem | None]:
        if isinstance(value, str) and not strict:
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, ("type", f"expected a list of strings, got {got(value)}", None)
        if items is not None:
            for v in value:
                if v not in items:
                    near = None if secret else near_value(v, items)
                    listed = _listing(items)
                    hint = f'did you mean "{near}"?' if near else f"write items from {listed}"
                    return None, ("enum", f"{got(v)} is not one of {listed}", hint)
        return value, None

    return check_list


def _compile_map(prop: Property, got: Callable[[Any], str]) -> Check:
    """A map-valued key: a mapping of strings (``Map``) or of objects (``MapNested``).

    A ``json_string`` property is sent JSON-encoded; leniently it may also be
    written as that JSON text already.
    """
    entry = str if prop.map_of == "string" else dict
    wanted = "a mapping of strings" if entry is str else "a mapping of mappings"
    as_json = prop.json_string

    def check_map(value: Any, strict: bool) -> tuple[Any, Problem | None]:
        if as_json and not strict and isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return None, ("type", f"expected {wanted}, got a string that is not JSON", None)
        if isinstance(value, dict) and all(isinstance(v, entry) for v in value.values()):
            return value, None
        hint = "write the entries as a nested mapping under the key" if value == "" else None
        return None, ("type", f"expected {wanted}, got {got(value)}", hint)

    return check_map


class Step(NamedTuple):
    """What the plan does with one accepted spelling of a key."""

    key: str  # the canonical API key
    check: Check
    secret: bool
    special: str  # a rule beyond the value: "not-user-settable", "readonly", "set-once" or ""


@record(frozen=True)
class Checker:
    """A connector definition compiled for fast validation."""

    definition: ConnectorDefinition
    required: tuple[Property, ...]
    conditioned: tuple[Property, ...]
    defaults: Mapping[str, Any]
    payload_defaults: Mapping[str, Any]  # what include_defaults adds: settable keys only
    index: KeyIndex
    secret_keys: frozenset[str]
    json_string_keys: frozenset[str]  # map-valued keys the API takes as JSON text
    # Every accepted spelling -> its step, or Ambiguous.
    plan: Mapping[str, Step | Ambiguous]
    # Checks that never quote the value, for values resolved from the environment.
    _hidden: dict[str, Check] = field(default_factory=dict, repr=False, compare=False)

    def hidden_check(self, key: str) -> Check:
        """The check of ``key`` that describes a bad value by its kind only."""
        found = self._hidden.get(key)
        if found is None:
            prop = self.definition.get(key)
            assert prop is not None
            found = self._hidden[key] = _compile(prop, hide=True)
        return found

    def __reduce__(self) -> tuple[Any, tuple[ConnectorDefinition]]:
        # Pickled as its definition (a forked worker's results): its checks are closures.
        return (Checker.for_definition, (self.definition,))

    @classmethod
    def for_definition(cls, definition: ConnectorDefinition) -> Checker:
        key = (definition.kind, definition.code, definition.version)
        found = _CHECKERS.get(key)
        if found is None:
            props = definition.properties
            checks = {p.name: _compile(p) for p in props}
            index = KeyIndex.for_definition(definition)
            steps = {
                p.name: Step(p.name, checks[p.name], p.secret, _special_rule(p)) for p in props
            }
            plan: dict[str, Step | Ambiguous] = {
                spelling: target if isinstance(target, Ambiguous) else steps[target]
                for spelling, target in index.table.items()
            }
            found = _CHECKERS[key] = cls(
                definition=definition,
                required=tuple(p for p in props if p.required and p.user_defined),
                conditioned=tuple(p for p in props if p.conditions),
                defaults={p.name: p.default for p in props if p.has_default},
                payload_defaults={
                    p.name: p.default
                    for p in props
                    if p.has_default and p.user_defined and not p.readonly
                },
                index=index,
                secret_keys=frozenset(p.name for p in props if p.secret),
                json_string_keys=frozenset(p.name for p in props if p.json_string),
                plan=plan,
            )
        return found


_CHECKERS: dict[tuple[str, str, str], Checker] = {}


def _special_rule(prop: Property) -> str:
    if not prop.user_defined:
        return "not-user-settable"
    if prop.readonly:
        return "readonly"
    return "set-once" if prop.set_once else ""
