"""Validate a CreateSource document and build its payload.

>>> from streamkap_config import validate_source
>>> result = validate_source({
...     "name": "orders", "connector": "postgresql",
...     "config": {"database": {"hostname": "db.internal", "port": "abc"}}})
>>> [i.code for i in result.issues][:2]
['type', 'required']

Per schema version the definition is compiled once into a :class:`Checker`
(one small function per key); a document then costs one pass over its keys.
The generated JSON Schema says the same thing as the checker (a property test
holds them to it); the checker exists because it is several times faster and
gives positioned, readable issues.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

from .api import CREATED_FROM, DESIRED_STATES, ENVELOPE_FIELDS
from .definitions import ConnectorDefinition, Property
from .document import Positions, SourceDocument, Tokens
from .errors import ConfigValidationError, SchemaUnavailableError
from .issues import Issue, Severity, describe_value, pointer_label, to_pointer
from .keys import Ambiguous, KeyIndex, flatten
from .refs import (
    EnvReader,
    has_escape_or_reference,
    has_reference,
    literal_text,
    reference_names,
    resolve,
)

if TYPE_CHECKING:
    from .bundle import SchemaVersion
    from .payload import CreateSourceRequest

__all__ = [
    "Checker",
    "SchemaSource",
    "ValidationResult",
    "build_payload",
    "validate_source",
]

Mode = Literal["create", "update"]
_INT_TEXT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_QUOTE_HINT = "write the value in quotes to make it a string"
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9]{1,20}$")
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


class SchemaSource(Protocol):
    """Anything that hands out schema versions by connector code.

    A ``Mapping[str, SchemaVersion]`` (such as :func:`bundled_schemas`) or a
    :class:`~streamkap_config.SchemaCache`. ``get`` returns None for a
    connector it does not know and may raise ``SchemaUnavailableError``.
    """

    def get(self, code: str) -> SchemaVersion | None: ...

    def __iter__(self) -> Any: ...


# A key check: value -> (normalised value, None) or (None, (code, text, hint)).
Problem = tuple[str, str, str | None]
Check = Callable[[Any, bool], tuple[Any, Problem | None]]


def _near(value: str, allowed: Iterable[Any]) -> str | None:
    options = [a for a in allowed if isinstance(a, str)]
    for a in options:
        if a.lower() == value.lower():
            return a
    import difflib  # only on a miss

    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return close[0] if close else None


def _quoted(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def _listing(allowed: Iterable[Any], most: int = 8) -> str:
    values = [str(a) for a in allowed]
    if len(values) <= most:
        return ", ".join(values)
    return ", ".join(values[:most]) + f", ... ({len(values)} values)"


def _compile(prop: Property, hide: bool = False) -> Check:
    """The check of one key. ``hide``: never quote the value (as for a secret)."""
    kind = prop.kind
    secret = prop.secret or hide

    def got(value: Any) -> str:
        return describe_value(value, secret)

    if kind == "string":

        def check_string(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            if isinstance(value, str):
                return value, None
            hint = None
            if isinstance(value, (bool, int, float)) and not secret:
                hint = _QUOTE_HINT
            return None, ("type", f"expected a string, got {got(value)}", hint)

        return check_string

    if kind == "integer":
        lo, hi = prop.minimum, prop.maximum

        def check_integer(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            t = type(value)
            if t is int:
                number = value
            elif (t is float and value.is_integer()) or (
                t is str and not strict and _INT_TEXT.match(value.strip())
            ):
                number = int(value)
            else:
                hint = None
                if t is str and _INT_TEXT.match(value.strip()):
                    hint = "strict mode: write the number without quotes"
                elif t is str and not secret and _LEADING_ZERO.match(value.strip()):
                    hint = f"write {int(value)} (a number has no leading zero)"
                return None, ("type", f"expected an integer, got {got(value)}", hint)
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                shown = "the value" if secret else str(number)
                if lo is not None and hi is not None:
                    text = f"{shown} is out of range {lo}..{hi}"
                elif lo is not None:
                    text = f"{shown} is less than the minimum {lo}"
                else:
                    text = f"{shown} is greater than the maximum {hi}"
                return None, ("range", text, None)
            return number, None

        return check_integer

    if kind == "boolean":

        def check_boolean(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            if type(value) is bool:
                return value, None
            hint = None
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("true", "false"):
                    if not strict:
                        return low == "true", None
                    hint = "strict mode: write true or false without quotes"
                elif low in _YAML11_BOOLS:
                    hint = (
                        "write true or false (YAML 1.1 words like yes/no/on/off are not booleans)"
                    )
            return None, ("type", f"expected a boolean, got {got(value)}", hint)

        return check_boolean

    if kind == "enum":
        allowed = prop.raw_values or ()
        listed = _listing(allowed)

        def check_enum(value: Any, strict: bool) -> tuple[Any, Problem | None]:
            for a in allowed:
                if value == a and type(value) is type(a):
                    return value, None
            return None, ("enum", f"{got(value)} is not one of {listed}", _enum_hint(value))

        def _enum_hint(value: Any) -> str:
            # A hint that fits an enum: the nearest allowed value, else the choices.
            if isinstance(value, str) and not secret:
                near = _near(value, allowed)
                if near is not None:
                    return f'did you mean "{near}"?'
            if len(allowed) == 2:
                return f"write {_quoted(allowed[0])} or {_quoted(allowed[1])}"
            return f"write one of {listed}"

        return check_enum

    items = prop.raw_values

    def check_list(value: Any, strict: bool) -> tuple[Any, Problem | None]:
        if isinstance(value, str) and not strict:
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return None, ("type", f"expected a list of strings, got {got(value)}", None)
        if items is not None:
            for v in value:
                if v not in items:
                    near = None if secret else _near(v, items)
                    listed = _listing(items)
                    hint = f'did you mean "{near}"?' if near else f"write items from {listed}"
                    return None, ("enum", f"{got(v)} is not one of {listed}", hint)
        return value, None

    return check_list


@dataclass(frozen=True)
class Checker:
    """A connector definition compiled for fast validation."""

    definition: ConnectorDefinition
    required: tuple[Property, ...]
    conditioned: tuple[Property, ...]
    defaults: Mapping[str, Any]
    payload_defaults: Mapping[str, Any]  # what include_defaults adds: settable keys only
    index: KeyIndex
    secret_keys: frozenset[str]
    # Every accepted spelling -> (canonical key, check, secret, special) or Ambiguous.
    # ``special`` names a rule beyond the value check: "not-user-settable",
    # "readonly", "set-once" (or "" for none).
    plan: Mapping[str, tuple[str, Check, bool, str] | Ambiguous]
    # Checks that never quote the value, for values resolved from the environment.
    _hidden: dict[str, Check] = field(default_factory=dict, repr=False, compare=False)

    def hidden_check(self, key: str) -> Check:
        """The check of ``key`` that describes a bad value by its kind only."""
        found = self._hidden.get(key)
        if found is None:
            prop = self.definition.get(key)
            assert prop is not None
            found = self._hidden[key] = _compile(prop, hide=True)
        return found

    @classmethod
    def for_definition(cls, definition: ConnectorDefinition) -> Checker:
        key = (definition.code, definition.version)
        found = _CHECKERS.get(key)
        if found is None:
            props = definition.properties
            checks = {p.name: _compile(p) for p in props}
            index = KeyIndex.for_definition(definition)
            steps = {p.name: (p.name, checks[p.name], p.secret, _special_rule(p)) for p in props}
            plan: dict[str, tuple[str, Check, bool, str] | Ambiguous] = {
                spelling: target if isinstance(target, Ambiguous) else steps[target]
                for spelling, target in index.table.items()
            }
            found = _CHECKERS[key] = cls(
                definition=definition,
                required=tuple(p for p in props if p.required and p.user_defined),
                conditioned=tuple(p for p in props if p.conditions),
                defaults={p.name: p.default for p in props if p.has_default},
                payload_defaults={
                    p.name: p.default
                    for p in props
                    if p.has_default and p.user_defined and not p.readonly
                },
                index=index,
                secret_keys=frozenset(p.name for p in props if p.secret),
                plan=plan,
            )
        return found


_CHECKERS: dict[tuple[str, str], Checker] = {}


def _special_rule(prop: Property) -> str:
    if not prop.user_defined:
        return "not-user-settable"
    if prop.readonly:
        return "readonly"
    return "set-once" if prop.set_once else ""


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of :func:`validate_source`.

    ``ok`` is true when there is no error (warnings allowed). ``payload`` is the
    :class:`~streamkap_config.CreateSourceRequest` of a valid document as written
    (built on first access), else None. Its ``${env:NAME}`` references and
    ``$${`` escapes are **not** resolved: do not send it; :func:`build_payload`
    gives the body to send.
    """

    ok: bool
    issues: tuple[Issue, ...]
    connector: str | None
    schema_version: str | None
    _body: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    _checker: Checker | None = field(default=None, repr=False, compare=False)
    # Canonical key -> where the user wrote it, for issues found after validation.
    _where: Mapping[str, Tokens] = field(default_factory=dict, repr=False, compare=False)

    @property
    def _secret_keys(self) -> frozenset[str]:
        return self._checker.secret_keys if self._checker else frozenset()

    def with_issues(self, extra: Iterable[Issue]) -> ValidationResult:
        """This result with more issues (found across documents); an error makes it not ok."""
        issues = _Run.merge(self.issues, extra)
        ok = not any(i.severity == "error" for i in issues)
        return replace(self, ok=ok, issues=issues, _body=self._body if ok else None)

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def payload(self) -> CreateSourceRequest | None:
        if not self.ok or self._body is None:
            return None
        cached = self.__dict__.get("_payload")
        if cached is None:
            cached = _make_payload(self._body, self._secret_keys)
            object.__setattr__(self, "_payload", cached)
        return cached  # type: ignore[no-any-return]


