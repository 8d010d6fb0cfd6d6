"""streamkap-config: check Streamkap configurations (sources, destinations,
transforms) before they reach the API, and build the validated request bodies.

>>> from streamkap_config import validate_document
>>> result = validate_document({"name": "orders", "connector": "postgresql",
...                             "config": {"database": {"hostname": "db"}}})
>>> result.ok
False

Names are imported lazily so that ``import streamkap_config`` stays cheap: the
command line runs on every commit.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import __version__ as __version__

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
    "Document": "document",
    "SourceDocument": "document",
    "Kind": "kinds",
    "KINDS": "kinds",
    "SchemaVersion": "bundle",
    "bundled_schemas": "bundle",
    "Issue": "issues",
    "SchemaSource": "validate",
    "ValidationResult": "validate",
    "validate_document": "validate",
    "validate_source": "validate",
    "validate_destination": "validate",
    "validate_transform": "validate",
    "validate_pipeline": "validate",
    "validate_project": "project",
    "ProjectResult": "project",
    "CreatePipelineRequest": "payload",
    "Body": "payload",
    "CreateSourceRequest": "payload",
    "CreateDestinationRequest": "payload",
    "CreateTransformRequest": "payload",
    "build_payload": "payload",
    "LockFile": "lockfile",
    "SchemaCache": "cache",
    "StreamkapClient": "client",
    "LoadedFile": "loaders",
    "load_file": "loaders",
    "load_text": "loaders",
}

__all__ = [
    "KINDS",
    "ApiError",
    "Body",
    "CacheError",
    "Condition",
    "ConfigValidationError",
    "ConnectorDefinition",
    "CreateDestinationRequest",
    "CreatePipelineRequest",
    "CreateSourceRequest",
    "CreateTransformRequest",
    "DefinitionError",
    "Document",
    "Issue",
    "Kind",
    "LoadError",
    "LoadedFile",
    "LockFile",
    "ProjectResult",
    "Property",
    "SchemaCache",
    "SchemaSource",
    "SchemaUnavailableError",
    "SchemaVersion",
    "SourceDocument",
    "StreamkapClient",
    "StreamkapConfigError",
    "ValidationResult",
    "build_payload",
    "bundled_schemas",
    "load_file",
    "load_text",
    "parse_definitions",
    "validate_destination",
    "validate_document",
    "validate_pipeline",
    "validate_project",
    "validate_source",
    "validate_transform",
]

if TYPE_CHECKING:
    from .bundle import SchemaVersion, bundled_schemas
    from .cache import SchemaCache
    from .client import StreamkapClient
    from .definitions import Condition, ConnectorDefinition, Property, parse_definitions
    from .document import Document, SourceDocument
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
    from .kinds import KINDS, Kind
    from .loaders import LoadedFile, load_file, load_text
    from .lockfile import LockFile
    from .payload import (
        Body,
        CreateDestinationRequest,
        CreatePipelineRequest,
        CreateSourceRequest,
        CreateTransformRequest,
        build_payload,
    )
    from .project import ProjectResult, validate_project
    from .validate import (
        SchemaSource,
        ValidationResult,
        validate_destination,
        validate_document,
        validate_pipeline,
        validate_source,
        validate_transform,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'streamkap_config' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
