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

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.capture import split_list
from ..core.errors import ConfigValidationError
from ..core.kinds import KINDS, PIPELINE
from ..core.records import replace
from .apply import DEFAULT_PARALLELISM, LEVELS, ApplyResult, apply
from .changes import ORDER, Change, KeyChange, Plan, json_safe, normal, printable, same
from .payload import MASK
from .prune import DELETE_ORDER, deletes, described, grouped, ownership, renames

if TYPE_CHECKING:
    from ..core.document import Document
    from ..project.validate import ProjectResult
    from ..remote.client import StreamkapClient
    from ..remote.resources import Pipeline, Resource

__all__ = [
    "DEFAULT_PARALLELISM",
    "DELETE_ORDER",
    "LEVELS",
    "ORDER",
    "ApplyResult",
    "Change",
    "KeyChange",
    "Plan",
    "apply",
    "json_safe",
    "live_by_name",
    "normal",
    "plan",
    "printable",
    "same",
]

_INCLUDE_LISTS = ("table.include.list", "table.include.list.user.defined")
# What the backend writes where it will fill a value itself: "<SSH.PUBLIC.KEY>".
_PLACEHOLDER = re.compile(r"<[A-Z0-9_.\-]+>")


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
    owner = ownership(project) if prune else None
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
    known = described(project, entries)
    warnings += renames(changes, bodies, by_name, known)
    if owner is not None:
        for kind in owner.kinds:
            if kind not in by_name:  # too large to list whole: every page, for deletes
                by_name[kind] = grouped(client.list(kind))
        changes += deletes(owner, by_name, known, changes, known_ids)
    return Plan(tuple(changes), tuple(warnings), project, topic_ids, known_ids, pruned=prune)


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
        found[kind] = grouped(objects)
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
        if same(value, have):
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
