"""streamkap-config: check Streamkap source-connector configurations before they
reach the API, and build the validated ``POST /sources`` request body.

>>> from streamkap_config import validate_source
>>> result = validate_source({"name": "orders", "connector": "postgresql",
...                           "config": {"database": {"hostname": "db"}}})
>>> result.ok
False

Names are imported lazily so that ``import streamkap_config`` stays cheap: the
command line runs on every commit.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "ApiError": "errors",
    "CacheError": "errors",
    "ConfigValidationError": "errors",
    "DefinitionError": "errors",
    "LoadError": "errors",
    "SchemaUnavailableError": "errors",
    "StreamkapConfigError": "errors",
    "Condition": "definitions",
    "ConnectorDefinition": "definitions",
    "Property": "definitions",
    "parse_definitions": "definitions",
    "SchemaVersion": "bundle",
    "bundled_schemas": "bundle",
    "Issue": "issues",
    "ValidationResult": "validate",
    "validate_source": "validate",
    "build_payload": "validate",
    "CreateSourceRequest": "payload",
    "SchemaCache": "cache",
    "load_file": "loaders",
}

__all__ = [
    "ApiError",
    "CacheError",
    "Condition",
    "ConfigValidationError",
    "ConnectorDefinition",
    "CreateSourceRequest",
    "DefinitionError",
    "Issue",
    "LoadError",
    "Property",
    "SchemaCache",
    "SchemaUnavailableError",
    "SchemaVersion",
    "StreamkapConfigError",
    "ValidationResult",
    "build_payload",
    "bundled_schemas",
    "load_file",
    "parse_definitions",
    "validate_source",
]

if TYPE_CHECKING:
    from .bundle import SchemaVersion, bundled_schemas
    from .cache import SchemaCache
    from .definitions import Condition, ConnectorDefinition, Property, parse_definitions
    from .errors import (
        ApiError,
        CacheError,
        ConfigValidationError,
        DefinitionError,
        LoadError,
        SchemaUnavailableError,
        StreamkapConfigError,
    )
    from .issues import Issue
    from .loaders import load_file
    from .payload import CreateSourceRequest
    from .validate import ValidationResult, build_payload, validate_source


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streamkap_config' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
