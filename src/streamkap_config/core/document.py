"""A document as loaded from a file: the data plus where everything is.

Kept free of parser imports so that validation can use it without loading any.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .records import field, record

__all__ = ["YAML11_BOOLEAN_WORDS", "Document", "Positions", "SourceDocument", "Tokens"]

Tokens = tuple[str, ...]

#: Bare words a YAML 1.1 reader takes for booleans (YAML 1.2, and we, keep them strings).
YAML11_BOOLEAN_WORDS = frozenset({"yes", "no", "on", "off", "y", "n"})


@record
class Positions:
    """1-based (line, column) of keys and values, by path tokens from the file's root.

    ``notes`` holds, for plain YAML scalars whose type a reader could mistake
    (``yes``, ``0755``, ``1e4``...), a sentence that explains how it was read.
    """

    keys: dict[Tokens, tuple[int, int]] = field(default_factory=dict)
    values: dict[Tokens, tuple[int, int]] = field(default_factory=dict)
    notes: dict[Tokens, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Notes quote the words they explain, which may be secrets: counts only.
        return (
            f"Positions(keys={len(self.keys)}, values={len(self.values)}, notes={len(self.notes)})"
        )

    def of_key(self, tokens: Tokens) -> tuple[int, int] | None:
        """Where the key at ``tokens`` is written (or its nearest ancestor)."""
        while True:
            found = self.keys.get(tokens) or self.values.get(tokens)
            if found is not None or not tokens:
                return found
            tokens = tokens[:-1]

    def of_value(self, tokens: Tokens) -> tuple[int, int] | None:
        """Where the value at ``tokens`` starts (or its nearest ancestor)."""
        while True:
            found = self.values.get(tokens) or self.keys.get(tokens)
            if found is not None or not tokens:
                return found
            tokens = tokens[:-1]


@record
class Document:
    """One document inside a file: a source, destination or transform body.

    ``data`` is the request body as written (or, with ``bare``, just the
    config mapping, validated against ``connector``); ``base`` the tokens of
    ``data`` within the file (``("sources", "0")`` for the first of a list).
    ``kind`` is the kind the file gives it (the list it stands in, or
    ``--kind``); None lets the document's own ``kind:`` decide.
    """

    data: Any
    positions: Positions | None = None
    base: Tokens = ()
    path: str | None = None
    bare: bool = False
    connector: str | None = None
    issues: list[Any] = field(default_factory=list)
    kind: str | None = None

    def __repr__(self) -> str:
        # The data holds the values as written, secrets included: never shown.
        keys = len(self.data) if isinstance(self.data, Mapping) else 0
        return (
            f"Document(path={self.path!r}, base={self.base!r}, kind={self.declared_kind!r}, "
            f"name={self.name!r}, bare={self.bare!r}, connector={self.connector!r}, "
            f"fields={keys}, issues={len(self.issues)})"
        )

    @property
    def name(self) -> str | None:
        if isinstance(self.data, Mapping) and not self.bare:
            name = self.data.get("name")
            return name if isinstance(name, str) else None
        return None

    @property
    def declared_kind(self) -> str:
        """The kind as the file gives it, else as the document says, else ``source``.

        This is the kind :func:`~streamkap_config.validate_document` reports
        for the document (without its ``kind`` argument), known without
        validating it: a kind that is not one is ``source``, and a bare config
        mapping is of the kind the file gives it.
        """
        from .kinds import KIND_NAMES, KINDS

        if self.bare:
            return self.kind if self.kind in KINDS else "source"
        if self.kind is not None:
            return self.kind
        declared = self.data.get("kind") if isinstance(self.data, Mapping) else None
        return declared if declared in KIND_NAMES else "source"


#: The v0.1 name of :class:`Document`.
SourceDocument = Document
