"""Prune and renames: the deletes of what a project owns and no document describes
(in :data:`DELETE_ORDER`, blocked while a kept pipeline uses them), and warnings for
creates that look like renames of a live object."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import StreamkapConfigError
from ..core.kinds import KINDS, PIPELINE
from .changes import Change, same

if TYPE_CHECKING:
    from ..core.document import Document
    from ..project.settings import Ownership
    from ..project.validate import ProjectResult
    from ..remote.resources import Resource

__all__ = ["DELETE_ORDER", "deletes", "described", "grouped", "ownership", "renames"]


def ownership(project: ProjectResult) -> Ownership:
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


def described(project: ProjectResult, entries: list[tuple[Document, Any]]) -> set[tuple[str, str]]:
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


def grouped(objects: Iterable[Resource]) -> dict[str, list[Resource]]:
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


def renames(
    changes: list[Change],
    bodies: Mapping[int, Any],
    by_name: Mapping[str, Mapping[str, list[Resource]]],
    described: set[tuple[str, str]],
) -> list[str]:
    """A warning for each source or destination to create that reads what a live one of
    the same connector, described by no document, reads: it may be a rename."""
    out = []
    for change in changes:
        # What reads or writes outside Streamkap: the kinds made from a connector.
        spec = KINDS.get(change.kind)  # pipelines are no kind of KINDS
        code = spec.code_field if spec is not None else None
        if change.action != "create" or code != "connector":
            continue
        body = bodies.get(id(change.document))
        live = by_name.get(change.kind)
        if body is None or live is None:
            continue
        ours = {k: v for k, v in body.config.items() if _identity(k)}
        if not ours:
            continue
        for name, objects in live.items():
            if (change.kind, name) in described:
                continue
            for obj in objects:
                theirs = getattr(obj, "config", {})
                if getattr(obj, code, None) != getattr(body, code):
                    continue
                if all(same(v, theirs.get(k)) for k, v in ours.items()):
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


def deletes(
    owner: Ownership,
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
