"""What a plan holds: each document's :class:`Change`, and how values are compared and
shown (every scalar as the API echoes it; names and reasons escaped)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.kinds import PIPELINE
from ..core.records import field, record

if TYPE_CHECKING:
    from ..core.document import Document
    from ..project.validate import ProjectResult

__all__ = ["ORDER", "Change", "KeyChange", "Plan", "json_safe", "normal", "printable", "same"]

ORDER = ("source", "destination", "transform", PIPELINE)


@record(frozen=True)
class KeyChange:
    """One config key that differs: as it is live, and as the file wants it."""

    key: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "before": json_safe(self.before), "after": json_safe(self.after)}


@record(frozen=True)
class Change:
    """What to do with one document."""

    kind: str
    name: str
    action: str  # create, update, no-op, blocked, delete
    id: str | None
    keys: tuple[KeyChange, ...] = ()
    not_compared: tuple[str, ...] = ()  # secret keys
    blocked_by: tuple[str, ...] = ()  # set-once keys that differ
    document: Document | None = field(default=None, repr=False, compare=False)
    secrets: bool = False  # an update asked for to send the secrets again (rotation)
    # What a pipeline names that is neither live nor among the files planned ("source x").
    needs: tuple[str, ...] = ()
    # What a create sends, as printed (secrets and values from references masked).
    shown: tuple[tuple[str, Any], ...] = field(default=(), repr=False, compare=False)
    # A delete that cannot run: the live pipelines (or pipelines planned) that use it.
    used_by: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "id": self.id,
            "keys": [k.as_dict() for k in self.keys],
            "secrets": self.secrets,
            "needs": list(self.needs),
            "used_by": list(self.used_by),
        }


@record(frozen=True)
class Plan:
    """Every document's change, and warnings (dropped tables, duplicate live names)."""

    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    # The project planned: where pipelines find the connectors of what they name.
    project: ProjectResult | None = field(default=None, repr=False, compare=False)
    # (transform id, topic) -> a deployed transform's own topic id, as read live.
    topic_ids: Mapping[tuple[str, str], str] = field(
        default_factory=dict, repr=False, compare=False
    )
    # "kind/name" -> live id of what the pipelines planned name outside the files planned.
    known_ids: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    pruned: bool = False  # made with prune: live objects the files dropped are deletes

    @property
    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "no-op": 0, "blocked": 0, "delete": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action in ("create", "update", "delete") for c in self.changes)

    @property
    def deletes(self) -> list[Change]:
        return [c for c in self.changes if c.action == "delete"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "warnings": list(self.warnings),
            "summary": self.summary,
        }

    def format(self, *, color: bool = False, verbose: bool = False) -> str:
        """A diff: ``+ create`` with what it sends, ``~ update`` with ``key: before ->
        after``, secrets masked. Secrets are named where an update sends them again, and
        on every line with ``verbose``; ``color`` tints the marks as ``validate`` does.
        """
        marks = {"create": "+", "update": "~", "no-op": "=", "blocked": "!", "delete": "-"}
        tints = {
            "create": _GREEN,
            "update": _YELLOW,
            "no-op": _DIM,
            "blocked": _RED,
            "delete": _RED,
        }
        lines = []
        for c in self.changes:
            where = f" ({printable(c.id)})" if c.id else ""
            why = " (secrets)" if c.secrets and not c.keys else ""
            head = f"{marks[c.action]} {c.action}{why} {c.kind} {printable(c.name)}{where}"
            lines.append(f"{tints[c.action]}{head}{_RESET}" if color else head)
            for key, value in c.shown:
                lines.append(f"    {key}: {_shown(value)}")
            for k in c.keys:
                lines.append(f"    {k.key}: {_shown(k.before)} -> {_shown(k.after)}")
            if c.action == "update" or verbose:
                for key in c.not_compared:
                    sent = "sent again, " if c.action == "update" else ""
                    lines.append(f"    {key}: secret: {sent}not compared")
            for key in c.blocked_by:
                lines.append(f"    {key}: set once at creation; the API cannot change it")
            for what in c.needs:
                lines.append(
                    f"    needs {printable(what)}: not live, and not among the files planned"
                )
            if c.used_by:
                users = ", ".join(printable(u) for u in c.used_by)
                lines.append(f"    not deleted: still used by {users}")
        lines += [f"warning: {printable(w)}" for w in self.warnings]
        s = self.summary
        lines.append(
            f"{s['create']} to create, {s['update']} to update, {s['no-op']} unchanged, "
            f"{s['blocked']} blocked" + (f", {s['delete']} to delete" if self.pruned else "")
        )
        return "\n".join(lines) + "\n"


_GREEN, _YELLOW, _RED, _DIM, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[2m", "\033[0m"


def printable(text: str) -> str:
    """Names, ids and reasons from files and servers, control characters escaped: a name
    holding a line break cannot forge a line of the plan."""
    from ..core.text import printable as escape

    return escape(text)


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite number (a server may send NaN) as its text: JSON
    has no NaN, and ``plan --format json`` must stay valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def _shown(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(json_safe(value), ensure_ascii=False)


def normal(value: Any) -> Any:
    """A config value as the API echoes it: every scalar as a string.

    Booleans first (``True`` is an ``int`` in Python, but the API says ``"true"``);
    a whole float as an integer (``5432.0`` is ``"5432"``); lists item by item.

    >>> normal(True), normal(5432), normal(5432.0), normal("x"), normal([1, False])
    ('true', '5432', '5432', 'x', ['1', 'false'])
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def same(want: Any, have: Any) -> bool:
    """Whether a value the file wants is what the API echoes (or holds) already.

    Every scalar is compared as the API echoes it (:func:`normal`); a number with a
    fraction or a whole float also matches the API's text of it however it is
    written (``2.0`` is ``"2"`` and ``"2.0"``); lists item by item.

    >>> same(True, "true"), same(True, "1"), same(2.0, "2.0"), same(2.0, "2"), same(5, "5")
    (True, False, True, True, True)
    """
    if isinstance(want, list) and isinstance(have, list):
        return len(want) == len(have) and all(map(same, want, have))
    if isinstance(want, float) and isinstance(have, str) and math.isfinite(want):
        try:
            return float(have) == want
        except ValueError:
            return False
    return bool(normal(want) == normal(have))
