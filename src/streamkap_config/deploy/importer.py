"""``streamkap-config import``: a live account written as files, so that plan is no-op.

Each live object becomes one file under ``<dir>/<kind>s/<name>.yaml``. What the
backend fills in is left out (a value equal to the connector's default, a
placeholder such as ``<SSH.PUBLIC.KEY>``, a key users cannot set); values come
back typed (``"5432"`` as ``5432``); a secret becomes ``${env:NAME}`` with a
variable name derived from the object and the key; a pipeline names what it
joins by ``name``, its per-topic transform entries folded back to ``topics:``
lists. The law the tests hold it to: import, then plan, is all no-op.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.kinds import KINDS, PIPELINE
from ..core.records import field, record

if TYPE_CHECKING:
    from ..remote.client import StreamkapClient
    from ..remote.resources import Pipeline, Resource
    from ..schemas.definitions import ConnectorDefinition, Property

__all__ = ["ImportResult", "document_of", "import_account", "nest_keys"]

ORDER = ("source", "destination", "transform", PIPELINE)
_PLACEHOLDER = re.compile(r"<[A-Z0-9_.\-]+>")


@record
class ImportResult:
    """What an import wrote, what it left alone, and the variables its secrets read."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "path: why"
    variables: list[str] = field(default_factory=list)


def _variable(name: str, key: str) -> str:
    from ..schemas.definitions import strip_suffix

    text = re.sub(r"[^A-Za-z0-9]+", "_", f"{name}_{strip_suffix(key)}").strip("_").upper()
    return text if not text[:1].isdigit() else f"_{text}"


def _typed(prop: Property, value: Any) -> Any:
    """A config value as the API echoes it (text), back in its key's type."""
    kind = prop.kind
    if not isinstance(value, str):
        return value
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if (kind == "map" or prop.json_string) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    if kind == "enum" and prop.raw_values:
        for allowed in prop.raw_values:
            if str(allowed).lower() == value.lower() and not isinstance(allowed, str):
                return allowed
    return value


def _same(prop: Property, value: Any) -> bool:
    from .plan import normal

    return prop.has_default and normal(_typed(prop, value)) == normal(prop.default)


def _config(
    name: str, definition: ConnectorDefinition, live: Mapping[str, Any], variables: list[str]
) -> dict[str, Any]:
    from ..schemas.definitions import strip_suffix

    props = {p.name: p for p in definition.properties}
    every = list(props)
    shorts = [strip_suffix(n) for n in every]
    out: dict[str, Any] = {}
    for key, value in live.items():
        prop = props.get(key)
        if prop is None or not prop.user_defined or prop.readonly:
            continue  # the backend's own
        short = strip_suffix(key)
        spelled = short if shorts.count(short) == 1 and short not in every else key
        if prop.secret:
            variable = _variable(name, key)
            variables.append(variable)
            out[spelled] = "${env:" + variable + "}"
            continue
        if value is None or (isinstance(value, str) and _PLACEHOLDER.fullmatch(value)):
            continue
        if _same(prop, value) and not prop.required:
            continue  # a default the server filled in
        typed = _typed(prop, value)
        if isinstance(typed, str) and "${" in typed:
            typed = typed.replace("${", "$${")  # a literal, not a reference
        out[spelled] = typed
    for prop in definition.properties:  # a required secret the API did not echo at all
        if prop.secret and prop.required and prop.user_defined and prop.name not in live:
            variable = _variable(name, prop.name)
            variables.append(variable)
            out[strip_suffix(prop.name)] = "${env:" + variable + "}"
    return out


def nest_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys nested on their first dot, where nothing else holds that name."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        head, dot, rest = key.partition(".")
        branch = out.setdefault(head, {}) if dot and head not in config else None
        if isinstance(branch, dict):
            branch[rest] = value
        else:
            out[key] = value
    return out


