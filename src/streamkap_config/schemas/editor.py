"""Draft-07 schemas for editors (yaml-language-server, VS Code's YAML extension).

:func:`editor_schema` describes the files of one connector; :func:`combined_schema`
describes every Streamkap file at once (``streamkap.json``), dispatching on
``kind`` and ``connector`` (``transform`` for transforms), for the single-document,
``---`` and ``sources:`` / ``destinations:`` / ``transforms:`` / ``pipelines:``
forms. Completion offers each setting once, in the spelling people write (the
dotted name without ``.user.defined``), nested or dotted; every other spelling
the CLI accepts (the API name with its suffix, Terraform names, aliases) still
validates without being offered. Messages are in words. The CLI stays the
authority: what an editor cannot express is listed in the README.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..core.facts import CREATED_FROM, DESIRED_STATES
from ..core.kinds import KINDS, PIPELINE
from .definitions import SUFFIXES, Condition, ConnectorDefinition, Property, strip_suffix

__all__ = ["EDITOR_DIALECT", "combined_schema", "editor_schema"]

EDITOR_DIALECT = "http://json-schema.org/draft-07/schema#"
_INT_STRING = "^[-+]?(0|[1-9][0-9]*)$"
_BOOL_STRING = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"


def _listing(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _value(prop: Property) -> dict[str, Any]:
    """A key's value: what the CLI accepts leniently, with messages in its words."""
    kind = prop.kind
    schema: dict[str, Any] = {"title": prop.display_name}
    if prop.description:
        schema["description"] = prop.description
    if kind == "integer":
        schema["type"] = ["integer", "string"]
        schema["pattern"] = _INT_STRING
        bounds = ""
        if prop.minimum is not None:
            schema["minimum"] = prop.minimum
        if prop.maximum is not None:
            schema["maximum"] = prop.maximum
        if prop.minimum is not None or prop.maximum is not None:
            lo = "" if prop.minimum is None else prop.minimum
            hi = "" if prop.maximum is None else prop.maximum
            bounds = f" in {lo}..{hi}"
        schema["errorMessage"] = f"expected an integer{bounds} (a whole number, e.g. 5432)"
    elif kind == "boolean":
        schema["type"] = ["boolean", "string"]
        schema["pattern"] = _BOOL_STRING
        schema["errorMessage"] = "expected a boolean: write true or false"
    elif kind == "enum":
        schema["enum"] = list(prop.raw_values or ())
        schema["errorMessage"] = f"expected one of {_listing(prop.raw_values or ())}"
    elif kind == "array":
        items: dict[str, Any] = {"type": "string"}
        if prop.raw_values:
            items = {"enum": list(prop.raw_values)}
        schema["anyOf"] = [{"type": "array", "items": items}, {"type": "string"}]
        schema["errorMessage"] = "expected a list of strings (or one comma-separated string)"
    elif kind == "map":
        entry = "string" if prop.map_of == "string" else "object"
        schema["type"] = ["object", "string"] if prop.json_string else "object"
        schema["additionalProperties"] = {"type": entry}
    else:
        schema["type"] = "string"
        schema["errorMessage"] = "expected a string: write the value in quotes"
    if prop.has_default:
        schema["default"] = prop.default
    if prop.secret:
        schema["writeOnly"] = True
    return schema


def _spellings(prop: Property) -> tuple[str, list[str]]:
    """The spelling completion offers, and every other one validation accepts."""
    base = strip_suffix(prop.name)
    others = {prop.name, *(base + s for s in SUFFIXES)} - {base}
    flat = [a for a in (prop.terraform_attribute, *prop.aliases) if a and a != base]
    return base, sorted(others) + flat


def _node() -> dict[str, Any]:
    return {"keys": {}, "hidden": {}, "children": {}}


def _config(defn: ConnectorDefinition, refs: str) -> dict[str, Any]:
    """The ``config`` mapping: a tree of namespaces with each setting once."""
    tree = _node()
    for prop in defn.properties:
        if not prop.user_defined or prop.readonly:
            continue
        ref = {"$ref": f"{refs}{_pointer(prop.name)}"}
        base, others = _spellings(prop)
        for spelling, hidden in ((base, False), *((o, True) for o in others)):
            parts = spelling.split(".")
            cuts = (
                range(len(parts))
                if "." in spelling and spelling != prop.terraform_attribute
                else (0,)
            )
            for cut in cuts:
                node = tree
                for part in parts[:cut]:
                    node = node["children"].setdefault(part, _node())
                rest = ".".join(parts[cut:])
                target = node["hidden" if hidden else "keys"]
                target.setdefault(rest, ref)

    def render(node: dict[str, Any], path: str) -> dict[str, Any]:
        properties: dict[str, Any] = dict(sorted(node["keys"].items()))
        for name, child in sorted(node["children"].items()):
            namespace = render(child, f"{path}{name}.")
            namespace["description"] = f"Settings under {path}{name}."
            if name in properties:
                properties[name] = {"anyOf": [properties[name], namespace]}
            else:
                properties[name] = namespace
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        hidden = {k: v for k, v in node["hidden"].items() if k not in properties}
        if hidden:
            schema["patternProperties"] = {f"^{_literal(k)}$": v for k, v in sorted(hidden.items())}
        schema["additionalProperties"] = False
        return schema

    config = render(tree, "")
    needs = []
    for prop in defn.properties:
        if not (prop.required and prop.user_defined and not prop.readonly):
            continue
        if not prop.conditions:
            needs.append(_present(prop))
            continue
        test = _conditions(defn, prop.conditions)
        if test is not None:  # NE and IN conditions are left to the CLI
            needs.append({"if": test, "then": _present(prop)})
    if needs:
        config["allOf"] = needs
    return config


