"""Plan and apply: what the files describe, against what the live account holds.

:func:`plan` looks every document of a valid project up by exact name among
its kind and gives it an action: ``create``, ``update`` (with the keys that
differ once the API's echoes are normalised), ``no-op``, or ``blocked`` (a
set-once key differs). Secrets are never compared. :func:`apply` carries a
plan out in dependency order (sources, destinations, transforms, pipelines),
wiring the ids of what pipelines name, and is safe to run again after any
failure: a create that failed is looked up by name before it is tried again,
and a 409 adopts the object of that name. Nothing is ever deleted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .capture import split_list
from .errors import ApiError, ConfigValidationError, StreamkapConfigError
from .kinds import PIPELINE
from .payload import MASK
from .records import field, record

if TYPE_CHECKING:
    from .client import StreamkapClient
    from .document import Document
    from .project import ProjectResult
    from .resources import Resource

__all__ = ["ApplyResult", "Change", "KeyChange", "Plan", "apply", "plan"]

ORDER = ("source", "destination", "transform", PIPELINE)
_INCLUDE_LISTS = ("table.include.list", "table.include.list.user.defined")


@record(frozen=True)
class KeyChange:
    """One config key that differs: as it is live, and as the file wants it."""

    key: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "before": self.before, "after": self.after}


@record(frozen=True)
class Change:
    """What to do with one document."""

    kind: str
    name: str
    action: str  # create, update, no-op, blocked
    id: str | None
    keys: tuple[KeyChange, ...] = ()
    not_compared: tuple[str, ...] = ()  # secret keys
    blocked_by: tuple[str, ...] = ()  # set-once keys that differ
    document: Document | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "id": self.id,
            "keys": [k.as_dict() for k in self.keys],
        }


@record(frozen=True)
class Plan:
    """Every document's change, and warnings (dropped tables, duplicate live names)."""

    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    # The project planned: where pipelines find the connectors of what they name.
    project: ProjectResult | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "no-op": 0, "blocked": 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.action in ("create", "update") for c in self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "warnings": list(self.warnings),
            "summary": self.summary,
        }

    def format(self) -> str:
        """A diff: ``+ create``, ``~ update`` with ``key: before -> after``, secrets masked."""
        marks = {"create": "+", "update": "~", "no-op": "=", "blocked": "!"}
        lines = []
        for c in self.changes:
            where = f" ({c.id})" if c.id else ""
            lines.append(f"{marks[c.action]} {c.action} {c.kind} {c.name}{where}")
            for k in c.keys:
                lines.append(f"    {k.key}: {_shown(k.before)} -> {_shown(k.after)}")
            for key in c.not_compared:
                lines.append(f"    {key}: secret: not compared")
            for key in c.blocked_by:
                lines.append(f"    {key}: set once at creation; the API cannot change it")
        lines += [f"warning: {w}" for w in self.warnings]
        s = self.summary
        lines.append(
            f"{s['create']} to create, {s['update']} to update, {s['no-op']} unchanged, "
            f"{s['blocked']} blocked"
        )
        return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, ensure_ascii=False)


