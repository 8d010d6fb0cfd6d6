"""Connector definitions -> JSON Schema (Draft 2020-12).

:func:`config_schema` gives the schema of one connector's canonical flat
``config`` object; :func:`envelope_schema` the CreateSource body that refers to
each connector's config schema by ``$id``; :func:`registry` puts them all in a
``referencing.Registry`` so a stock ``jsonschema`` validator resolves the refs.

Generation is deterministic: the same definition always gives the same bytes.
:data:`GENERATOR_VERSION` is recorded beside every generated schema; bump it
whenever the output for some definition changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.facts import CREATED_FROM, DESIRED_STATES
from .definitions import Condition, ConnectorDefinition, Property

if TYPE_CHECKING:
    from referencing import Registry

__all__ = [
    "DIALECT",
    "ENVELOPE_ID",
    "GENERATOR_VERSION",
    "config_schema",
    "config_schema_id",
    "envelope_id",
    "envelope_schema",
    "registry",
]

GENERATOR_VERSION = "1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_ID = "urn:streamkap-config:create-source"


def config_schema_id(code: str, version: str, kind: str = "source") -> str:
    """The ``$id`` of a connector's config schema: stable per kind and content version."""
    return f"urn:streamkap-config:{kind}:{code}:{version}"


def envelope_id(kind: str = "source") -> str:
    """The ``$id`` of the request body schema of ``kind``."""
    return ENVELOPE_ID if kind == "source" else f"urn:streamkap-config:create-{kind}"


def property_schema(prop: Property) -> dict[str, Any]:
    """The subschema of one key's value (without annotations)."""
    kind = prop.kind
    schema: dict[str, Any]
    if kind == "string":
        schema = {"type": "string"}
    elif kind == "boolean":
        schema = {"type": "boolean"}
    elif kind == "integer":
        schema = {"type": "integer"}
        if prop.minimum is not None:
            schema["minimum"] = prop.minimum
        if prop.maximum is not None:
            schema["maximum"] = prop.maximum
    elif kind == "enum":
        schema = {"enum": list(prop.raw_values or ())}
    elif kind == "map":
        entry = "string" if prop.map_of == "string" else "object"
        schema = {"type": "object", "additionalProperties": {"type": entry}}
    else:
        items: dict[str, Any] = {"type": "string"}
        if prop.raw_values:
            items = {"enum": list(prop.raw_values)}
        schema = {"type": "array", "items": items}
    return schema


def _annotated(prop: Property) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": prop.display_name}
    if prop.description:
        schema["description"] = prop.description
    schema.update(property_schema(prop))
    if prop.has_default:
        schema["default"] = prop.default
    if prop.secret:
        schema["writeOnly"] = True
    if prop.readonly:
        schema["readOnly"] = True
    ext: dict[str, Any] = {"control": prop.control}
    if prop.terraform_attribute:
        ext["terraform_attribute"] = prop.terraform_attribute
    if prop.aliases:
        ext["aliases"] = list(prop.aliases)
    if prop.conditions:
        ext["conditions"] = [_condition_json(c) for c in prop.conditions]
    if prop.required and prop.conditions:
        ext["required_when_conditions_hold"] = True
    if prop.set_once:
        ext["set_once"] = True
    if prop.secret:
        ext["secret"] = True
    if prop.step is not None:
        ext["step"] = prop.step
    if prop.tab:
        ext["tab"] = prop.tab
    schema["x-streamkap"] = ext
    return schema


def _condition_json(c: Condition) -> dict[str, Any]:
    value = list(c.value) if c.operator == "IN" else c.value
    return {"operator": c.operator, "config": c.config, "value": value}