def _make_payload(body: Mapping[str, Any], secret_keys: frozenset[str]) -> CreateSourceRequest:
    """The pydantic model of a checked body. Its errors never carry input values."""
    from pydantic import ValidationError

    from .payload import CreateSourceRequest

    try:
        return CreateSourceRequest.model_validate(body).with_secret_keys(secret_keys)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        issue = Issue("envelope", "error", f"(document): not a valid CreateSource body: {fields}")
        raise ConfigValidationError([issue]) from None


class _Run:
    """The state of one validation: collects issues with their positions."""

    def __init__(self, doc: SourceDocument) -> None:
        self.positions: Positions | None = doc.positions
        self.base = doc.base
        self.issues: list[Issue] = []
        self._seen: set[Issue] = set()

    def add(
        self,
        code: str,
        severity: Severity,
        tokens: Tokens,
        text: str,
        *,
        key: str | None = None,
        hint: str | None = None,
        at_key: bool = False,
        label: Tokens | None = None,
        secret: bool = False,
    ) -> None:
        full = self.base + tokens
        pointer = to_pointer(full)
        line = column = None
        if self.positions is not None:
            pos = self.positions.of_key(full) if at_key else self.positions.of_value(full)
            if pos is not None:
                line, column = pos
            if (hint is None or hint == _QUOTE_HINT) and code == "type" and not secret:
                # How a YAML reader took a bare word says more than "quote it"; it quotes
                # the word, so never for secrets, and only where the type is the problem.
                hint = self.positions.notes.get(full, hint)
        message = f"{pointer_label(tokens if label is None else label)}: {text}"
        issue = Issue(code, severity, message, key, pointer, line, column, hint)
        # The same finding reached twice is reported once; distinct findings all stay.
        if issue not in self._seen:
            self._seen.add(issue)
            self.issues.append(issue)

    @staticmethod
    def merge(*groups: Iterable[Issue]) -> tuple[Issue, ...]:
        """Issues of several runs over one document, in file order."""
        merged = [i for group in groups for i in group]
        return tuple(sorted(merged, key=lambda i: (i.line is None, i.line or 0, i.column or 0)))

    def sorted(self) -> tuple[Issue, ...]:
        order = {id(issue): n for n, issue in enumerate(self.issues)}
        return tuple(
            sorted(
                self.issues,
                key=lambda i: (
                    i.line is None,
                    i.line or 0,
                    i.column or 0,
                    order[id(i)],
                ),
            )
        )