def document_of(
    live: Resource,
    definition: ConnectorDefinition | None,
    names: Mapping[str, str],
    variables: list[str],
    *,
    nested: bool = False,
) -> dict[str, Any]:
    """The document of one live object (``names``: live id -> name, for pipelines)."""
    kind = live.KIND
    if kind == PIPELINE:
        return _pipeline(live, names)  # type: ignore[arg-type]
    spec = KINDS[kind]
    doc: dict[str, Any] = {"kind": kind, "name": live.name}
    doc[spec.code_field] = getattr(live, spec.code_field)
    state = getattr(live, "desired_state", None)
    if "desired_state" in spec.fields and state not in (None, "Active", "Pending"):
        doc["desired_state"] = state
    tags = list(getattr(live, "tags", []) or [])
    if tags:
        doc["tags"] = tags
    config = getattr(live, "config", {}) or {}
    body = (
        _config(live.name or live.id, definition, config, variables) if definition else dict(config)
    )
    doc["config"] = nest_keys(body) if nested else body
    return doc


def _pipeline(live: Pipeline, names: Mapping[str, str]) -> dict[str, Any]:
    from ..remote.resources import pretty_topic

    topics = live.pretty_topics()
    doc: dict[str, Any] = {"kind": PIPELINE, "name": live.name}
    doc["source"] = {"name": names.get(live.source.id, live.source.name), "topics": topics}
    doc["destination"] = {"name": names.get(live.destination.id, live.destination.name)}
    folded: dict[str, list[str]] = {}
    for entry in live.transforms:
        topic = pretty_topic(live.source.id, entry.topic or entry.topic_id or "")
        folded.setdefault(entry.id, []).append(topic)
    transforms = []
    for ident, on in folded.items():
        ref: dict[str, Any] = {"name": names.get(ident, ident)}
        if sorted(on) != sorted(topics):
            ref["topics"] = on
        transforms.append(ref)
    if transforms:
        doc["transforms"] = transforms
    discovery = [
        {"name": names.get(a.transform_id, a.transform_id), "regex": a.regex}
        for a in live.topic_auto_discovery_transforms
    ]
    if discovery:
        doc["topic_auto_discovery_transforms"] = discovery
    doc["snapshot_new_tables"] = bool(live.snapshot_new_tables)
    if live.tags:
        doc["tags"] = list(live.tags)
    return doc


def _file_name(name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "unnamed"
    return f"{safe}.yaml"


def import_account(
    client: StreamkapClient,
    folder: str | os.PathLike[str],
    *,
    kinds: Iterable[str] = ORDER,
    name_glob: str | None = None,
    described: Mapping[tuple[str, str], str] | None = None,
    force: bool = False,
    nested: bool = False,
) -> ImportResult:
    """Write the live account's objects as files under ``folder`` (see the module).

    ``described`` maps ``(kind, name)`` to the file already describing it: those are
    skipped. A file in the way is kept unless ``force``.
    """
    import yaml

    from ..core.paths import relative
    from ..schemas.bundle import bundled_schemas

    root = Path(folder)
    result = ImportResult()
    wanted = [k for k in ORDER if k in set(kinds)]
    names: dict[str, str] = {}
    live_of: dict[str, list[Resource]] = {}
    for kind in ORDER:  # every kind is read: pipelines name what they join by name
        if kind in wanted or (PIPELINE in wanted and kind != PIPELINE):
            live_of[kind] = client.list(kind)
            names.update({o.id: o.name for o in live_of[kind] if o.name})
    for kind in wanted:
        folder_of = root / (KINDS[kind].plural if kind in KINDS else "pipelines")
        for listed in live_of.get(kind, []):
            name = listed.name or listed.id
            if name_glob is not None and not fnmatch.fnmatchcase(name, name_glob):
                continue
            if described and (kind, name) in described:
                result.skipped.append(f"{kind} {name}: described by {described[(kind, name)]}")
                continue
            live = client.get(kind, listed.id) if kind != PIPELINE else listed
            definition = None
            if kind in KINDS:
                version = bundled_schemas(kind).get(getattr(live, KINDS[kind].code_field))
                definition = version.definition if version is not None else None
            variables: list[str] = []
            doc = document_of(live, definition, names, variables, nested=nested)
            path = folder_of / _file_name(name)
            if path.exists() and not force:
                result.skipped.append(f"{relative(str(path))}: exists (--force writes over it)")
                continue
            folder_of.mkdir(parents=True, exist_ok=True)
            text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
            path.write_text(f"# Imported from the live {kind} {live.id}.\n{text}")
            result.written.append(str(path))
            result.variables.extend(v for v in variables if v not in result.variables)
    return result
