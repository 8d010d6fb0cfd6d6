"""Hypothesis strategies: connector definitions (API shape) and configs for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from streamkap_config.core.capture import INCLUDE_KEYS
from streamkap_config.schemas.definitions import ConnectorDefinition, Property, parse_definitions

NAMESPACES = ("database", "ssh", "snapshot.read", "topic", "transforms.unwrap", "heartbeat")
SECRET_PREFIX = "sekret-"


@st.composite
def raw_definitions(draw: st.DrawFn, max_props: int = 10) -> dict[str, Any]:
    """A connector definition in the ``GET /sources/connectors`` response shape.

    Names are ``<namespace>.k<i>`` (optionally with ``.user.defined``), so that
    no key is a dotted prefix of another and every key has a nested form.
    """
    n = draw(st.integers(min_value=1, max_value=max_props))
    props: list[dict[str, Any]] = []
    gates: list[dict[str, Any]] = []
    for i in range(n):
        ns = draw(st.sampled_from(NAMESPACES))
        base = f"{ns}.k{i}"
        name = base + draw(st.sampled_from(["", "", ".user.defined"]))
        control = draw(
            st.sampled_from(
                [
                    "text",
                    "password",
                    "textarea",
                    "number",
                    "slider",
                    "toggle",
                    "one-select",
                    "multi_select",
                    "string",
                    "checkbox",
                    "select",
                    "map",
                ]
            )
        )
        map_type = None
        if control == "map":  # a map-valued property: a text control with terraform_type
            control, map_type = "text", draw(st.sampled_from(["Map", "MapNested"]))
        value: dict[str, Any] = {"control": control, "type": "raw"}
        prop: dict[str, Any] = {
            "name": name,
            "display_name": f"Key {i}",
            "description": f"Generated key {i}",
            "required": draw(st.booleans()),
            "user_defined": True,
            "value": value,
            "terraform_attribute": base.replace(".", "_"),
        }
        if map_type is not None:
            prop["terraform_type"] = map_type
            if draw(st.booleans()):
                prop["json_string"] = True
        elif control in ("number", "slider"):
            lo = draw(st.integers(-1000, 1000))
            hi = lo + draw(st.integers(0, 5000))
            if control == "slider" or draw(st.booleans()):
                value["min"], value["max"] = lo, hi
            if draw(st.booleans()):
                value["default"] = draw(st.integers(lo, hi))
        elif control in ("toggle", "checkbox"):
            if draw(st.booleans()):
                value["default"] = draw(st.booleans())
        elif control in ("one-select", "select"):
            options = draw(
                st.lists(
                    st.sampled_from(["Yes", "No", "json", "avro", "read", "write", "none"]),
                    min_size=1,
                    max_size=4,
                    unique=True,
                )
            )
            value["raw_values"] = options
            if draw(st.booleans()):
                value["default"] = draw(st.sampled_from(options))
        elif control == "multi_select":
            if draw(st.booleans()):
                value["raw_values"] = ["a", "b", "c"]
        elif draw(st.booleans()) and control != "password":
            value["default"] = draw(st.text("abcxyz", min_size=1, max_size=5))
        if control == "password" or (map_type is None and draw(st.integers(0, 9)) == 0):
            prop["encrypt"] = True
        if draw(st.integers(0, 7)) == 0:
            prop["aliases"] = [f"old_k{i}"]
        if draw(st.integers(0, 9)) == 0:
            prop["set_once"] = True
        if gates and draw(st.integers(0, 3)) == 0:
            gate = draw(st.sampled_from(gates))
            gv = gate["value"]
            domain = gv.get("raw_values", [True, False])
            op = draw(st.sampled_from(["EQ", "NE", "IN"]))
            cvalue: Any = draw(st.sampled_from(domain))
            if op == "IN":
                cvalue = draw(st.lists(st.sampled_from(domain), min_size=1, unique=True))
            prop["conditions"] = [{"operator": op, "config": gate["name"], "value": cvalue}]
        elif control in ("toggle", "checkbox", "one-select", "select"):
            gates.append(prop)
        if draw(st.integers(0, 5)) == 0:
            prop["unknown_extra_field"] = {"ignored": True}
        props.append(prop)
    return {"Generated Connector": props}


def definitions(
    max_props: int = 10, kind: str = "source"
) -> st.SearchStrategy[ConnectorDefinition]:
    return raw_definitions(max_props).map(
        lambda raw: parse_definitions(raw, code="generated", kind=kind)[0]
    )


def gate_names(defn: ConnectorDefinition) -> set[str]:
    return {c.config for p in defn.properties for c in p.conditions}


def value_for(prop: Property) -> st.SearchStrategy[Any]:
    """A valid, canonical (strictly typed) value for ``prop``."""
    kind = prop.kind
    if prop.secret and kind == "string":
        return st.text("abcdef0123456789", min_size=6, max_size=12).map(SECRET_PREFIX.__add__)
    if kind == "string" and prop.name.removesuffix(".user.defined") in INCLUDE_KEYS:
        # An include list is a comma-separated list of regular expressions.
        # No white space: the reader trims each entry, which would cut an escape in two.
        chars = st.characters(
            codec="utf-8",
            exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"),
            exclude_characters=",\\\x85",
        )
        return st.lists(st.text(chars, max_size=8), max_size=3).map(
            lambda parts: ", ".join(re.escape(p) for p in parts)
        )
    if kind == "string":
        return st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
    if kind == "integer":
        lo = int(prop.minimum) if prop.minimum is not None else -(10**6)
        hi = int(prop.maximum) if prop.maximum is not None else 10**6
        return st.integers(lo, hi)
    if kind == "boolean":
        return st.booleans()
    if kind == "enum":
        return st.sampled_from(list(prop.raw_values or ()))
    if kind == "map":
        entry = (
            st.text("abc", max_size=4)
            if prop.map_of == "string"
            else (st.fixed_dictionaries({"chunks": st.integers(1, 9)}))
        )
        return st.dictionaries(st.text("tuvw", min_size=1, max_size=4), entry, max_size=3)
    items = (
        st.sampled_from(list(prop.raw_values)) if prop.raw_values else st.text("xyz", min_size=1)
    )
    return st.lists(items, max_size=3)


@dataclass
class GeneratedConfig:
    definition: ConnectorDefinition
    config: dict[str, Any]  # canonical keys, canonical values

    def effective(self) -> dict[str, Any]:
        base = {p.name: p.default for p in self.definition.properties if p.has_default}
        return {**base, **self.config}


@st.composite
def valid_configs(draw: st.DrawFn, defn: ConnectorDefinition) -> GeneratedConfig:
    """A canonical config that satisfies ``defn`` (no errors, no inactive keys)."""
    config: dict[str, Any] = {}
    settable = [p for p in defn.properties if p.user_defined and not p.readonly]
    for prop in settable:
        if prop.conditions:
            continue
        if prop.required or draw(st.booleans()):
            config[prop.name] = draw(value_for(prop))
    effective = {**{p.name: p.default for p in defn.properties if p.has_default}, **config}
    for prop in settable:
        if not prop.conditions:
            continue
        if all(c.holds(effective.get(c.config)) for c in prop.conditions) and (
            prop.required or draw(st.booleans())
        ):
            config[prop.name] = draw(value_for(prop))
    return GeneratedConfig(defn, config)


def nest(config: dict[str, Any]) -> dict[str, Any]:
    """The nested form of a flat config; a key that would clash stays dotted."""
    tree: dict[str, Any] = {}
    flat_leftovers: dict[str, Any] = {}
    for key, value in config.items():
        parts = key.split(".")
        node = tree
        ok = True
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict) or child is value:
                ok = False
                break
            node = child
        if ok and parts[-1] not in node:
            node[parts[-1]] = value
        else:
            flat_leftovers[key] = value
    return {**tree, **flat_leftovers}