def _as_document(document: Any) -> SourceDocument:
    if isinstance(document, SourceDocument):
        return document
    return SourceDocument(data=document)


def _lookup(schemas: Any, code: str) -> SchemaVersion | None:
    if schemas is None:
        from .bundle import bundled_schemas

        schemas = bundled_schemas()
    found = schemas.get(code)
    return found  # type: ignore[no-any-return]


def _known_codes(schemas: Any) -> list[str]:
    if schemas is None:
        from .bundle import bundled_schemas

        schemas = bundled_schemas()
    try:
        return [str(c) for c in schemas]
    except TypeError:
        return []


def suggest_connectors(code: str, known: Iterable[str]) -> list[str]:
    """The known connector codes closest to ``code`` (same letters first).

    >>> suggest_connectors("postgres", ["mysql", "postgresql"])
    ['postgresql']
    """
    import difflib

    known = list(known)
    lowered = [k for k in known if k.lower() == code.lower().replace(" ", "")]
    return lowered or difflib.get_close_matches(code, known, n=3, cutoff=0.5)


def validate_source(
    document: Any,
    *,
    mode: Mode = "create",
    strict: bool = False,
    schemas: SchemaSource | None = None,
    connector: str | None = None,
    no_plaintext_secrets: bool = False,
) -> ValidationResult:
    """Check a CreateSource document and report every issue at once.

    ``document`` is a mapping (the body as the user wrote it) or a
    :class:`~streamkap_config.document.SourceDocument` loaded from a file (then
    issues carry line and column). ``mode="update"`` checks a PUT body: absent
    keys are not required and set-once keys may not appear. ``strict`` turns
    off lenient normalisation (numeric strings, ``"true"``, comma-separated
    lists). ``schemas`` is any :class:`SchemaSource` (default: the bundled
    snapshot). ``connector`` overrides the document's connector; with a
    document whose ``bare`` flag is set it names the connector of a bare
    config mapping.
    """
    doc = _as_document(document)
    run = _Run(doc)
    for issue in doc.issues:
        run.issues.append(issue)
    data = doc.data
    code = connector or doc.connector
    if doc.bare:
        envelope: dict[str, Any] = {}
        config = data
        config_tokens: Tokens = ()
        if not isinstance(config, Mapping):
            run.add(
                "envelope",
                "error",
                (),
                f"expected a mapping of config keys, got {describe_value(config)}",
            )
            return _result(run, code)
    else:
        if not isinstance(data, Mapping):
            run.add(
                "envelope",
                "error",
                (),
                f"expected a mapping with name, connector and config, got {describe_value(data)}",
            )
            return _result(run, code)
        envelope = dict(data)
        config = data.get("config")
        config_tokens = ("config",)
        code = _check_envelope(run, data, code, mode, schemas)

    schema_version: SchemaVersion | None = None
    if code is not None:
        try:
            schema_version = _lookup(schemas, code)
        except SchemaUnavailableError as exc:
            run.add("schema-unavailable", "error", ("connector",) if not doc.bare else (), str(exc))
            return _result(run, code)
        if schema_version is None:
            near = suggest_connectors(code, _known_codes(schemas))
            hint = f"known connectors include: {', '.join(near)}" if near else None
            run.add(
                "unknown-connector",
                "error",
                () if doc.bare else ("connector",),
                f'unknown connector "{code}"',
                hint=hint,
            )
            return _result(run, code)
    if schema_version is None or not isinstance(config, Mapping):
        return _result(run, code)

    checker = Checker.for_definition(schema_version.definition)
    canonical, where = _check_config(
        run, checker, config, config_tokens, mode, strict, no_plaintext_secrets
    )
    body: dict[str, Any] | None = None
    if canonical is not None and not doc.bare:
        body = {k: envelope[k] for k in ENVELOPE_FIELDS if envelope.get(k) is not None}
        body["config"] = canonical
        if "created_from" not in body:
            body["created_from"] = "api"
    return _result(run, code, checker, body, where)


