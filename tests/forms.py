"""The ways users write one config: dotted, suffix-less, nested, Terraform names."""

from __future__ import annotations

from typing import Any

from strategies import nest
from streamkap_config.schemas.definitions import ConnectorDefinition, strip_suffix


def dotted(defn: ConnectorDefinition, config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)


def suffixless(defn: ConnectorDefinition, config: dict[str, Any]) -> dict[str, Any]:
    names = set(defn.names)
    out = {}
    for key, value in config.items():
        short = strip_suffix(key)
        # Keep the full name where the short one is itself another key's name.
        out[short if short not in names or short == key else key] = value
    return out


def nested(defn: ConnectorDefinition, config: dict[str, Any]) -> dict[str, Any]:
    return nest(suffixless(defn, config))


def terraform(defn: ConnectorDefinition, config: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        prop = defn.get(key)
        out[prop.terraform_attribute if prop and prop.terraform_attribute else key] = value
    return out


FORMS = {"dotted": dotted, "suffixless": suffixless, "nested": nested, "terraform": terraform}