#: What a regular expression gives a meaning to; everything else stands for itself.
_SPECIAL = frozenset("\\^$.|?*+()[]{}/")


def _literal(key: str) -> str:
    """``key`` as a pattern that matches it alone, valid ECMA-262 in unicode mode too:
    ``re.escape`` escapes ``-``, which such a reader (check-jsonschema) refuses.

    >>> _literal("commit-threshold.user.defined")
    'commit-threshold\\\\.user\\\\.defined'
    """
    return "".join(f"\\{c}" if c in _SPECIAL else c for c in key)


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _placed(spelling: str, schema: dict[str, Any], cut: int) -> dict[str, Any]:
    """``schema`` applied at ``spelling`` written with its first ``cut`` parts nested."""
    parts = spelling.split(".")

    def exactly(key: str, value: dict[str, Any]) -> dict[str, Any]:
        # patternProperties, not properties: editors offer properties for completion, and
        # the checks would offer every spelling again.
        return {f"^{_literal(key)}$": value}

    # "required" holds for anything that is not a mapping: each level must be one.
    rest = ".".join(parts[cut:])
    inner: dict[str, Any] = {"type": "object", "required": [rest]}
    if schema:
        inner["patternProperties"] = exactly(rest, schema)
    for part in reversed(parts[:cut]):
        inner = {"type": "object", "required": [part], "patternProperties": exactly(part, inner)}
    return inner


