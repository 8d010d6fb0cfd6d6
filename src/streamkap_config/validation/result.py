"""What validating a document gives: :class:`ValidationResult`, and the few names the
checks of every kind share (the schema source, the mode, the name rule)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..core.document import Document, Tokens
from ..core.issues import Collector, Issue
from ..core.records import field, record, replace
from .checks import Checker

if TYPE_CHECKING:
    from ..schemas.bundle import SchemaVersion
    from ..schemas.definitions import ConnectorDefinition
    from .bodies import Body

__all__ = ["Mode", "SchemaSource", "ValidationResult", "as_document", "check_name_is_literal"]

Mode = Literal["create", "update"]


class SchemaSource(Protocol):
    """Anything that hands out schema versions by connector code.

    A ``Mapping[str, SchemaVersion]`` (such as :func:`bundled_schemas`) or a
    :class:`~streamkap_config.SchemaCache`. ``get`` returns None for a
    connector it does not know and may raise ``SchemaUnavailableError``. A
    source that also has ``for_kind(kind)`` (both of those do) serves every
    kind; a plain mapping serves whatever kind is being validated.
    """

    def get(self, code: str) -> SchemaVersion | None: ...

    def __iter__(self) -> Iterator[str]: ...


@record(frozen=True)
class ValidationResult:
    """The outcome of :func:`validate_document`.

    ``ok`` is true when there is no error (warnings allowed). ``kind`` is the
    document's kind and ``connector`` its connector code (its transform type
    for a transform). ``payload`` is the request body model of a valid
    document as written (built on first access), else None. Its
    ``${env:NAME}`` references and ``$${`` escapes are **not** resolved: do not
    send it; :func:`~streamkap_config.build_payload` gives the body to send.
    """

    ok: bool
    issues: tuple[Issue, ...]
    connector: str | None
    schema_version: str | None
    kind: str = "source"
    _body: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)
    _checker: Checker | None = field(default=None, repr=False, compare=False)
    # Canonical key -> where the user wrote it, for issues found after validation.
    _where: Mapping[str, Tokens] = field(default_factory=dict, repr=False, compare=False)
    # The config with canonical keys as far as it could be read, valid or not.
    _config: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)

    def with_issues(self, extra: Iterable[Issue]) -> ValidationResult:
        """This result with more issues (found across documents); an error makes it not ok."""
        issues = Collector.merge(self.issues, extra)
        ok = not any(i.severity == "error" for i in issues)
        return replace(self, ok=ok, issues=issues, _body=self._body if ok else None)

    @property
    def definition(self) -> ConnectorDefinition | None:
        """The connector definition the document was checked against (None: none found)."""
        return self._checker.definition if self._checker is not None else None

    @property
    def checked_body(self) -> Mapping[str, Any] | None:
        """The body of a valid document with canonical keys (references unresolved)."""
        return self._body

    @property
    def readable_config(self) -> Mapping[str, Any] | None:
        """The config with canonical keys, also of an invalid document (as far as its
        keys could be read): what checks of one key, like a source's include list, need
        while other keys have errors."""
        return self._body["config"] if self._body is not None else self._config

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @cached_property
    def payload(self) -> Body | None:
        if not self.ok or self._body is None or self._checker is None:
            return None
        from .bodies import make_body

        return make_body(self.kind, self._body, self._checker.secret_keys)


def as_document(document: Any) -> Document:
    if isinstance(document, Document):
        return document
    return Document(data=document)


def check_name_is_literal(run: Collector, name: str) -> None:
    """A name is an object's identity for plan and apply: it is written, never read."""
    from ..core.refs import has_reference

    if name == "<name>":
        run.add(
            "envelope",
            "error",
            ("name",),
            "name: <name> is a placeholder of `streamkap-config new`",
            hint="write the name of the object",
        )
        return

    if has_reference(name):
        run.add(
            "envelope",
            "error",
            ("name",),
            "a name may not hold a ${env:...} reference: plan finds live objects by the "
            "name as written, so every run would create the object again",
            hint="write the name itself",
        )