def _condition_schema(c: Condition, gate: Property | None) -> dict[str, Any]:
    if c.operator == "EQ":
        test: dict[str, Any] = {"const": c.value}
    elif c.operator == "NE":
        test = {"not": {"const": c.value}}
    else:
        test = {"enum": list(c.value)}
    schema: dict[str, Any] = {"properties": {c.config: test}}
    # An absent gate takes its default (or nothing): the condition must hold on that too.
    absent = gate.default if gate is not None else None
    if not c.holds(absent):
        schema["required"] = [c.config]
    return schema


def config_schema(defn: ConnectorDefinition) -> dict[str, Any]:
    """The JSON Schema of ``defn``'s canonical flat ``config`` object.

    Only user-settable keys are properties; ``additionalProperties: false``
    rejects every other key. A required key without conditions is in
    ``required``; one with conditions becomes an ``if``/``then`` evaluated on
    the effective config (an absent gate counts as its default).
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    conditional: list[dict[str, Any]] = []
    for prop in defn.properties:
        if not prop.user_defined:
            continue
        properties[prop.name] = _annotated(prop)
        if not prop.required:
            continue
        if not prop.conditions:
            required.append(prop.name)
            continue
        parts = [_condition_schema(c, defn.get(c.config)) for c in prop.conditions]
        test = parts[0] if len(parts) == 1 else {"allOf": parts}
        conditional.append({"if": test, "then": {"required": [prop.name]}})
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": config_schema_id(defn.code, defn.version, defn.kind),
        "title": f"{defn.display_name} {defn.kind} configuration",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    if conditional:
        schema["allOf"] = conditional
    schema["x-streamkap"] = {
        "kind": defn.kind,
        "connector": defn.code,
        "display_name": defn.display_name,
        "version": defn.version,
        "generator_version": GENERATOR_VERSION,
        "not_user_settable": [p.name for p in defn.properties if not p.user_defined],
    }
    return schema


def envelope_schema(connectors: Mapping[str, str], kind: str = "source") -> dict[str, Any]:
    """The request body schema of ``kind``. ``connectors`` maps code -> config schema ``$id``."""
    from ..core.kinds import KINDS

    spec = KINDS[kind]
    codes = sorted(connectors)
    field_schemas: dict[str, Any] = {
        "created_from": {"enum": list(CREATED_FROM), "default": "api"},
        "desired_state": {"enum": list(DESIRED_STATES)},
        "kc_cluster_id": {"type": "string", "minLength": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    return {
        "$schema": DIALECT,
        "$id": envelope_id(kind),
        "title": f"{kind} request body (POST /{spec.plural})",
        "type": "object",
        "required": ["name", spec.code_field, "config"],
        "additionalProperties": False,
        "properties": {
            "kind": {"const": kind},
            "name": {"type": "string", "minLength": 1, "pattern": "\\S"},
            spec.code_field: {"enum": codes},
            "config": {"type": "object"},
            **{f: field_schemas[f] for f in spec.fields},
        },
        "allOf": [
            {
                "if": {
                    "properties": {spec.code_field: {"const": code}},
                    "required": [spec.code_field],
                },
                "then": {"properties": {"config": {"$ref": connectors[code]}}},
            }
            for code in codes
        ],
    }


def registry(config_schemas: Iterable[Mapping[str, Any]]) -> Registry:
    """A registry with every config schema and the envelope that refers to them.

    >>> from streamkap_config import bundled_schemas
    >>> reg = registry(v.schema for v in bundled_schemas().values())
    >>> ENVELOPE_ID in reg
    True
    """
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schemas = list(config_schemas)
    resources = [(s["$id"], DRAFT202012.create_resource(s)) for s in schemas]
    by_kind: dict[str, dict[str, str]] = {}
    for s in schemas:
        ext = s["x-streamkap"]
        by_kind.setdefault(ext.get("kind", "source"), {})[ext["connector"]] = s["$id"]
    for kind, ids in by_kind.items():
        resources.append(
            (envelope_id(kind), DRAFT202012.create_resource(envelope_schema(ids, kind)))
        )
    return Registry().with_resources(resources).crawl()