def _written(prop: Property, schema: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``prop`` present (and, with ``schema``, matching it) in any accepted spelling."""
    base, others = _spellings(prop)
    options = []
    for spelling in (base, *others):
        cuts = range(len(spelling.split("."))) if spelling != prop.terraform_attribute else (0,)
        for cut in cuts:
            options.append(_placed(spelling, schema or {}, cut))
    return options


def _present(prop: Property) -> dict[str, Any]:
    return {
        "anyOf": _written(prop),
        "errorMessage": f"missing required key {strip_suffix(prop.name)}",
    }


def _conditions(defn: ConnectorDefinition, conditions: Iterable[Condition]) -> Any:
    tests: list[dict[str, Any]] = []
    for c in conditions:
        gate = defn.get(c.config)
        if c.operator != "EQ" or gate is None:
            return None
        allowed: list[Any] = [c.value]
        if isinstance(c.value, bool):  # the CLI reads "true" and "false" leniently
            allowed.append("true" if c.value else "false")
        holds: dict[str, Any] = {"enum": allowed}
        if gate.has_default and gate.default == c.value:
            # An absent gate takes its default: then the condition holds too.
            tests.append({"not": {"anyOf": _written(gate, {"not": holds})}})
        else:
            tests.append({"anyOf": _written(gate, holds)})
    return tests[0] if len(tests) == 1 else {"allOf": tests}


def _fields(kind: str) -> dict[str, Any]:
    every = {
        "created_from": {"enum": list(CREATED_FROM), "default": "api"},
        "desired_state": {"enum": list(DESIRED_STATES)},
        "kc_cluster_id": {
            "type": "string",
            "description": "Kafka Connect cluster; omit for the default cluster",
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    }
    return {f: every[f] for f in KINDS[kind].fields}


def _document(defn: ConnectorDefinition, refs: str, kind_required: bool) -> dict[str, Any]:
    spec = KINDS[defn.kind]
    properties: dict[str, Any] = {
        "kind": {"const": spec.name, "description": "the kind of document; never sent"},
        "name": {"type": "string", "minLength": 1, "description": f"Name of the {spec.name}"},
        spec.code_field: {"const": defn.code, "description": spec.label.capitalize()},
        "config": _config(defn, refs),
        **_fields(defn.kind),
    }
    return {
        "title": f"{defn.display_name} {spec.name}",
        "type": "object",
        "required": ["name", spec.code_field, "config", *(["kind"] if kind_required else [])],
        "additionalProperties": False,
        "properties": properties,
    }


def _values(defn: ConnectorDefinition) -> dict[str, Any]:
    return {
        _pointer(p.name): _value(p) for p in defn.properties if p.user_defined and not p.readonly
    }


def editor_schema(defn: ConnectorDefinition) -> dict[str, Any]:
    """The schema of a file of one connector: one document, or a list under its kind."""
    spec = KINDS[defn.kind]
    document = _document(defn, "#/x-streamkap-values/", kind_required=False)
    ref = {"$ref": "#/definitions/document"}
    return {
        "$schema": EDITOR_DIALECT,
        "$comment": f"Generated by streamkap-config for {defn.kind} {defn.code} "
        f"{defn.version}; do not edit.",
        "title": f"Streamkap {defn.display_name} {spec.name} file",
        "anyOf": [
            ref,
            {
                "type": "object",
                "required": [spec.plural],
                "additionalProperties": False,
                "properties": {spec.plural: {"type": "array", "items": ref}},
            },
        ],
        "definitions": {"document": document},
        # The value schemas of the keys, by API name; every spelling refers to them.
        "x-streamkap-values": _values(defn),
    }


_PIPELINE_REF: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "a document of the project"},
        "id": {"type": "string", "description": "the id of one created elsewhere"},
        "connector": {"type": "string"},
    },
}


def _pipeline() -> dict[str, Any]:
    topics = {"type": "array", "items": {"type": "string"}, "minItems": 1}
    source = {
        **_PIPELINE_REF,
        "properties": {**_PIPELINE_REF["properties"], "topics": topics},
        "required": ["topics"],
        "additionalProperties": False,
    }
    destination = {**_PIPELINE_REF, "additionalProperties": False}
    transform = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "id": {"type": "string"}, "topics": topics},
        "additionalProperties": False,
    }
    return {
        "title": "Streamkap pipeline",
        "type": "object",
        "required": ["name", "source", "destination"],
        "additionalProperties": False,
        "properties": {
            "kind": {"const": PIPELINE},
            "name": {"type": "string", "minLength": 1},
            "source": source,
            "destination": destination,
            "transforms": {"type": "array", "items": transform},
            "topic_auto_discovery_transforms": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "id": {"type": "string"},
                        "regex": {"type": "string", "format": "regex"},
                    },
                    "required": ["regex"],
                    "additionalProperties": False,
                },
            },
            "snapshot_new_tables": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }


def combined_schema(definitions: Mapping[str, Iterable[ConnectorDefinition]]) -> dict[str, Any]:
    """One schema for every Streamkap file: ``definitions`` maps a kind to its connectors."""
    defs: dict[str, Any] = {"pipeline": _pipeline()}
    values: dict[str, Any] = {}
    dispatch: dict[str, list[dict[str, Any]]] = {}
    codes: dict[str, list[str]] = {}
    for kind, found in definitions.items():
        spec = KINDS[kind]
        for defn in sorted(found, key=lambda d: d.code):
            key = f"{kind}:{defn.code}"
            values[key] = _values(defn)
            defs[key] = _document(defn, f"#/x-streamkap-values/{key}/", kind_required=False)
            dispatch.setdefault(kind, []).append(
                {
                    "if": {
                        "properties": {spec.code_field: {"const": defn.code}},
                        "required": [spec.code_field],
                    },
                    "then": {"$ref": f"#/definitions/{key}"},
                }
            )
            codes.setdefault(kind, []).append(defn.code)
    for kind, branches in dispatch.items():
        spec = KINDS[kind]
        defs[spec.plural] = {
            "type": "object",
            "properties": {
                spec.code_field: {
                    "enum": codes[kind],
                    "errorMessage": f"unknown {spec.label}",
                }
            },
            "allOf": branches,
        }

    def by_kind(kind: str) -> dict[str, Any]:
        return {
            "$ref": f"#/definitions/{KINDS[kind].plural}"
            if kind in KINDS
            else "#/definitions/pipeline"
        }

    document = {
        "type": "object",
        "properties": {"kind": {"enum": [*KINDS, PIPELINE], "default": "source"}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": by_kind(kind),
            }
            for kind in (*KINDS, PIPELINE)
            if kind != "source"
        ]
        + [
            {
                "if": {"not": {"required": ["kind"]}},
                "then": by_kind("source"),
            },
            {
                "if": {"properties": {"kind": {"const": "source"}}, "required": ["kind"]},
                "then": by_kind("source"),
            },
        ],
    }
    lists = {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            **{spec.plural: {"type": "array", "items": by_kind(k)} for k, spec in KINDS.items()},
            "pipelines": {"type": "array", "items": by_kind(PIPELINE)},
        },
    }
    is_list = {
        "anyOf": [{"required": [k]} for k in (*(s.plural for s in KINDS.values()), "pipelines")],
        "not": {
            "anyOf": [{"required": ["name"]}, {"required": ["kind"]}, {"required": ["config"]}]
        },
    }
    return {
        "$schema": EDITOR_DIALECT,
        "$comment": "Generated by streamkap-config for every kind and connector; do not edit.",
        "title": "Streamkap configuration file",
        "if": is_list,
        "then": lists,
        "else": document,
        "definitions": defs,
        "x-streamkap-values": values,
    }
