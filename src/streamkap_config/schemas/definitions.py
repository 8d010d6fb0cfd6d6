"""Connector definitions: the ``GET /sources/connectors`` response as typed, frozen values.

>>> defs = parse_definitions({"Kafka Direct": [{"name": "topic", "value": {"control": "text"}}]},
...                         code="kafkadirect")
>>> defs[0].code, defs[0].properties[0].kind
('kafkadirect', 'string')

Reading is tolerant (unknown fields are ignored, documented optional fields get
their documented defaults) and failure is clear: anything malformed raises
:class:`~streamkap_config.core.errors.DefinitionError` naming the connector, the
property index and the reason.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ..core.errors import DefinitionError
from ..core.records import field, record

__all__ = [
    "CONTROLS",
    "MAX_PROPERTIES",
    "Condition",
    "ConnectorDefinition",
    "Property",
    "canonical_json",
    "definition_version",
    "parse_definitions",
    "sha256_hex",
]

Kind = Literal["string", "integer", "boolean", "enum", "array", "map"]

#: What a map-valued property (``terraform_type``) holds per entry.
_MAP_VALUES = {"Map": "string", "MapNested": "object"}

# Every spelling of a control seen in the API's documentation, to one name.
CONTROLS: Mapping[str, str] = {
    "text": "text",
    "string": "text",
    "textarea": "textarea",
    "password": "password",
    "file": "file",
    "one-select": "one-select",
    "one_select": "one-select",
    "select": "one-select",
    "multi_select": "multi_select",
    "multi-select": "multi_select",
    "toggle": "toggle",
    "checkbox": "toggle",
    "number": "number",
    "slider": "slider",
}

_KIND_OF_CONTROL: Mapping[str, Kind] = {
    "text": "string",
    "textarea": "string",
    "password": "string",
    "file": "string",
    "one-select": "enum",
    "multi_select": "array",
    "toggle": "boolean",
    "number": "integer",
    "slider": "integer",
}

OPERATORS = ("EQ", "NE", "IN")
#: The largest public connector has under 100 properties; a huge definition is hostile.
MAX_PROPERTIES = 5_000
SUFFIXES = (".user.defined", ".user.displayed")


def canonical_json(value: Any) -> bytes:
    """The canonical JSON bytes of ``value``: sorted keys, compact, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256_constructor() -> Any:
    # The interpreter's built-in sha256: importing hashlib loads OpenSSL, a few
    # milliseconds on every run of a command that runs on every commit.
    for name in ("_sha2", "_sha256"):  # Python 3.12+, 3.10-3.11
        try:
            return importlib.import_module(name).sha256
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