def _result(
    run: _Run,
    code: str | None,
    checker: Checker | None = None,
    body: dict[str, Any] | None = None,
    where: Mapping[str, Tokens] | None = None,
) -> ValidationResult:
    issues = run.sorted()
    ok = not any(i.severity == "error" for i in issues)
    version = checker.definition.version if checker else None
    return ValidationResult(ok, issues, code, version, body if ok else None, checker, where or {})


def _check_envelope(
    run: _Run, data: Mapping[str, Any], override: str | None, mode: Mode, schemas: Any
) -> str | None:
    for key in data:
        if key not in ENVELOPE_FIELDS:
            import difflib

            close = difflib.get_close_matches(str(key), ENVELOPE_FIELDS, n=1, cutoff=0.6)
            hint = f'did you mean "{close[0]}"?' if close else "config keys belong under config"
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

    code: str | None = override
    raw = data.get("connector")
    if "connector" not in data:
        if override is None:
            missing("connector")
    elif not isinstance(raw, str) or not raw:
        run.add(
            "envelope",
            "error",
            ("connector",),
            f"expected a connector code, got {describe_value(raw)}",
        )
    elif override is None:
        code = raw
    elif raw != override:
        # Checking against one connector while the body declares another sends a lie.
        run.add(
            "envelope",
            "error",
            ("connector",),
            f'the document names connector "{raw}" but "{override}" was asked for',
            hint="drop --connector, or make the two agree",
        )

    config = data.get("config")
    if "config" not in data:
        missing("config")
    elif not isinstance(config, Mapping):
        run.add(
            "envelope", "error", ("config",), f"expected a mapping, got {describe_value(config)}"
        )

    for field_name, allowed in (("created_from", CREATED_FROM), ("desired_state", DESIRED_STATES)):
        value = data.get(field_name)
        if value is not None and value not in allowed:
            near = _near(value, allowed) if isinstance(value, str) else None
            run.add(
                "envelope",
                "error",
                (field_name,),
                f"{describe_value(value)} is not one of {', '.join(allowed)}",
                hint=f'did you mean "{near}"?' if near else None,
            )
    kc = data.get("kc_cluster_id")
    if kc is not None and (not isinstance(kc, str) or not kc):
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


