"""Issues: what validation reports, and the stable codes they carry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from .records import record

if TYPE_CHECKING:
    from .document import Document, Positions, Tokens

__all__ = [
    "CODES",
    "Collector",
    "Issue",
    "Severity",
    "describe_value",
    "pointer_label",
    "to_pointer",
]

#: The hint a string check gives a number or a boolean; a YAML note says more.
QUOTE_HINT = "write the value in quotes to make it a string"

Severity = Literal["error", "warning"]

#: Issue codes are stable API: scripts may match on them.
CODES = (
    "parse-error",
    "duplicate-key",
    "unknown-connector",
    "unknown-key",
    "ambiguous-key",
    "not-user-settable",
    "type",
    "enum",
    "range",
    "required",
    "inactive-key",
    "set-once",
    "plaintext-secret",
    "unresolved-secret",
    "unresolved-variable",
    "envelope",
    "schema-unavailable",
    "duplicate-name",
    "kind-mismatch",
    "unknown-reference",
    "topic-not-captured",
    "transform-topic",
    "not-streamkap",
)


@record(frozen=True)
class Issue:
    """One problem found in a document.

    ``key`` is the canonical API key (None for envelope issues and unknown
    keys); ``pointer`` an RFC 6901 JSON Pointer into the document as the user
    wrote it; ``line``/``column`` are 1-based, None when there is no file.
    ``message`` starts with the path as written (``config.database.port: ...``)
    and never quotes a secret value.
    """

    code: str
    severity: Severity
    message: str
    key: str | None = None
    pointer: str = ""
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    def format(self) -> str:
        """``12:5: error[type] config.database.port: expected ... (hint: ...)``."""
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        hint = f" (hint: {self.hint})" if self.hint else ""
        return f"{where}{self.severity}[{self.code}] {self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "key": self.key,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


def to_pointer(tokens: tuple[str, ...]) -> str:
    """RFC 6901: ``("config", "a/b")`` -> ``/config/a~1b``."""
    if not tokens:
        return ""
    return "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in tokens)


def pointer_label(tokens: tuple[str, ...]) -> str:
    """The path as a user reads it: ``config.database.port`` for those three tokens."""
    return ".".join(tokens) if tokens else "(document)"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def describe_value(value: Any, secret: bool = False) -> str:
    """How a value appears in a message: its kind, and for non-secrets a short rendering."""
    if secret:
        return f"{_kind(value)} (value hidden)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return _kind(value)


class Collector:
    """Collects the issues of one document, with their positions, each once."""

    def __init__(self, doc: Document) -> None:
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
            if (hint is None or hint == QUOTE_HINT) and code == "type" and not secret:
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
