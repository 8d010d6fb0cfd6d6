"""Validate a document of any kind (source, destination, transform) and report every issue.

>>> from streamkap_config import validate_document
>>> result = validate_document({
...     "name": "orders", "connector": "postgresql",
...     "config": {"database": {"hostname": "db.internal", "port": "abc"}}})
>>> [i.code for i in result.issues][:2]
['type', 'required']
>>> validate_document({"kind": "destination", "name": "w", "connector": "snowflake",
...                    "config": {}}).kind
'destination'

A kind is data (:mod:`streamkap_config.core.kinds`): the same steps check every
kind. Per schema version the definition is compiled once into a
:class:`~streamkap_config.validation.checks.Checker`; a document then costs one pass over
its keys. The generated JSON Schema says the same thing as the checker (a
property test holds them to it); the checker exists because it is several
times faster and gives positioned, readable issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.document import Document, Tokens
from ..core.errors import SchemaUnavailableError
from ..core.facts import CREATED_FROM, DESIRED_STATES
from ..core.hints import did_you_mean
from ..core.issues import Collector, describe_value
from ..core.kinds import KIND_NAMES, KINDS, PIPELINE, Kind
from .checks import Checker
from .configs import check_config
from .result import Mode, SchemaSource, ValidationResult, as_document, check_name_is_literal

if TYPE_CHECKING:
    pass

__all__ = [
    "Mode",
    "SchemaSource",
    "ValidationResult",
    "suggest_connectors",
    "validate_destination",
    "validate_document",
    "validate_pipeline",
    "validate_source",
    "validate_transform",
]

_CODE_FIELDS = frozenset(k.code_field for k in KINDS.values())


def _schemas_of(schemas: SchemaSource | None, kind: str) -> SchemaSource:
    if schemas is None:
        from ..schemas.bundle import bundled_schemas

        return bundled_schemas(kind)
    for_kind = getattr(schemas, "for_kind", None)
    return for_kind(kind) if for_kind is not None else schemas


def suggest_connectors(code: str, known: Iterable[str]) -> list[str]:
    """The known connector codes closest to ``code`` (same letters first).

    >>> suggest_connectors("postgres", ["mysql", "postgresql"])
    ['postgresql']
    """
    import difflib

    known = list(known)
    lowered = [k for k in known if k.lower() == code.lower().replace(" ", "")]
    return lowered or difflib.get_close_matches(code, known, n=3, cutoff=0.5)


def validate_document(
    document: Any,
    *,
    kind: str | None = None,
    mode: Mode = "create",
    strict: bool = False,
    schemas: SchemaSource | None = None,
    connector: str | None = None,
    no_plaintext_secrets: bool = False,
) -> ValidationResult:
    """Check a document of any kind and report every issue at once.

    ``document`` is a mapping (the body as the user wrote it, with an
    optional ``kind``: ``source`` when absent) or a
    :class:`~streamkap_config.Document` loaded from a file (then issues carry
    line and column). ``kind`` fixes the kind (a document that declares
    another is ``kind-mismatch``). ``mode="update"`` checks a PUT body: absent
    keys are not required and set-once keys may not appear. ``strict`` turns
    off lenient normalisation (numeric strings, ``"true"``, comma-separated
    lists). ``schemas`` is any :class:`SchemaSource` (default: the bundled
    snapshot). ``connector`` names the connector (transform type) of a bare
    config mapping; a document naming another is an ``envelope`` error.
    """
    doc = as_document(document)
    run = Collector(doc)
    run.issues.extend(doc.issues)
    data = doc.data
    if doc.bare:
        spec = KINDS.get(kind or doc.kind or "source", KINDS["source"])
        if not isinstance(data, Mapping):
            run.add(
                "envelope",
                "error",
                (),
                f"expected a mapping of config keys, got {describe_value(data)}",
            )
            return _result(run, spec.name, connector or doc.connector)
        return _validate(
            run,
            doc,
            spec,
            {},
            data,
            (),
            connector or doc.connector,
            mode,
            strict,
            schemas,
            no_plaintext_secrets,
        )
    if not isinstance(data, Mapping):
        run.add(
            "envelope",
            "error",
            (),
            f"expected a mapping with name, connector and config, got {describe_value(data)}",
        )
        return _result(run, kind or doc.kind or "source", connector)
    name = _kind_of(run, data, kind or doc.kind)
    if name == PIPELINE:
        from .pipelines import check_pipeline

        return check_pipeline(run, data)
    spec = KINDS[name]
    code = _check_envelope(run, spec, data, connector, mode)
    return _validate(
        run,
        doc,
        spec,
        data,
        data.get("config"),
        ("config",),
        code,
        mode,
        strict,
        schemas,
        no_plaintext_secrets,
    )


def _validate(
    run: Collector,
    doc: Document,
    spec: Kind,
    envelope: Mapping[str, Any],
    config: Any,
    config_tokens: Tokens,
    code: str | None,
    mode: Mode,
    strict: bool,
    schemas: SchemaSource | None,
    no_plaintext_secrets: bool,
) -> ValidationResult:
    if code is None:
        return _result(run, spec.name, code)
    code_tokens: Tokens = () if doc.bare else (spec.code_field,)
    try:
        schema_version = _schemas_of(schemas, spec.name).get(code)
    except SchemaUnavailableError as exc:
        run.add("schema-unavailable", "error", code_tokens, str(exc))
        return _result(run, spec.name, code)
    if schema_version is None:
        _unknown_code(run, spec, code, code_tokens, schemas)
        return _result(run, spec.name, code)
    if not isinstance(config, Mapping):
        return _result(run, spec.name, code)
    checker = Checker.for_definition(schema_version.definition)
    readable, where = check_config(
        run, checker, config, config_tokens, mode, strict, no_plaintext_secrets
    )
    _check_include_lists(run, readable, where)  # also while other keys have errors
    body: dict[str, Any] | None = None  # kept by the result only when no issue is an error
    if not doc.bare:
        body = {k: envelope[k] for k in spec.envelope_fields if envelope.get(k) is not None}
        body["config"] = readable
        if "created_from" in spec.fields and "created_from" not in body:
            body["created_from"] = "api"
    return _result(run, spec.name, code, checker, body, where, readable)


def _check_include_lists(
    run: Collector, config: Mapping[str, Any], where: Mapping[str, Tokens]
) -> None:
    """Each entry of an include list must be a regular expression (Debezium refuses to
    start otherwise)."""
    from ..core.capture import INCLUDE_KEYS, parse_include_list
    from ..core.refs import has_escape_or_reference

    for key, value in config.items():
        if key.removesuffix(".user.defined") not in INCLUDE_KEYS or not isinstance(value, str):
            continue
        if has_escape_or_reference(value):
            continue  # read from the environment: checked when it is known
        for entry, why in parse_include_list(value, key).errors:
            shown = entry if len(entry) <= 60 else entry[:57] + "..."
            run.add(
                "type",
                "error",
                where.get(key, ("config",)),
                f'include-list entry "{shown}" is not a regular expression: {why}',
                key=key,
                hint="the connector would refuse to start; escape a literal character "
                "with a backslash (public\\.orders)",
            )


def _kind_of(run: Collector, data: Mapping[str, Any], given: str | None) -> str:
    """The document's kind: as given (a list, --kind), else as declared, else source."""
    declared = data.get("kind")
    if "kind" in data and declared not in KIND_NAMES:
        run.add(
            "envelope",
            "error",
            ("kind",),
            f"{describe_value(declared)} is not a kind (one of {', '.join(KIND_NAMES)})",
            hint=did_you_mean(declared, KIND_NAMES),
        )
        declared = None
    if given is not None and declared is not None and declared != given:
        run.add(
            "kind-mismatch",
            "error",
            ("kind",),
            f"the document says kind: {declared}, but it stands where a {given} belongs",
            hint=f"move it under {declared}s:, or remove kind:",
        )
    return str(given or declared or "source")