def _check_config(
    run: _Run,
    checker: Checker,
    config: Mapping[str, Any],
    base: Tokens,
    mode: Mode,
    strict: bool,
    no_plaintext_secrets: bool,
) -> tuple[dict[str, Any] | None, dict[str, Tokens]]:
    """Check every key. Returns the canonical normalised config (None on any error)
    and where each canonical key was written."""
    plan = checker.plan
    out: dict[str, Any] = {}
    given: dict[str, Any] = {}
    where: dict[str, Tokens] = {}
    failed = False
    for flat, tokens, value in flatten(config, checker.index, base):
        step = plan.get(flat)
        if step is None:
            close = checker.index.suggest(flat)
            hint = f"did you mean {', '.join(close)}?" if close else None
            run.add("unknown-key", "error", tokens, "unknown key", hint=hint, at_key=True)
            failed = True
            continue
        if step.__class__ is Ambiguous:
            run.add(
                "ambiguous-key",
                "error",
                tokens,
                f"matches several keys: {', '.join(step.candidates)}",  # type: ignore[union-attr]
                hint="write the full API name",
                at_key=True,
            )
            failed = True
            continue
        key, check, secret, special = step  # type: ignore[misc]
        if key in where:
            first = where[key]
            run.add(
                "duplicate-key",
                "error",
                tokens,
                f"sets {key} again (first set at {pointer_label(first)}, "
                f"{to_pointer(run.base + first)})",
                key=key,
                hint="keep one of the two",
                at_key=True,
            )
            failed = True
            continue
        where[key] = tokens
        given[key] = value
        if special and _special(run, checker, key, tokens, mode):
            failed = failed or special != "readonly"
            continue
        if has_reference(value):
            # Checked once the reference is resolved, when the payload is built.
            normalised = value
        else:
            normalised, problem = check(value, strict)
            if problem is not None:
                pcode, text, hint = problem
                run.add(pcode, "error", tokens, text, key=key, hint=hint, secret=secret)
                failed = True
                continue
        if secret and value.__class__ is str and literal_text(value):
            run.add(
                "plaintext-secret",
                "error" if no_plaintext_secrets else "warning",
                tokens,
                "secret written in plain text",
                key=key,
                hint="use ${env:NAME} and set NAME in the environment",
            )
            if no_plaintext_secrets:
                failed = True
        out[key] = given[key] = normalised

    if checker.conditioned or (mode == "create" and checker.required):
        # Conditions see user values over defaults (a value that failed its check as written).
        effective = {**checker.defaults, **given}
        config_pos_tokens = base
        if mode == "create":
            for prop in checker.required:
                if prop.name in out or prop.name in where:
                    continue
                if prop.conditions and not all(
                    c.holds(effective.get(c.config)) for c in prop.conditions
                ):
                    continue
                extra = ""
                if prop.conditions:
                    extra = (
                        " (required when "
                        + " and ".join(c.describe() for c in prop.conditions)
                        + ")"
                    )
                tf = (
                    f"; Terraform name {prop.terraform_attribute}"
                    if prop.terraform_attribute
                    else ""
                )
                run.add(
                    "required",
                    "error",
                    config_pos_tokens,
                    f"missing required key {prop.name}{extra}",
                    key=prop.name,
                    hint=f"{prop.display_name}{tf}",
                    at_key=True,
                    label=base or ("config",),
                )
                failed = True
        for prop in checker.conditioned:
            if prop.name not in out:
                continue
            unmet = [c for c in prop.conditions if not c.holds(effective.get(c.config))]
            if unmet:
                run.add(
                    "inactive-key",
                    "warning",
                    where[prop.name],
                    f"{prop.name} only applies when "
                    + " and ".join(c.describe() for c in prop.conditions),
                    key=prop.name,
                    hint="remove it, or set " + " and ".join(c.describe() for c in unmet),
                    at_key=True,
                )
    return (None if failed else out), where


