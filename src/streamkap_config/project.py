"""Checks across the documents of one run: what no single document can tell.

Today: two documents of one kind with one name (``duplicate-name``). Each document is
validated alone first; these checks only add issues to its result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .issues import Issue, to_pointer

if TYPE_CHECKING:
    from .report import FileReport

__all__ = ["check_names"]


def check_names(reports: Sequence[FileReport]) -> None:
    """Add ``duplicate-name`` to every document whose name an earlier one of its kind took."""
    first: dict[tuple[str, str], tuple[str, int | None, int | None]] = {}
    for report in reports:
        for n, (doc, result) in enumerate(report.documents):
            name = doc.name
            if name is None:
                continue
            kind = result.kind
            tokens = (*doc.base, "name")
            line, column = (None, None)
            if doc.positions is not None:
                line, column = doc.positions.of_value(tokens) or (None, None)
            seen = first.get((kind, name))
            if seen is None:
                first[(kind, name)] = (report.path, line, column)
                continue
            path, at_line, at_column = seen
            where = path if at_line is None else f"{path}:{at_line}:{at_column}"
            issue = Issue(
                "duplicate-name",
                "error",
                f'name: another {kind} is already named "{name}" ({where})',
                None,
                to_pointer(tokens),
                line,
                column,
                f"{kind} names are unique per account: rename one",
            )
            report.documents[n] = (doc, result.with_issues([issue]))
