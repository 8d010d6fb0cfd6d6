"""What changed between two versions of a connector definition, and whether it breaks configs.

A change is *breaking* when a config that was valid before can be invalid
after: a removed key, a new required key (or one that became required), a
changed type, a removed enum value, a narrower range.

>>> from streamkap_config.schemas.definitions import parse_definitions
>>> old = parse_definitions({"C": [{"name": "a", "value": {"control": "text"}}]}, code="c")[0]
>>> new = parse_definitions({"C": [{"name": "a", "required": True,
...                                 "value": {"control": "text"}}]}, code="c")[0]
>>> [(c.kind, c.key, c.breaking) for c in diff_definitions(old, new).changes]
[('required', 'a', True)]
"""

from __future__ import annotations

import json
from typing import Any

from ..core.records import record
from .definitions import ConnectorDefinition, Property

__all__ = ["Change", "SchemaDiff", "diff_definitions"]


@record(frozen=True)
class Change:
    """One difference: ``kind`` is added, removed, required, type, enum, default or range."""

    kind: str
    key: str
    detail: str
    breaking: bool

    def format(self) -> str:
        mark = "BREAKING" if self.breaking else "ok"
        return f"{mark:<8} {self.kind:<8} {self.key}: {self.detail}"


@record(frozen=True)
class SchemaDiff:
    connector: str
    old_version: str
    new_version: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> bool:
        return any(c.breaking for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "connector": self.connector,
            "old_version": self.old_version,
            "new_version": self.new_version,
            "breaking": self.breaking,
            "changes": [c.__dict__ for c in self.changes],
        }


def _j(value: Any) -> str:
    return json.dumps(value)


def _range(p: Property) -> tuple[float, float]:
    lo = p.minimum if p.minimum is not None else float("-inf")
    hi = p.maximum if p.maximum is not None else float("inf")
    return lo, hi


def diff_definitions(old: ConnectorDefinition, new: ConnectorDefinition) -> SchemaDiff:
    """The changes from ``old`` to ``new``, keys in ``new``'s order then removed keys."""
    changes: list[Change] = []
    settable_old = {p.name: p for p in old.properties if p.user_defined}
    settable_new = {p.name: p for p in new.properties if p.user_defined}
    for name, p in settable_new.items():
        before = settable_old.get(name)
        if before is None:
            required = p.required and not p.conditions
            detail = f"new {'required ' if required else ''}key ({p.kind})"
            changes.append(Change("added", name, detail, required))
            continue
        if p.kind != before.kind:
            changes.append(Change("type", name, f"{before.kind} -> {p.kind}", True))
        if p.required != before.required:
            detail = "now required" if p.required else "no longer required"
            changes.append(Change("required", name, detail, p.required and not p.conditions))
        old_values = list(before.raw_values or ())
        new_values = list(p.raw_values or ())
        if old_values != new_values and (old_values or new_values):
            removed = [v for v in old_values if v not in new_values]
            added = [v for v in new_values if v not in old_values]
            parts = []
            if added:
                parts.append("added " + ", ".join(map(str, added)))
            if removed:
                parts.append("removed " + ", ".join(map(str, removed)))
            if parts:
                changes.append(Change("enum", name, "; ".join(parts), bool(removed)))
        if p.default != before.default:
            changes.append(
                Change("default", name, f"{_j(before.default)} -> {_j(p.default)}", False)
            )
        (lo0, hi0), (lo1, hi1) = _range(before), _range(p)
        if (lo0, hi0) != (lo1, hi1):
            narrower = lo1 > lo0 or hi1 < hi0
            changes.append(Change("range", name, f"{lo0}..{hi0} -> {lo1}..{hi1}", narrower))
    for name in settable_old:
        if name not in settable_new:
            changes.append(Change("removed", name, "key removed", True))
    return SchemaDiff(new.code, old.version, new.version, tuple(changes))
