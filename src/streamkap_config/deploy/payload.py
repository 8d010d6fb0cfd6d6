"""Building the request bodies to send from documents: references resolved, pipelines
wired with the ids of what they join (the models are in :mod:`streamkap_config.validation.bodies`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from pydantic import ValidationError

from ..core.document import Tokens
from ..core.errors import ConfigValidationError
from ..core.issues import Collector, Issue
from ..core.kinds import PIPELINE
from ..core.refs import (
    EnvReader,
    Variables,
    has_escape_or_reference,
    has_reference,
    reference_names,
    resolve,
)
from ..validation.bodies import (
    MASK,
    MODELS,
    AutoDiscoveryTransform,
    Body,
    CreateDestinationRequest,
    CreatePipelineRequest,
    CreateSourceRequest,
    CreateTransformRequest,
    PipelineTransform,
    make_body,
)
from ..validation.checks import Checker
from ..validation.result import Mode, SchemaSource, ValidationResult, as_document
from ..validation.validate import validate_document

if TYPE_CHECKING:
    from ..core.document import Document
    from ..project.validate import ProjectResult

__all__ = [
    "MASK",
    "MODELS",
    "AutoDiscoveryTransform",
    "Body",
    "CreateDestinationRequest",
    "CreatePipelineRequest",
    "CreateSourceRequest",
    "CreateTransformRequest",
    "PipelineTransform",
    "build_payload",
    "make_body",
]


def _resolve_references(
    run: Collector,
    body: Mapping[str, Any],
    checker: Checker,
    where: Mapping[str, Tokens],
    lookup: EnvReader,
    variables: Variables | None = None,
    may_be_unset: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """Resolve every reference and escape in a checked body.

    Returns the body, the config keys and the envelope fields whose values
    came (in part) from the environment: they are masked like secrets.
    A resolved value gets the check its key's type asks for, without ever
    quoting it (the environment may hold anything), and leniently even in strict
    mode: the environment only holds text, so ``5432`` from ``${env:PORT}`` is
    the integer its key asks for.
    """

    def one(value: Any, tokens: Tokens, key: str | None) -> tuple[Any, bool]:
        if value.__class__ is list:
            items = [one(v, (*tokens, str(n)), key) for n, v in enumerate(value)]
            return [v for v, _ in items], any(e for _, e in items)
        if value.__class__ is not str or "${" not in value:
            return value, False
        text, missing = resolve(value, lookup, variables)
        if key in may_be_unset:
            missing = []  # a secret a plan does not need
        for name in dict.fromkeys(missing):
            if name.startswith("var:"):
                name = name[4:]
                where = variables.environment if variables is not None else None
                if where is None:
                    message = f"variable {name} has no value: no environment is selected"
                    hint = "pick one with --env NAME (environments are in streamkap.toml)"
                else:
                    message = f"variable {name} is not defined for environment {where}"
                    hint = f"add {name} under [environments.{where}.variables] in streamkap.toml"
                run.add("unresolved-variable", "error", tokens, message, key=key, hint=hint)
                continue
            if lookup.allows(name):
                message, hint = f"environment variable {name} is not set", f"export {name}"
            else:
                message = f"environment variable {name} may not be read"
                hint = "only variables matching --allow-env / STREAMKAP_ALLOW_ENV are read"
            run.add("unresolved-secret", "error", tokens, message, key=key, hint=hint)
        return text, bool(reference_names(value)) and not missing

    config: dict[str, Any] = {}
    from_env: set[str] = set()
    for key, value in body["config"].items():
        if not has_escape_or_reference(value):
            config[key] = value
            continue
        tokens = where.get(key, ("config",))
        resolved, came_from_env = one(value, tokens, key)
        if has_reference(value):
            from_env.add(key)
        if came_from_env:
            resolved, problem = checker.hidden_check(key)(resolved, False)
            if problem is not None:
                pcode, text, hint = problem
                text += " (the value of its reference)"
                run.add(pcode, "error", tokens, text, key=key, hint=hint, secret=True)
        config[key] = resolved
    out: dict[str, Any] = {}
    env_fields: set[str] = set()
    for name, value in body.items():
        if name == "config":
            out[name] = config
            continue
        resolved, _ = one(value, (name,), None)
        out[name] = resolved
        if has_reference(value):
            env_fields.add(name)
    return out, frozenset(from_env), frozenset(env_fields)


P = ParamSpec("P")
R = TypeVar("R")


def _about_the_document(build: Callable[P, R]) -> Callable[P, R]:
    """Issues ``build`` raises say whose they are: the document's kind and path."""

    @functools.wraps(build)
    def said(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return build(*args, **kwargs)
        except ConfigValidationError as exc:
            if exc.path is not None:
                raise
            doc = as_document(args[0] if args else kwargs["document"])
            kind = kwargs.get("kind")
            raise exc.about(
                kind if isinstance(kind, str) else doc.declared_kind, doc.path
            ) from None

    return said


@_about_the_document
def build_payload(
    document: Any,
    *,
    kind: str | None = None,
    mode: Mode = "create",
    strict: bool = False,
    schemas: SchemaSource | None = None,
    connector: str | None = None,
    no_plaintext_secrets: bool = False,
    include_defaults: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
    project: ProjectResult | None = None,
    ids: Mapping[str, str] | None = None,
    topic_ids: Mapping[tuple[str, str], str] | None = None,
    variables: Variables | None = None,
    unset_secrets: bool = False,
) -> Any:
    """Validate ``document`` and return the request body of its kind, ready to send.

    The model is :class:`CreateSourceRequest`, :class:`CreateDestinationRequest`
    or :class:`CreateTransformRequest`. Every ``${env:NAME}`` reference, in
    any string value, is resolved from ``environ`` (default: ``os.environ``),
    limited to the names matching the ``allow_env`` glob patterns (default:
    all); ``$${`` becomes ``${``. A variable that is not set is
    ``unresolved-secret``. Every ``${var:NAME}`` is resolved from ``variables``
    (an environment's, from ``streamkap.toml``; default: the environment of
    ``project``, if any); one not defined is ``unresolved-variable``. A
    resolved value that does not fit its key's type
    is a ``type`` (or ``enum``, ``range``) error. Values that came from the
    environment are masked in the model's ``repr`` and
    :meth:`Body.masked_dump`, like secrets. A map-valued key that the API
    takes as JSON text (``json_string``) is sent JSON-encoded.
    ``include_defaults`` adds every default the user did not set. A pipeline
    gives :class:`CreatePipelineRequest`: the ids, names and connectors of what
    it joins come from its references, from ``ids`` (``{"source/NAME": ID}``)
    and from ``project`` (a :class:`~streamkap_config.ProjectResult` holding
    the documents it names). Its ``transforms`` are one entry per (transform,
    topic), a transform without ``topics`` acting on every topic of the
    pipeline; ``topic_ids`` maps ``(transform id, topic)`` to a deployed
    transform's own topic id (else ``source_<source id>.<topic>``).
    ``unset_secrets`` lets a secret's reference stay unresolved (its value
    left empty): what a plan needs, which compares no secret and sends nothing.
    Raises :class:`~streamkap_config.ConfigValidationError` with every issue
    (and the document's kind and path) when the document is invalid.

    >>> body = build_payload({"name": "t", "connector": "kafkadirect", "config": {
    ...     "topic": {"prefix": "src_", "include.list": "orders"}, "kafka_format": "json"}})
    >>> body.config
    {'topic.prefix': 'src_', 'topic.include.list.user.defined': 'orders', 'format': 'json'}
    """
    doc = as_document(document)
    # The project validated this very document: its result holds the cross issues too.
    known = _known_result(project, doc) if project is not None and kind is None else None
    result = (
        known
        if known is not None
        else validate_document(
            doc,
            kind=kind,
            mode=mode,
            strict=strict,
            schemas=schemas,
            connector=connector,
            no_plaintext_secrets=no_plaintext_secrets,
        )
    )
    if result.kind == PIPELINE:
        return _from_result(doc, result, project, ids, topic_ids)
    if not result.ok or result._body is None or result._checker is None:
        if result.ok:
            text = "(document): a payload needs a whole body (name, connector and config)"
            raise ConfigValidationError([Issue("envelope", "error", text)])
        raise ConfigValidationError(result.issues)
    checker = result._checker
    body = dict(result._body)
    if include_defaults:
        body["config"] = {**checker.payload_defaults, **body["config"]}
    run = Collector(doc)
    lookup = EnvReader(os.environ if environ is None else environ, allow_env)
    if variables is None and project is not None:
        variables = project.variables
    body, env_keys, env_fields = _resolve_references(
        run,
        body,
        checker,
        result._where,
        lookup,
        variables,
        checker.secret_keys if unset_secrets else frozenset(),
    )
    if run.issues:
        raise ConfigValidationError(Collector.merge(run.sorted(), result.issues))
    for key in checker.json_string_keys & body["config"].keys():
        body["config"][key] = json.dumps(body["config"][key], ensure_ascii=False)
    payload = make_body(result.kind, body, checker.secret_keys | env_keys)
    return payload.with_masked_fields(env_fields)


def _known_result(project: ProjectResult, doc: Document) -> ValidationResult | None:
    for report in project.project:
        for known, result in report.documents:
            if known is doc:
                return result
    return None


def _from_result(
    doc: Document,
    result: ValidationResult,
    project: ProjectResult | None,
    ids: Mapping[str, str] | None,
    topic_ids: Mapping[tuple[str, str], str] | None = None,
) -> Any:
    """The CreatePipeline body of a validated pipeline, or every issue in the way."""
    from ..remote.resources import source_topic_id
    from ..validation.pipelines import references

    if not result.ok or result._body is None:
        raise ConfigValidationError(result.issues)
    data = result._body
    run = Collector(doc)
    parts: dict[str, Any] = {"source": None, "destination": None}
    attached: list[tuple[Any, dict[str, Any]]] = []  # (reference, {id, name})
    discovery: list[dict[str, Any]] = []
    for ref in references(data):
        target = project.find(ref.kind, ref.name) if project and ref.name else None
        ident = ref.id or (ids or {}).get(f"{ref.kind}/{ref.name}")
        if ident is None:
            run.add(
                "envelope",
                "error",
                ref.tokens,
                f'{ref.kind} "{ref.name}" has no id: a pipeline is sent with the ids of what '
                "it joins",
                hint=f"write id: in the reference, or pass --id {ref.kind}/{ref.name}=ID",
                at_key=True,
            )
            continue
        if ref.auto_discovery:
            discovery.append({"transform_id": ident, "regex": ref.regex})
            continue
        name = ref.name
        if name is None:
            run.add(
                "envelope",
                "error",
                ref.tokens,
                f"the {ref.kind} reference needs its name",
                at_key=True,
            )
            continue
        entry: dict[str, Any] = {"id": ident, "name": name}
        if ref.kind == "transform":
            attached.append((ref, entry))
            continue
        connector = ref.connector or (target.connector if target is not None else None)
        if connector is None:
            run.add(
                "envelope",
                "error",
                ref.tokens,
                f'{ref.kind} "{name}" is not in the project: its connector is not known',
                hint="write connector: in the reference",
                at_key=True,
            )
            continue
        entry["connector"] = connector
        if ref.kind == "source":
            entry["topics"] = list(ref.topics)
        parts[ref.kind] = entry
    if run.issues:
        raise ConfigValidationError(run.sorted())
    source = parts["source"]
    transforms = []
    for ref, entry in attached:
        for topic in ref.topics or source["topics"]:  # no topics: every topic of the pipeline
            own = (topic_ids or {}).get((entry["id"], topic))
            transforms.append(
                {**entry, "topic_id": own or source_topic_id(source["id"], topic), "topic": topic}
            )
    body = {
        "name": data["name"],
        **parts,
        "transforms": transforms,
        "topic_auto_discovery_transforms": discovery,
        "snapshot_new_tables": bool(data.get("snapshot_new_tables")),
    }
    if data.get("tags") is not None:
        body["tags"] = data["tags"]
    try:
        return CreatePipelineRequest.model_validate(body)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        text = f"(document): not a valid CreatePipeline body: {fields}"
        raise ConfigValidationError([Issue("envelope", "error", text)]) from None