def _unknown_code(
    run: Collector,
    spec: Kind,
    code: str,
    tokens: Tokens,
    schemas: SchemaSource | None,
) -> None:
    for other in KINDS.values():
        if other is spec:
            continue
        try:
            found = _schemas_of(schemas, other.name).get(code)
        except SchemaUnavailableError:
            found = None
        if found is not None and found.definition.kind == other.name:
            field_hint = (
                f" and write {other.code_field}: {code}"
                if other.code_field != spec.code_field
                else ""
            )
            run.add(
                "kind-mismatch",
                "error",
                tokens,
                f"{code} is a {other.label}, not a {spec.label}",
                hint=f"set kind: {other.name}{field_hint}",
            )
            return
    near = suggest_connectors(code, _schemas_of(schemas, spec.name))
    run.add(
        "unknown-connector",
        "error",
        tokens,
        f'unknown {spec.label} "{code}"',
        hint=f"known {spec.label}s include: {', '.join(near)}" if near else None,
    )


def _result(
    run: Collector,
    kind: str,
    code: str | None,
    checker: Checker | None = None,
    body: dict[str, Any] | None = None,
    where: Mapping[str, Tokens] | None = None,
    config: Mapping[str, Any] | None = None,
) -> ValidationResult:
    issues = run.sorted()
    ok = not any(i.severity == "error" for i in issues)
    version = checker.definition.version if checker else None
    return ValidationResult(
        ok, issues, code, version, kind, body if ok else None, checker, where or {}, config
    )


