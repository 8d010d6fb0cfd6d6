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

from .core.version import __version__ as __version__

_EXPORTS = {
    "ApiError": "core.errors",
    "CacheError": "core.errors",
    "ConfigValidationError": "core.errors",
    "DefinitionError": "core.errors",
    "LoadError": "core.errors",
    "SchemaUnavailableError": "core.errors",
    "StreamkapConfigError": "core.errors",
    "Condition": "schemas.definitions",
    "ConnectorDefinition": "schemas.definitions",
    "Property": "schemas.definitions",
    "parse_definitions": "schemas.definitions",
    "Document": "core.document",
    "SourceDocument": "core.document",
    "Kind": "core.kinds",
    "KINDS": "core.kinds",
    "SchemaVersion": "schemas.bundle",
    "bundled_schemas": "schemas.bundle",
    "Issue": "core.issues",
    "SchemaSource": "validation.validate",
    "ValidationResult": "validation.validate",
    "validate_document": "validation.validate",
    "validate_source": "validation.validate",
    "validate_destination": "validation.validate",
    "validate_transform": "validation.validate",
    "validate_pipeline": "validation.validate",
    "validate_project": "project.validate",
    "ProjectResult": "project.validate",
    "CreatePipelineRequest": "validation.bodies",
    "Body": "validation.bodies",
    "CreateSourceRequest": "validation.bodies",
    "CreateDestinationRequest": "validation.bodies",
    "CreateTransformRequest": "validation.bodies",
    "build_payload": "deploy.payload",
    "LockFile": "schemas.lockfile",
    "SchemaCache": "schemas.cache",
    "StreamkapClient": "remote.client",
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
    from .core.document import Document, SourceDocument
    from .core.errors import (
        ApiError,
        CacheError,
        ConfigValidationError,
        DefinitionError,
        LoadError,
        SchemaUnavailableError,
        StreamkapConfigError,
    )
    from .core.issues import Issue
    from .core.kinds import KINDS, Kind
    from .deploy.payload import (
        Body,
        CreateDestinationRequest,
        CreatePipelineRequest,
        CreateSourceRequest,
        CreateTransformRequest,
        build_payload,
    )
    from .loaders import LoadedFile, load_file, load_text
    from .project.validate import ProjectResult, validate_project
    from .remote.client import StreamkapClient
    from .schemas.bundle import SchemaVersion, bundled_schemas
    from .schemas.cache import SchemaCache
    from .schemas.definitions import Condition, ConnectorDefinition, Property, parse_definitions
    from .schemas.lockfile import LockFile
    from .validation.validate import (
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