_SHA256 = _sha256_constructor()


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` in hex: versions and every stored file's check.

    >>> sha256_hex(b"")[:16]
    'e3b0c44298fc1c14'
    """
    return str(_SHA256(data).hexdigest())


def definition_version(raw: Any) -> str:
    """A definition's version: the sha256 (hex) of its canonical JSON."""
    return sha256_hex(canonical_json(raw))


def strip_suffix(name: str) -> str:
    """``database.hostname.user.defined`` -> ``database.hostname``."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


@record(frozen=True)
class Condition:
    """The property applies only while ``config`` compares to ``value`` by ``operator``."""

    operator: Literal["EQ", "NE", "IN"]
    config: str
    value: Any

    def holds(self, actual: Any) -> bool:
        """Whether the condition holds when the gating key's effective value is ``actual``."""
        if self.operator == "EQ":
            return bool(actual == self.value and type(actual) is type(self.value))
        if self.operator == "NE":
            return not (actual == self.value and type(actual) is type(self.value))
        return any(actual == v and type(actual) is type(v) for v in self.value)

    def describe(self) -> str:
        """``ssh.enabled == true`` style text for messages and tables."""
        op = {"EQ": "==", "NE": "!=", "IN": "in"}[self.operator]
        return f"{self.config} {op} {json.dumps(self.value)}"


@record(frozen=True)
class Property:
    """One configuration key of a connector."""

    name: str
    control: str
    display_name: str = ""
    description: str = ""
    required: bool = False
    user_defined: bool = True
    value_type: str = "raw"
    default: Any = None
    raw_values: tuple[Any, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    step: int | float | None = None
    readonly: bool = False
    tab: str | None = None
    conditions: tuple[Condition, ...] = ()
    encrypt: bool = False
    set_once: bool = False
    terraform_attribute: str | None = None
    aliases: tuple[str, ...] = ()
    # A map-valued property: "string" or "object" entries (from ``terraform_type``).
    map_of: str | None = None
    # Sent to the API as a JSON-encoded string (``json_string``).
    json_string: bool = False

    @property
    def kind(self) -> Kind:
        """The value kind the control asks for (``map`` for a map-valued property)."""
        return "map" if self.map_of is not None else _KIND_OF_CONTROL[self.control]

    @property
    def secret(self) -> bool:
        """A secret: encrypted by the API or entered through a password control."""
        return self.encrypt or self.control == "password"

    @property
    def has_default(self) -> bool:
        return self.default is not None


@record(frozen=True)
class ConnectorDefinition:
    """A connector type: its code, display name and properties.

    ``raw`` is the definition exactly as served (``{display_name: [property, ...]}``);
    its canonical JSON is what :attr:`version` hashes.
    """

    code: str
    display_name: str
    properties: tuple[Property, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    kind: str = "source"  # source, destination or transform: never guessed from the code
    _by_name: Mapping[str, Property] = field(init=False, repr=False, compare=False)
    version: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Frozen values computed once at construction (the version hashes ``raw``).
        object.__setattr__(self, "_by_name", {p.name: p for p in self.properties})
        object.__setattr__(self, "version", definition_version(self.raw))

    def __hash__(self) -> int:
        return hash((self.kind, self.code, self.version))

    def get(self, name: str) -> Property | None:
        """The property called ``name`` (its exact API name), or None."""
        return self._by_name.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)


def _slug(display_name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", display_name.lower())


def parse_definitions(
    response: Any,
    *,
    code: str | None = None,
    codes: Mapping[str, str] | None = None,
    kind: str = "source",
) -> tuple[ConnectorDefinition, ...]:
    """Parse a ``GET /sources/connectors`` (or ``/destinations/connectors``) response.

    ``kind`` is the kind of connector the response describes (the endpoint
    that served it); the definitions carry it.

    Accepted shapes: ``{"<Display Name>": [property, ...]}`` (one or several
    connectors) and ``{"<Display Name>": {"config": [property, ...], ...}}``.
    The connector code comes from ``code`` (a response for one
    ``connector_code``), else from ``codes`` (display name -> code), else from
    a ``connector_code`` field in the object shape, else from the display name
    (lower case, letters and digits only).
    """
    if not isinstance(response, Mapping) or not response:
        raise DefinitionError(code, None, "expected a non-empty object keyed by display name")
    if code is not None and len(response) != 1:
        raise DefinitionError(
            code, None, f"expected one connector for connector_code, got {len(response)}"
        )
    result = []
    seen: set[str] = set()
    for display_name, body in response.items():
        if not isinstance(display_name, str) or not display_name:
            raise DefinitionError(code, None, "a display name must be a non-empty string")
        props_raw = body
        found_code = code
        if isinstance(body, Mapping):
            props_raw = body.get("config", body.get("properties"))
            if found_code is None and isinstance(body.get("connector_code"), str):
                found_code = body["connector_code"]
        if found_code is None and codes is not None:
            found_code = codes.get(display_name)
        if found_code is None:
            found_code = _slug(display_name)
        if not isinstance(props_raw, list):
            raise DefinitionError(
                display_name, None, "expected a list of properties (or an object with 'config')"
            )
        if len(props_raw) > MAX_PROPERTIES:
            raise DefinitionError(
                display_name,
                None,
                f"{len(props_raw):,} properties, over the limit of {MAX_PROPERTIES:,}",
            )
        if found_code in seen:
            raise DefinitionError(display_name, None, f"connector code {found_code!r} repeated")
        seen.add(found_code)
        props = tuple(_parse_property(display_name, i, p) for i, p in enumerate(props_raw))
        _check_properties(display_name, props)
        result.append(
            ConnectorDefinition(
                code=found_code,
                display_name=display_name,
                properties=props,
                raw={display_name: props_raw},
                kind=kind,
            )
        )
    return tuple(result)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_property(connector: str, index: int, raw: Any) -> Property:
    def fail(reason: str) -> DefinitionError:
        return DefinitionError(connector, index, reason)

    if not isinstance(raw, Mapping):
        raise fail(f"expected an object, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("'name' must be a non-empty string")
    value = raw.get("value", {})
    if not isinstance(value, Mapping):
        raise fail(f"{name}: 'value' must be an object")
    control_raw = value.get("control", raw.get("control"))
    if not isinstance(control_raw, str):
        raise fail(f"{name}: 'value.control' is missing")
    control = CONTROLS.get(control_raw.strip().lower())
    if control is None:
        raise fail(
            f"{name}: unknown control {control_raw!r} (known: {', '.join(sorted(CONTROLS))})"
        )
    kind = _KIND_OF_CONTROL[control]

    def flag(mapping: Mapping[str, Any], key: str, default: bool) -> bool:
        v = mapping.get(key, default)
        if v is None:
            return default
        if not isinstance(v, bool):
            raise fail(f"{name}: {key!r} must be a boolean, got {type(v).__name__}")
        return v

    def text(key: str) -> str:
        v = raw.get(key)
        if v is None:
            return ""
        if not isinstance(v, str):
            raise fail(f"{name}: {key!r} must be a string")
        return v

    raw_values: tuple[Any, ...] | None = None
    if value.get("raw_values") is not None:
        rv = value["raw_values"]
        if kind not in ("enum", "array"):
            raise fail(f"{name}: 'raw_values' given for control {control!r}, which is not a select")
        if not isinstance(rv, list) or not rv:
            raise fail(f"{name}: 'raw_values' must be a non-empty list")
        if not all(isinstance(v, (str, int, float, bool)) for v in rv):
            raise fail(f"{name}: 'raw_values' must hold only scalars")
        if len({json.dumps(v) for v in rv}) != len(rv):
            raise fail(f"{name}: 'raw_values' has repeated values")
        raw_values = tuple(rv)
    elif kind == "enum":
        raise fail(f"{name}: a {control!r} control needs 'raw_values'")

    bounds: dict[str, int | float | None] = {}
    for key in ("min", "max", "step"):
        v = value.get(key)
        if v is not None and not _is_number(v):
            raise fail(f"{name}: 'value.{key}' must be a number")
        if v is not None and kind != "integer":
            raise fail(f"{name}: 'value.{key}' given for control {control!r}, which is not numeric")
        bounds[key] = v
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise fail(f"{name}: 'value.min' is greater than 'value.max'")

    default = _normalise_default(value.get("default"), kind, fail, name)

    conditions_raw = raw.get("conditions") or []
    if not isinstance(conditions_raw, list):
        raise fail(f"{name}: 'conditions' must be a list")
    conditions = []
    for c in conditions_raw:
        if not isinstance(c, Mapping):
            raise fail(f"{name}: a condition must be an object")
        op = c.get("operator")
        if op not in OPERATORS:
            raise fail(f"{name}: condition operator must be one of EQ, NE, IN; got {op!r}")
        gate = c.get("config")
        if not isinstance(gate, str) or not gate:
            raise fail(f"{name}: condition 'config' must name a key")
        if "value" not in c:
            raise fail(f"{name}: condition on {gate!r} has no 'value'")
        cvalue = c["value"]
        if op == "IN":
            if not isinstance(cvalue, list) or not cvalue:
                raise fail(f"{name}: an IN condition needs a non-empty list 'value'")
            cvalue = tuple(cvalue)
        conditions.append(Condition(operator=op, config=gate, value=cvalue))

    aliases = raw.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
        raise fail(f"{name}: 'aliases' must be a list of names")
    tf = raw.get("terraform_attribute")
    if tf is not None and (not isinstance(tf, str) or not tf):
        raise fail(f"{name}: 'terraform_attribute' must be a non-empty string")
    tab = raw.get("tab")
    value_type = value.get("type", "raw")
    tf_type = raw.get("terraform_type")
    map_of = _MAP_VALUES.get(tf_type) if isinstance(tf_type, str) else None
    if map_of is not None and kind != "string":
        raise fail(f"{name}: a map-valued property needs a text control, not {control!r}")

    return Property(
        name=name,
        control=control,
        display_name=text("display_name") or name,
        description=text("description"),
        required=flag(raw, "required", False),
        user_defined=flag(raw, "user_defined", True),
        value_type=value_type if isinstance(value_type, str) else "raw",
        default=default,
        raw_values=raw_values,
        minimum=bounds["min"],
        maximum=bounds["max"],
        step=bounds["step"],
        readonly=flag(value, "readonly", False),
        tab=tab if isinstance(tab, str) else None,
        conditions=tuple(conditions),
        encrypt=flag(raw, "encrypt", False),
        set_once=flag(raw, "set_once", False),
        terraform_attribute=tf,
        aliases=tuple(aliases),
        map_of=map_of,
        json_string=flag(raw, "json_string", False),
    )


def _normalise_default(default: Any, kind: Kind, fail: Any, name: str) -> Any:
    # The API serves some numeric and boolean defaults as strings ("5432", "true").
    if default is None:
        return None
    if kind == "integer":
        if isinstance(default, str) and re.fullmatch(r"[-+]?\d+", default.strip()):
            return int(default)
        if isinstance(default, float) and default.is_integer():
            return int(default)
        if isinstance(default, int) and not isinstance(default, bool):
            return default
        raise fail(f"{name}: default {default!r} is not an integer")
    if kind == "boolean":
        if isinstance(default, bool):
            return default
        if isinstance(default, str) and default.lower() in ("true", "false"):
            return default.lower() == "true"
        raise fail(f"{name}: default {default!r} is not a boolean")
    if kind == "array":
        if isinstance(default, str):
            return [s.strip() for s in default.split(",") if s.strip()]
        if isinstance(default, list) and all(isinstance(s, str) for s in default):
            return list(default)
        raise fail(f"{name}: default {default!r} is not a list of strings")
    if kind == "string" and not isinstance(default, str):
        raise fail(f"{name}: default {default!r} is not a string")
    return default


def _check_properties(connector: str, props: Sequence[Property]) -> None:
    names: dict[str, int] = {}
    for i, p in enumerate(props):
        if p.name in names:
            raise DefinitionError(
                connector, i, f"duplicate property name {p.name!r} (first at #{names[p.name]})"
            )
        names[p.name] = i
    for i, p in enumerate(props):
        for c in p.conditions:
            if c.config not in names:
                raise DefinitionError(
                    connector, i, f"{p.name}: condition refers to unknown key {c.config!r}"
                )
            if c.config == p.name:
                raise DefinitionError(connector, i, f"{p.name}: condition refers to itself")
