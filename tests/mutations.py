"""Single mutations of a valid canonical config, each with the issue it must cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from strategies import GeneratedConfig, gate_names
from streamkap_config.schemas.definitions import Property


@dataclass
class Mutation:
    kind: str  # type | enum | range | required | unknown-key
    key: str  # the canonical key concerned (or the unknown key written)
    config: dict[str, Any]


def wrong_type_value(prop: Property) -> Any:
    return {
        "string": 7,
        "integer": "abc",
        "boolean": "maybe",
        "enum": "definitely-not-an-option",
        "array": 5,
        "map": 7,
    }[prop.kind]


@st.composite
def mutations(draw: st.DrawFn, gen: GeneratedConfig) -> Mutation:
    defn = gen.definition
    gates = gate_names(defn)
    present = [defn.get(k) for k in gen.config if k not in gates]
    options: list[str] = ["unknown-key"]
    if present:
        options.append("type")
    if any(p.kind == "enum" for p in present):
        options.append("enum")
    if any(
        p.kind == "integer" and (p.minimum is not None or p.maximum is not None) for p in present
    ):
        options.append("range")
    droppable = [
        p
        for p in defn.properties
        if p.required and not p.conditions and p.name in gen.config and p.name not in gates
    ]
    if droppable:
        options.append("required")
    kind = draw(st.sampled_from(options))
    config = dict(gen.config)
    if kind == "unknown-key":
        key = "zz.unknown.k" + str(draw(st.integers(0, 99)))
        config[key] = "x"
        return Mutation(kind, key, config)
    if kind == "required":
        prop = draw(st.sampled_from(droppable))
        del config[prop.name]
        return Mutation(kind, prop.name, config)
    if kind == "type":
        prop = draw(st.sampled_from(present))
        config[prop.name] = wrong_type_value(prop)
        return Mutation("enum" if prop.kind == "enum" else "type", prop.name, config)
    if kind == "enum":
        prop = draw(st.sampled_from([p for p in present if p.kind == "enum"]))
        config[prop.name] = "definitely-not-an-option"
        return Mutation(kind, prop.name, config)
    prop = draw(
        st.sampled_from(
            [
                p
                for p in present
                if p.kind == "integer" and (p.minimum is not None or p.maximum is not None)
            ]
        )
    )
    config[prop.name] = (prop.maximum + 1) if prop.maximum is not None else prop.minimum - 1
    return Mutation(kind, prop.name, config)