def _special(run: _Run, checker: Checker, key: str, tokens: Tokens, mode: Mode) -> bool:
    """Not user-settable, read-only and set-once keys. True when the key is rejected."""
    prop = checker.definition.get(key)
    assert prop is not None
    if not prop.user_defined:
        run.add(
            "not-user-settable",
            "error",
            tokens,
            f"{key} is set by Streamkap and cannot be set here",
            key=key,
            hint="remove it",
            at_key=True,
        )
        return True
    if prop.readonly:
        run.add(
            "not-user-settable",
            "warning",
            tokens,
            f"{key} is read-only: the server fills it in and ignores this value",
            key=key,
            hint="remove it",
            at_key=True,
        )
        return True
    if mode == "update" and prop.set_once:
        run.add(
            "set-once",
            "error",
            tokens,
            f"{key} can only be set when the source is created",
            key=key,
            at_key=True,
        )
        return True
    return False


def _resolve_references(
    run: _Run,
    body: Mapping[str, Any],
    checker: Checker,
    where: Mapping[str, Tokens],
    strict: bool,
    lookup: EnvReader,
) -> tuple[dict[str, Any], frozenset[str], frozenset[str]]:
    """Resolve every reference and escape in a checked body.

    Returns the body, the config keys and the envelope fields whose values
    came (in part) from the environment: they are masked like secrets.
    A resolved value gets the check its key's type asks for, without ever
    quoting it (the environment may hold anything).
    """

    def one(value: Any, tokens: Tokens, key: str | None) -> tuple[Any, bool]:
        if value.__class__ is list:
            items = [one(v, (*tokens, str(n)), key) for n, v in enumerate(value)]
            return [v for v, _ in items], any(e for _, e in items)
        if value.__class__ is not str or "${" not in value:
            return value, False
        text, missing = resolve(value, lookup)
        for name in dict.fromkeys(missing):
            if lookup.allows(name):
                text, hint = f"environment variable {name} is not set", f"export {name}"
            else:
                text = f"environment variable {name} may not be read"
                hint = "only variables matching --allow-env / STREAMKAP_ALLOW_ENV are read"
            run.add("unresolved-secret", "error", tokens, text, key=key, hint=hint)
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
            resolved, problem = checker.hidden_check(key)(resolved, strict)
            if problem is not None:
                pcode, text, hint = problem
                text += " (the value of its ${env:...} reference)"
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