def _check_envelope(
    run: Collector, spec: Kind, data: Mapping[str, Any], override: str | None, mode: Mode
) -> str | None:
    allowed = (*spec.envelope_fields, "kind")
    for key in data:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed) or "config keys belong under config"
            if key in _CODE_FIELDS and spec.code_field != key:
                hint = f"a {spec.name} names its {spec.label} in {spec.code_field}:"
            run.add("envelope", "error", (str(key),), "unknown field", hint=hint, at_key=True)

    def missing(name: str) -> None:
        run.add("envelope", "error", (), f"missing required field {name}", at_key=True)

    name = data.get("name")
    if "name" not in data:
        if mode == "create":
            missing("name")
    elif not isinstance(name, str) or not name.strip():
        run.add(
            "envelope",
            "error",
            ("name",),
            f"expected a non-empty string, got {describe_value(name)}",
        )
    else:
        check_name_is_literal(run, name)

    code_field = spec.code_field
    code: str | None = override
    raw = data.get(code_field)
    if code_field not in data:
        if override is None:
            missing(code_field)
    elif not isinstance(raw, str) or not raw:
        run.add(
            "envelope",
            "error",
            (code_field,),
            f"expected a {spec.label} code, got {describe_value(raw)}",
        )
    elif override is None:
        code = raw
    elif raw != override:
        # Checking against one connector while the body declares another sends a lie.
        run.add(
            "envelope",
            "error",
            (code_field,),
            f'the document names {code_field} "{raw}" but "{override}" was asked for',
            hint="drop --connector, or make the two agree",
        )

    config = data.get("config")
    if "config" not in data:
        missing("config")
    elif not isinstance(config, Mapping):
        run.add(
            "envelope", "error", ("config",), f"expected a mapping, got {describe_value(config)}"
        )

    for field_name, choices in (("created_from", CREATED_FROM), ("desired_state", DESIRED_STATES)):
        value = data.get(field_name)
        if field_name in spec.fields and value is not None and value not in choices:
            run.add(
                "envelope",
                "error",
                (field_name,),
                f"{describe_value(value)} is not one of {', '.join(choices)}",
                hint=did_you_mean(value, choices),
            )
    kc = data.get("kc_cluster_id")
    if "kc_cluster_id" in spec.fields and kc is not None and (not isinstance(kc, str) or not kc):
        run.add(
            "envelope",
            "error",
            ("kc_cluster_id",),
            f"expected a cluster id string, got {describe_value(kc)}",
            hint="omit kc_cluster_id for the default Kafka Connect cluster",
        )
    tags = data.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        run.add(
            "envelope",
            "error",
            ("tags",),
            f"expected a list of tag ids, got {describe_value(tags)}",
        )
    return code


def validate_source(document: Any, **options: Any) -> ValidationResult:
    """:func:`validate_document` for a source (the same options and result)."""
    return validate_document(document, kind="source", **options)


def validate_destination(document: Any, **options: Any) -> ValidationResult:
    """:func:`validate_document` for a destination (the same options and result)."""
    return validate_document(document, kind="destination", **options)


def validate_transform(document: Any, **options: Any) -> ValidationResult:
    """:func:`validate_document` for a transform (the same options and result)."""
    return validate_document(document, kind="transform", **options)


def validate_pipeline(document: Any, **options: Any) -> ValidationResult:
    """:func:`validate_document` for a pipeline: the document alone (its references are
    checked across documents by :func:`~streamkap_config.validate_project`)."""
    return validate_document(document, kind=PIPELINE, **options)