def _normal(value: Any) -> Any:
    """A config value as the API echoes it: numbers and booleans as strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def plan(
    project: ProjectResult,
    client: StreamkapClient,
    *,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
) -> Plan:
    """Compare a valid project with the live account (read-only: GET requests only)."""
    from .payload import build_payload

    if not project.ok:
        raise ConfigValidationError(project.issues)
    changes: list[Change] = []
    warnings: list[str] = []
    entries = [(doc, result) for report in project.project for doc, result in report.documents]
    entries.sort(key=lambda e: (ORDER.index(e[1].kind), e[0].name or ""))
    # Every reference is resolved before the first request: an unset variable stops here.
    bodies = {
        id(doc): build_payload(doc, environ=environ, allow_env=allow_env)
        for doc, result in entries
        if result.kind != PIPELINE
    }
    for doc, result in entries:
        kind, name = result.kind, doc.name or ""
        live = client.list(kind, name)
        if len(live) > 1:
            ids = ", ".join(o.id for o in live)
            warnings.append(
                f"{len(live)} live {kind}s are named {name!r} ({ids}): the first is used"
            )
        current = live[0] if live else None
        if kind == PIPELINE:
            changes.append(_pipeline_change(doc, name, current))
            continue
        body = bodies[id(doc)]
        if current is None:
            changes.append(Change(kind, name, "create", None, document=doc))
            continue
        changes.append(_config_change(kind, name, body, current, result, doc, warnings))
    return Plan(tuple(changes), tuple(warnings), project)


def _config_change(
    kind: str,
    name: str,
    body: Any,
    current: Resource,
    result: Any,
    doc: Document,
    warnings: list[str],
) -> Change:
    definition = result.definition
    masked = body.secret_keys
    live_config = getattr(current, "config", {})
    keys, not_compared, blocked = [], [], []
    for key, value in body.config.items():
        prop = definition.get(key) if definition is not None else None
        if prop is not None and prop.secret:
            not_compared.append(key)
            continue
        want, have = _normal(value), live_config.get(key)
        if want == have:
            continue
        if key in masked:  # from the environment: compared, never shown
            keys.append(KeyChange(key, MASK if have is not None else None, MASK))
        else:
            keys.append(KeyChange(key, have, want))
        if prop is not None and prop.set_once:
            blocked.append(key)
    for key in _INCLUDE_LISTS:
        before, after = live_config.get(key), body.config.get(key)
        if isinstance(before, str) and isinstance(after, str):
            dropped = sorted(set(split_list(before)) - set(split_list(after)))
            if dropped:
                warnings.append(
                    f"{kind} {name}: the update drops {', '.join(dropped)} from {key}: "
                    "those tables stop replicating"
                )
    tags = body.model_dump().get("tags")
    if tags is not None and sorted(tags) != sorted(getattr(current, "tags", []) or []):
        keys.append(KeyChange("tags", getattr(current, "tags", []), tags))
    action = "blocked" if blocked else ("update" if keys else "no-op")
    return Change(
        kind, name, action, current.id, tuple(keys), tuple(not_compared), tuple(blocked), doc
    )


def _pipeline_change(doc: Document, name: str, current: Resource | None) -> Change:
    if current is None:
        return Change(PIPELINE, name, "create", None, document=doc)
    data = doc.data
    live: Any = current
    keys = []
    for end in ("source", "destination"):
        want = data[end].get("name")
        have = getattr(live, end).name
        if want is not None and want != have:
            keys.append(KeyChange(f"{end}.name", have, want))
    topics = list(data["source"].get("topics") or [])
    if topics != list(live.source.topics):
        keys.append(KeyChange("source.topics", list(live.source.topics), topics))
    snapshot = bool(data.get("snapshot_new_tables", False))
    if live.snapshot_new_tables is not None and snapshot != live.snapshot_new_tables:
        keys.append(KeyChange("snapshot_new_tables", live.snapshot_new_tables, snapshot))
    return Change(
        PIPELINE, name, "update" if keys else "no-op", current.id, tuple(keys), document=doc
    )


# --- apply ------------------------------------------------------------------------------


@record
class ApplyResult:
    """What an apply did, and (after a failure) what it did not."""

    done: list[tuple[Change, str]] = field(default_factory=list)  # (change, id)
    failed: tuple[Change, str] | None = None  # (change, reason)
    not_done: list[Change] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def format(self) -> str:
        lines = [f"done: {c.action} {c.kind} {c.name} ({ident})" for c, ident in self.done]
        if self.failed is not None:
            change, reason = self.failed
            lines.append(f"failed: {change.action} {change.kind} {change.name}: {reason}")
            lines += [f"not done: {c.action} {c.kind} {c.name}" for c in self.not_done]
            lines.append("run apply again: what was done is found by name and not repeated")
        return "\n".join(lines) + "\n"


def apply(
    the_plan: Plan,
    client: StreamkapClient,
    *,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
    update_secrets: bool = False,
    skip_blocked: bool = False,
    progress: Callable[[Change, str], None] | None = None,
) -> ApplyResult:
    """Carry ``the_plan`` out: creates and updates in dependency order; never deletes.

    Every ``${env:NAME}`` is resolved before the first request (an unset one
    stops everything). Secrets are sent on create; on update only with
    ``update_secrets`` (they cannot be compared). A ``blocked`` change stops
    the apply unless ``skip_blocked``. A failure stops the run: the result
    says what was done and what was not, and running again finishes the job.
    """
    from .payload import build_payload

    blocked = [c for c in the_plan.changes if c.action == "blocked"]
    if blocked and not skip_blocked:
        names = ", ".join(f"{c.kind} {c.name}" for c in blocked)
        raise StreamkapConfigError(
            f"blocked: {names} (a set-once key differs); leave them out with --skip-blocked"
        )
    todo = [c for c in the_plan.changes if c.action in ("create", "update")]
    bodies: dict[int, Any] = {}
    for change in todo:
        if change.kind != PIPELINE and change.document is not None:
            bodies[id(change)] = build_payload(
                change.document, environ=environ, allow_env=allow_env
            )
    ids: dict[str, str] = {}
    for change in the_plan.changes:
        if change.id:
            ids[f"{change.kind}/{change.name}"] = change.id
    result = ApplyResult()
    for n, change in enumerate(todo):
        try:
            ident = _apply_one(
                change, bodies.get(id(change)), client, ids, update_secrets, the_plan.project
            )
        except (ApiError, ConfigValidationError) as exc:
            result.failed = (change, str(exc))
            result.not_done = todo[n + 1 :]
            return result
        ids[f"{change.kind}/{change.name}"] = ident
        result.done.append((change, ident))
        if progress is not None:
            progress(change, ident)
    return result


def _apply_one(
    change: Change,
    body: Any,
    client: StreamkapClient,
    ids: Mapping[str, str],
    update_secrets: bool,
    project: ProjectResult | None,
) -> str:
    from .payload import build_payload

    if change.kind == PIPELINE:
        assert change.document is not None
        pipeline = build_payload(change.document, ids=ids, project=project)
        sent = pipeline.model_dump(mode="json", exclude_none=True)
    else:
        sent = body.model_dump(mode="json", exclude_none=True)
        if change.action == "update" and not update_secrets:
            # Secrets cannot be compared: an update leaves them as they are unless asked.
            sent["config"] = {
                k: v for k, v in sent["config"].items() if k not in change.not_compared
            }
    if change.action == "update" and change.id is not None:
        return client.update(change.kind, change.id, sent).id
    # A create that failed or timed out before may have happened: look the name up first.
    found = client.list(change.kind, change.name)
    if found:
        return found[0].id
    try:
        return client.create(change.kind, sent).id
    except ApiError as exc:
        if exc.status == 409:  # created meanwhile: adopt it
            adopted = client.list(change.kind, change.name)
            if adopted:
                return adopted[0].id
        raise