def build_payload(
    document: Any,
    *,
    mode: Mode = "create",
    strict: bool = False,
    schemas: SchemaSource | None = None,
    connector: str | None = None,
    no_plaintext_secrets: bool = False,
    include_defaults: bool = False,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
) -> CreateSourceRequest:
    """Validate ``document`` and return its CreateSource body, ready to send.

    Every ``${env:NAME}`` reference, in any string value, is resolved from
    ``environ`` (default: ``os.environ``), limited to the names matching the
    ``allow_env`` glob patterns (default: all); ``$${`` becomes ``${``. A
    variable that is not set is ``unresolved-secret``; a resolved value that
    does not fit its key's type is a ``type`` (or ``enum``, ``range``) error.
    Values that came from the environment are masked in the model's
    ``repr`` and :meth:`~streamkap_config.CreateSourceRequest.masked_dump`,
    like secrets. ``include_defaults`` adds every default the user did not
    set. Raises :class:`~streamkap_config.ConfigValidationError` with every
    issue when the document is invalid.

    >>> body = build_payload({"name": "t", "connector": "kafkadirect", "config": {
    ...     "topic": {"prefix": "src_", "include.list": "orders"}, "kafka_format": "json"}})
    >>> body.config
    {'topic.prefix': 'src_', 'topic.include.list.user.defined': 'orders', 'format': 'json'}
    """
    doc = _as_document(document)
    result = validate_source(
        doc,
        mode=mode,
        strict=strict,
        schemas=schemas,
        connector=connector,
        no_plaintext_secrets=no_plaintext_secrets,
    )
    if not result.ok or result._body is None or result._checker is None:
        if result.ok:
            raise ConfigValidationError(
                [Issue("envelope", "error", "(document): a payload needs a full CreateSource body")]
            )
        raise ConfigValidationError(result.issues)
    checker = result._checker
    body = dict(result._body)
    if include_defaults:
        body["config"] = {**checker.payload_defaults, **body["config"]}
    run = _Run(doc)
    lookup = EnvReader(os.environ if environ is None else environ, allow_env)
    body, env_keys, env_fields = _resolve_references(
        run, body, checker, result._where, strict, lookup
    )
    if run.issues:
        raise ConfigValidationError(_Run.merge(run.sorted(), result.issues))
    payload = _make_payload(body, checker.secret_keys | env_keys)
    return payload.with_masked_fields(env_fields)
