"""Plan and apply: what the files describe, against what the live account holds.

:func:`plan` looks every document of a valid project up by exact name among
its kind (over every page) and gives it an action: ``create``, ``update``
(with the keys that differ once the API's echoes are normalised), ``no-op``,
or ``blocked`` (a set-once key differs). The backend echoes every scalar as a
string, fills in defaults and placeholders (``<SSH.PUBLIC.KEY>``), gives
secrets back absent or ``null``, answers writes with transient statuses and
may attach tags of its own: none of these is a difference. Secrets are never
compared; ``update_secrets`` plans an update of each document that has one
(rotation).

:func:`apply` carries a plan out in dependency order (sources, destinations,
transforms, pipelines), wiring the ids of what pipelines name. Every update
sends the whole body, secrets included (the backend replaces the config: a
body without the password breaks the connector). It is safe to run again after
any failure: a create that failed is looked up by name before it is tried
again. A same-named live source or destination is adopted; a same-named
pipeline or transform only when it is exactly what this run sends (it may be
someone else's).

Nothing is deleted unless the plan was made with ``prune``: then every live
object that the project owns (its ``[prune]`` table) and that no document of
the project describes is a ``delete``, run after the creates and updates,
pipelines first, then transforms, destinations and sources. One that a live
pipeline kept (or a pipeline planned) still uses is ``blocked`` instead.
A new source or destination that reads what a live one of the same connector
reads (the same host and database) is named in a warning: it may be a rename.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.capture import split_list
from ..core.errors import ApiError, ConfigValidationError, StreamkapConfigError
from ..core.kinds import KINDS, PIPELINE
from ..core.records import field, record, replace
from .payload import MASK

if TYPE_CHECKING:
    from ..core.document import Document
    from ..project.validate import ProjectResult
    from ..remote.client import StreamkapClient
    from ..remote.resources import Pipeline, Resource

__all__ = ["ApplyResult", "Change", "KeyChange", "Plan", "apply", "plan"]

ORDER = ("source", "destination", "transform", PIPELINE)
_INCLUDE_LISTS = ("table.include.list", "table.include.list.user.defined")
# What the backend writes where it will fill a value itself: "<SSH.PUBLIC.KEY>".
_PLACEHOLDER = re.compile(r"<[A-Z0-9_.\-]+>")


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


def plan(
    project: ProjectResult,
    client: StreamkapClient,
    *,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
    update_secrets: bool = False,
    prune: bool = False,
) -> Plan:
    """Compare a valid project with the live account (read-only: GET requests only).

    ``update_secrets`` makes every live document that holds a secret an update,
    even when nothing else differs (the secrets cannot be compared). ``prune``
    plans the deletes of what the project owns and no longer describes; it
    refuses (before any request) a project without a ``[prune]`` table.
    """
    from .payload import build_payload

    if not project.ok:
        raise ConfigValidationError(project.issues)
    owner = _ownership(project) if prune else None
    changes: list[Change] = []
    warnings: list[str] = []
    variables = project.variables
    # The documents of the files given are planned; the rest of the project is read for
    # what their pipelines name (looked up live, never changed).
    entries = [(doc, result) for report in project.reports for doc, result in report.documents]
    entries.sort(key=lambda e: (ORDER.index(e[1].kind), e[0].name or ""))
    planned = {(result.kind, doc.name) for doc, result in entries}
    outside = _named_outside(entries, planned)
    named = list(dict.fromkeys(pair for pairs in outside.values() for pair in pairs))
    # Every reference is resolved before the first request: an unset variable stops here.
    # Secrets are not compared and nothing is sent: their variables need not be set.
    bodies, failures = {}, []
    for doc, result in entries:
        if result.kind == PIPELINE:
            continue
        try:
            bodies[id(doc)] = build_payload(
                doc, environ=environ, allow_env=allow_env, variables=variables, unset_secrets=True
            )
        except ConfigValidationError as exc:
            failures.append(exc)
    if failures:
        raise ConfigValidationError.joined(failures)
    topic_ids: dict[tuple[str, str], str] = {}
    names: dict[str, str] = {}  # live transform id -> name, for pipelines' entries
    kinds = [*(result.kind for _, result in entries), *(kind for kind, _ in named)]
    if owner is not None:
        kinds += owner.kinds
    by_name = live_by_name(client, kinds)

    def live_named(kind: str, name: str) -> list[Resource]:
        known = by_name.get(kind)
        return known.get(name, []) if known is not None else client.list(kind, name)

    known_ids: dict[str, str] = {}
    for kind, name in named:
        found = live_named(kind, name)
        if found:
            known_ids[f"{kind}/{name}"] = found[0].id
            if kind == "transform":
                _note_transform(found[0], name, names, topic_ids)
    for doc, result in entries:
        kind, name = result.kind, doc.name or ""
        live = live_named(kind, name)
        if len(live) > 1:
            ids = ", ".join(printable(o.id) for o in live[:5])
            ids += f" and {len(live) - 5} more" if len(live) > 5 else ""
            warnings.append(
                f"{len(live)} live {kind}s are named {name!r} ({ids}): the first is used"
            )
        current = live[0] if live else None
        if kind == PIPELINE:
            pairs = outside.get(id(doc), [])
            missing = tuple(f"{k} {n}" for k, n in pairs if f"{k}/{n}" not in known_ids)
            change = _pipeline_change(doc, name, current, names)
            if missing:
                change = replace(change, action="blocked", needs=missing)
            changes.append(change)
            continue
        if current is not None and kind == "transform":
            _note_transform(current, name, names, topic_ids)
        body = bodies[id(doc)]
        if current is None:
            shown = tuple(body.masked_config().items())
            changes.append(Change(kind, name, "create", None, document=doc, shown=shown))
            continue
        changes.append(
            _config_change(kind, name, body, current, result, doc, warnings, update_secrets)
        )
    described = _described(project, entries)
    warnings += _renames(changes, bodies, by_name, described)
    if owner is not None:
        for kind in owner.kinds:
            if kind not in by_name:  # too large to list whole: every page, for deletes
                by_name[kind] = _grouped(client.list(kind))
        changes += _deletes(owner, by_name, described, changes, known_ids)
    return Plan(tuple(changes), tuple(warnings), project, topic_ids, known_ids, pruned=prune)


def _ownership(project: ProjectResult) -> Any:
    """What ``prune`` may delete, or the error that says why it may delete nothing."""
    from ..project.settings import PROJECT_FILE

    owner = None
    if project.project_file is not None:
        owner = project.project_file.ownership(project.environment)
    if owner is None:
        where = (
            ""
            if project.environment is None
            else f" (or [environments.{project.environment}.prune])"
        )
        raise StreamkapConfigError(
            f"--prune deletes only what this project owns, and {PROJECT_FILE} does not say "
            f"what that is: add a [prune] table{where} with a name prefix, a tag id or the "
            'kinds, for example:\n\n    [prune]\n    prefix = "orders-"\n'
        )
    return owner


def _described(project: ProjectResult, entries: list[tuple[Document, Any]]) -> set[tuple[str, str]]:
    """(kind, name) of every document of the project in the environment planned, the
    files planned or not (a broken file's names too: what a file names is never pruned)."""
    described = {(result.kind, doc.name or "") for doc, result in entries}
    for report in project.project:
        envs = project.environments_of(report.path)
        if project.environment is not None and project.environment not in envs:
            continue
        for doc, result in report.documents:
            if doc.name is not None:
                described.add((result.kind, doc.name))
    return described


def _grouped(objects: Iterable[Resource]) -> dict[str, list[Resource]]:
    group: dict[str, list[Resource]] = {}
    for obj in objects:
        group.setdefault(obj.name, []).append(obj)
    return group


#: The config keys that say what a source reads or a destination writes to (a host, a
#: database, a URL, a bucket): two objects that agree on them are likely one renamed.
_IDENTITY = re.compile(
    r"(?:^|\.)(?:hostname|host|url|dbname|names|database\.name|bucket\.name|warehouse|catalog)"
    r"(?:\.user\.defined|\.name)?\Z"
)


def _renames(
    changes: list[Change],
    bodies: Mapping[int, Any],
    by_name: Mapping[str, Mapping[str, list[Resource]]],
    described: set[tuple[str, str]],
) -> list[str]:
    """A warning for each source or destination to create that reads what a live one of
    the same connector, described by no document, reads: it may be a rename."""
    out = []
    for change in changes:
        if change.action != "create" or change.kind not in ("source", "destination"):
            continue
        body = bodies.get(id(change.document))
        live = by_name.get(change.kind)
        if body is None or live is None:
            continue
        ours = {k: normal(v) for k, v in body.config.items() if _identity(k)}
        if not ours:
            continue
        for name, objects in live.items():
            if (change.kind, name) in described:
                continue
            for obj in objects:
                theirs = getattr(obj, "config", {})
                if getattr(obj, "connector", None) != body.connector:
                    continue
                if all(normal(theirs.get(k)) == v for k, v in ours.items()):
                    out.append(
                        f"{change.kind} {change.name} is new, but live {change.kind} {name} "
                        f"({obj.id}) has the same connector and {', '.join(sorted(ours))}: "
                        f"if this is a rename, give the file back the name {name!r} (a "
                        "create would read the same data twice), or delete the old one"
                    )
    return out


def _identity(key: str) -> bool:
    return bool(_IDENTITY.search(key)) and not key.startswith("ssh.")  # a bastion is shared


#: The order of deletes: what uses an object goes before it.
DELETE_ORDER = (PIPELINE, "transform", "destination", "source")


def _deletes(
    owner: Any,
    by_name: Mapping[str, Mapping[str, list[Resource]]],
    described: set[tuple[str, str]],
    changes: list[Change],
    known_ids: Mapping[str, str],
) -> list[Change]:
    """The deletes of what the project owns and describes no more (in
    :data:`DELETE_ORDER`), or ``blocked`` for what a pipeline kept still uses."""
    doomed: dict[str, list[Resource]] = {}
    for kind in DELETE_ORDER:
        if kind not in owner.kinds:
            continue
        for name, objects in sorted(by_name.get(kind, {}).items()):
            if (kind, name) in described:
                continue
            doomed[kind] = doomed.get(kind, []) + [
                o for o in objects if owner.owns(kind, name, getattr(o, "tags", ()))
            ]
    gone = {o.id for objects in doomed.values() for o in objects if o.kind == PIPELINE}
    users: dict[str, list[str]] = {}
    for objects in by_name.get(PIPELINE, {}).values():
        for p in objects:
            if p.id in gone:
                continue
            for used in _uses(p):
                users.setdefault(used, []).append(f"pipeline {p.name}")
    for change in changes:  # pipelines planned: what they name live outside the files
        if change.kind == PIPELINE and change.document is not None:
            for ident in _planned_uses(change, known_ids):
                users.setdefault(ident, []).append(f"pipeline {change.name} (planned)")
    out = []
    for kind in DELETE_ORDER:
        for obj in doomed.get(kind, []):
            using = tuple(dict.fromkeys(users.get(obj.id, [])))
            action = "blocked" if using else "delete"
            out.append(Change(kind, obj.name, action, obj.id, used_by=using))
    return out


def _uses(pipeline: Any) -> set[str]:
    """The ids of what a live pipeline joins: its source, destination and transforms."""
    used = {pipeline.source.id, pipeline.destination.id}
    used |= {e.id for e in pipeline.transforms}
    used |= {a.transform_id for a in pipeline.topic_auto_discovery_transforms}
    return used


def _planned_uses(change: Change, known_ids: Mapping[str, str]) -> set[str]:
    from ..validation.pipelines import references

    assert change.document is not None
    used = set()
    for ref in references(change.document.data):
        if ref.id is not None:
            used.add(ref.id)
        elif ref.name is not None and f"{ref.kind}/{ref.name}" in known_ids:
            used.add(known_ids[f"{ref.kind}/{ref.name}"])
    return used


def _named_outside(
    entries: list[tuple[Document, Any]], planned: set[tuple[str, str | None]]
) -> dict[int, list[tuple[str, str]]]:
    """What each pipeline planned names (by name) outside the documents planned."""
    from ..validation.pipelines import references

    out: dict[int, list[tuple[str, str]]] = {}
    for doc, result in entries:
        if result.kind != PIPELINE or not isinstance(doc.data, dict):
            continue
        for ref in references(doc.data):
            if ref.name is None or ref.id is not None or (ref.kind, ref.name) in planned:
                continue
            out.setdefault(id(doc), []).append((ref.kind, ref.name))
    return out


def _note_transform(
    live: Resource, name: str, names: dict[str, str], topic_ids: dict[tuple[str, str], str]
) -> None:
    """A live transform's name and own topic ids, for the pipelines that attach it."""
    names[live.id] = name
    for topic in getattr(live, "topics", []):
        own = live.topic_id(topic)  # type: ignore[attr-defined]
        if own:
            topic_ids[(live.id, topic)] = own


#: A kind is listed whole (pages of 100) unless it takes more pages than this; past it,
#: its documents are looked up one by one (``partial_name``, every page of each).
WHOLE_KIND_PAGES = 50


def live_by_name(
    client: StreamkapClient, kinds: Iterable[str]
) -> dict[str, dict[str, list[Resource]]]:
    """Each kind the project holds, read once and grouped by exact name; a kind too large
    to list whole is left out (its documents are looked up alone)."""
    from ..core.errors import ListingTooLargeError

    found: dict[str, dict[str, list[Resource]]] = {}
    for kind in dict.fromkeys(kinds):
        try:
            objects = client.list(kind, max_pages=WHOLE_KIND_PAGES)
        except ListingTooLargeError:
            continue
        found[kind] = _grouped(objects)
    return found


def _config_change(
    kind: str,
    name: str,
    body: Any,
    current: Resource,
    result: Any,
    doc: Document,
    warnings: list[str],
    update_secrets: bool,
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
        have = live_config.get(key)
        if isinstance(have, str) and _PLACEHOLDER.fullmatch(have):
            continue  # the backend fills this one itself
        if normal(value) == normal(have):
            continue
        if key in masked:  # from the environment: compared, never shown
            keys.append(KeyChange(key, MASK if have is not None else None, MASK))
        else:
            keys.append(KeyChange(key, have, normal(value)))
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
    wanted = body.model_dump().get("desired_state")  # pause and resume from git
    have = getattr(current, "desired_state", None)
    settable = "desired_state" in KINDS[kind].fields
    if settable and wanted is not None and wanted != (have or "Active"):  # None: running
        keys.append(KeyChange("desired_state", have, wanted))
    tags = body.model_dump().get("tags")
    live_tags = list(getattr(current, "tags", []) or [])
    if tags is not None and sorted(tags) != sorted(live_tags):  # absent: the backend's stand
        shown = body.masked_dump().get("tags")  # from the environment: compared, never shown
        keys.append(KeyChange("tags", MASK if shown == MASK else live_tags, shown))
    rotate = update_secrets and bool(not_compared)
    action = "blocked" if blocked else ("update" if keys or rotate else "no-op")
    return Change(
        kind,
        name,
        action,
        current.id,
        tuple(keys),
        tuple(not_compared),
        tuple(blocked),
        doc,
        secrets=rotate and action == "update",
    )


def _pipeline_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """What a pipeline document says, in the terms compared with a live pipeline."""
    from ..validation.pipelines import references

    view: dict[str, Any] = {"transforms": [], "topic_auto_discovery_transforms": []}
    topics: list[str] = []
    refs = references(data)
    for ref in refs:
        if ref.kind == "source":
            topics = list(ref.topics)
    for ref in refs:
        label = ref.name or ref.id or ""
        if ref.kind in ("source", "destination"):
            view[f"{ref.kind}.name"] = ref.name
            if ref.kind == "source":
                view["source.topics"] = topics
        elif ref.auto_discovery:
            view["topic_auto_discovery_transforms"].append(f"{label}: {ref.regex}")
        else:
            view["transforms"] += [f"{label}: {t}" for t in (ref.topics or topics)]
    view["snapshot_new_tables"] = bool(data.get("snapshot_new_tables", False))
    if data.get("tags") is not None:
        view["tags"] = list(data["tags"])
    return view


def _live_view(live: Pipeline, names: Mapping[str, str]) -> dict[str, Any]:
    """A live pipeline in the terms of :func:`_pipeline_view` (topics without prefixes)."""
    from ..remote.resources import pretty_topic

    def label(ident: str, name: str | None = None) -> str:
        return names.get(ident) or name or ident

    entries = [
        f"{label(e.id, e.name)}: {pretty_topic(live.source.id, e.topic or e.topic_id or '')}"
        for e in live.transforms
    ]
    discovery = [
        f"{label(a.transform_id)}: {a.regex}" for a in live.topic_auto_discovery_transforms
    ]
    return {
        "source.name": live.source.name,
        "destination.name": live.destination.name,
        "source.topics": live.pretty_topics(),
        "transforms": entries,
        "topic_auto_discovery_transforms": discovery,
        "snapshot_new_tables": live.snapshot_new_tables,
        "tags": list(live.tags),
    }


def _pipeline_change(
    doc: Document, name: str, current: Resource | None, names: Mapping[str, str]
) -> Change:
    if current is None:
        view = _pipeline_view(doc.data)
        shown = tuple((k, v) for k, v in view.items() if v not in (None, []))
        return Change(PIPELINE, name, "create", None, document=doc, shown=shown)
    want = _pipeline_view(doc.data)
    have = _live_view(current, names)  # type: ignore[arg-type]
    keys = []
    for key, after in want.items():
        before = have.get(key)
        if after is None or (key == "snapshot_new_tables" and before is None):
            continue  # a reference by id only; an API that does not say
        same = sorted(before or []) == sorted(after) if isinstance(after, list) else before == after
        if not same:
            keys.append(KeyChange(key, before, after))
    return Change(
        PIPELINE, name, "update" if keys else "no-op", current.id, tuple(keys), document=doc
    )


# --- apply ------------------------------------------------------------------------------


@record
class ApplyResult:
    """What an apply did, and (after a failure) what it did not."""

    done: list[tuple[Change, str]] = field(default_factory=list)  # (change, id), plan order
    failed: tuple[Change, str] | None = None  # (change, reason): the first, in plan order
    not_done: list[Change] = field(default_factory=list)
    # Other requests that were in flight when the first failed, and failed too.
    also_failed: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def format(self) -> str:
        def what(c: Change) -> str:
            return f"{c.action} {c.kind} {printable(c.name)}"

        lines = [f"done: {what(c)} ({printable(ident)})" for c, ident in self.done]
        if self.failed is not None:
            for change, reason in (self.failed, *self.also_failed):
                lines.append(f"failed: {what(change)}: {printable(reason)}")
            lines += [f"not done: {what(c)}" for c in self.not_done]
            lines.append("run apply again: what was done is found by name and not repeated")
        return "\n".join(lines) + "\n"


#: What apply sends together: each level once the one before is done (pipelines need
#: the ids of what they join).
LEVELS = (("source", "destination"), ("transform",), (PIPELINE,))
#: Requests in flight at most, by default (Terraform's is 10; a little gentler here).
DEFAULT_PARALLELISM = 8


def apply(
    the_plan: Plan,
    client: StreamkapClient,
    *,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
    update_secrets: bool = False,
    skip_blocked: bool = False,
    progress: Callable[[Change, str], None] | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
) -> ApplyResult:
    """Carry ``the_plan`` out: creates and updates in dependency order, then the deletes
    of a plan made with ``prune`` (:data:`DELETE_ORDER`).

    Every ``${env:NAME}`` is resolved before the first request (an unset one
    stops everything, and every document with one is named, at its line).
    Every create and update sends the whole body, secrets included.
    (``update_secrets`` is kept for callers of 0.2: rotation is now planned,
    with ``plan(..., update_secrets=True)``.) A ``blocked`` change stops the
    apply unless ``skip_blocked``. Within each of :data:`LEVELS`
    (sources and destinations, then transforms, then pipelines) at most
    ``parallelism`` changes are under way at once. A failure stops the run:
    nothing new is started, what is in flight finishes, and the result says
    what was done and what was not (in plan order); running again finishes
    the job. No secret and no value from the environment appears in a reason,
    whatever the server echoes. ``progress(change, id)`` is called as each
    change is done (from the worker threads, one call at a time).
    """
    from .payload import build_payload

    del update_secrets  # every update sends its secrets now
    if parallelism < 1:
        raise StreamkapConfigError(f"parallelism must be at least 1, got {parallelism}")
    blocked = [c for c in the_plan.changes if c.action == "blocked"]
    if blocked and not skip_blocked:
        names = ", ".join(f"{c.kind} {c.name}" for c in blocked)
        raise StreamkapConfigError(
            f"blocked: {names} (a set-once key differs, a pipeline needs what is not live, "
            "or a delete is still used); leave them out with --skip-blocked"
        )
    todo = [c for c in the_plan.changes if c.action in ("create", "update", "delete")]
    bodies: dict[int, Any] = {}
    hidden: set[str] = set()
    failures = []
    for change in todo:
        if change.kind != PIPELINE and change.document is not None and change.action != "delete":
            try:
                body = build_payload(
                    change.document,
                    environ=environ,
                    allow_env=allow_env,
                    variables=the_plan.project.variables if the_plan.project else None,
                )
            except ConfigValidationError as exc:
                failures.append(exc)
                continue
            bodies[id(change)] = body
            hidden |= body.hidden_values()
    if failures:  # every document that cannot be sent, before the first request
        raise ConfigValidationError.joined(failures)
    client.redact(hidden)
    ids: dict[str, str] = dict(the_plan.known_ids)
    for change in the_plan.changes:
        if change.id:
            ids[f"{change.kind}/{change.name}"] = change.id
    run = _Run(the_plan, client, bodies, ids, hidden, progress)
    for level in LEVELS:
        run.level([c for c in todo if c.kind in level and c.action != "delete"], parallelism)
        if run.failures:
            break
    for kind in DELETE_ORDER:  # what uses an object goes first
        if run.failures:
            break
        run.level([c for c in todo if c.kind == kind and c.action == "delete"], parallelism)
    return run.result(todo)


class _Run:
    """One apply under way: what is done and what failed, shared by its worker threads."""

    def __init__(
        self,
        the_plan: Plan,
        client: StreamkapClient,
        bodies: Mapping[int, Any],
        ids: dict[str, str],
        hidden: set[str],
        progress: Callable[[Change, str], None] | None,
    ) -> None:
        import threading

        self.plan, self.client, self.bodies, self.ids = the_plan, client, bodies, ids
        self.hidden, self.progress = hidden, progress
        self.done: dict[int, str] = {}  # id(change) -> object id
        self.failures: dict[int, str] = {}  # id(change) -> reason
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def one(self, change: Change) -> None:
        if self.stop.is_set():
            return  # a failure came first: nothing new is started
        try:
            with self.lock:
                ids = dict(self.ids)
            ident = _apply_one(change, self.bodies.get(id(change)), self.client, ids, self.plan)
        except StreamkapConfigError as exc:  # ApiError, ConfigValidationError, a refused id
            from ..remote.client import scrub

            self.stop.set()
            with self.lock:
                self.failures[id(change)] = scrub(str(exc), self.hidden)
            return
        with self.lock:
            self.ids[f"{change.kind}/{change.name}"] = ident
            self.done[id(change)] = ident
            if self.progress is not None:
                self.progress(change, ident)

    def level(self, changes: list[Change], parallelism: int) -> None:
        if parallelism == 1 or len(changes) < 2:
            for change in changes:
                self.one(change)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            list(pool.map(self.one, changes))

    def result(self, todo: list[Change]) -> ApplyResult:
        out = ApplyResult(done=[(c, self.done[id(c)]) for c in todo if id(c) in self.done])
        failed = [(c, self.failures[id(c)]) for c in todo if id(c) in self.failures]
        if failed:
            out.failed, out.also_failed = failed[0], failed[1:]
            out.not_done = [c for c in todo if id(c) not in self.done | self.failures]
        return out


def _apply_one(
    change: Change,
    body: Any,
    client: StreamkapClient,
    ids: Mapping[str, str],
    the_plan: Plan,
) -> str:
    from ..remote.endpoints import ENDPOINTS
    from .payload import build_payload

    if change.action == "delete":
        assert change.id is not None
        try:
            client.delete(change.kind, change.id)
        except ApiError as exc:
            if exc.status != 404:  # gone already (a lost answer, a second run): done
                raise
        return change.id
    if change.kind == PIPELINE:
        assert change.document is not None
        pipeline = build_payload(
            change.document, ids=ids, project=the_plan.project, topic_ids=the_plan.topic_ids
        )
        sent = pipeline.model_dump(mode="json", exclude_none=True)
    else:
        sent = body.model_dump(mode="json", exclude_none=True)
    if change.action == "update" and change.id is not None:
        return client.update(change.kind, change.id, sent).id
    # A create that failed or timed out before may have happened: look the name up first.
    adopt_any = ENDPOINTS[change.kind].adopt_by_name
    found = client.list(change.kind, change.name)
    if found:
        return _adopt(change, found[0], sent, adopt_any)
    try:
        return client.create(change.kind, sent).id
    except ApiError as exc:
        if exc.already_exists:  # created meanwhile, or an answer that was lost
            adopted = client.list(change.kind, change.name)
            if adopted:
                return _adopt(change, adopted[0], sent, adopt_any)
        raise


def _adopt(change: Change, live: Resource, sent: Mapping[str, Any], adopt_any: bool) -> str:
    """The id of a same-named live object, when it may be taken as this document's."""
    if adopt_any or _is_what_was_sent(live, sent):
        return live.id
    raise StreamkapConfigError(
        f"a {change.kind} named {change.name!r} already exists ({live.id}) and is not the one "
        "this run sends: it may be someone else's; rename this document, or delete that "
        f"{change.kind} and run again"
    )


def _is_what_was_sent(live: Any, sent: Mapping[str, Any]) -> bool:
    """A live pipeline or transform matches the body this run sends (echoes normalised)."""
    if live.kind == PIPELINE:
        source, destination = sent["source"], sent["destination"]
        discovery = {(a["transform_id"], a["regex"]) for a in sent.get(_AUTO, [])}
        return bool(
            live.source.id == source["id"]
            and live.destination.id == destination["id"]
            and sorted(live.pretty_topics()) == sorted(source["topics"])
            and live.transform_topics() == {(t["id"], t["topic"]) for t in sent["transforms"]}
            and {(a.transform_id, a.regex) for a in live.topic_auto_discovery_transforms}
            == discovery
        )
    if getattr(live, "transform", None) != sent.get("transform"):
        return False
    config = getattr(live, "config", {})
    return all(
        normal(value) == normal(config.get(key))
        for key, value in sent.get("config", {}).items()
        if config.get(key) is not None  # secrets come back absent
    )


_AUTO = "topic_auto_discovery_transforms"
