"""Checks across the documents of one run: what no single document can tell.

Today: two sources with one name (``duplicate-name``). Each document is
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
    """Add ``duplicate-name`` to every document whose name an earlier one already took."""
    first: dict[str, tuple[str, int | None, int | None]] = {}
    for report in reports:
        for n, (doc, result) in enumerate(report.sources):
            name = doc.name
            if name is None:
                continue
            tokens = (*doc.base, "name")
            line, column = (None, None)
            if doc.positions is not None:
                line, column = doc.positions.of_value(tokens) or (None, None)
            seen = first.get(name)
            if seen is None:
                first[name] = (report.path, line, column)
                continue
            path, at_line, at_column = seen
            where = path if at_line is None else f"{path}:{at_line}:{at_column}"
            issue = Issue(
                "duplicate-name",
                "error",
                f'name: another source is already named "{name}" ({where})',
                None,
                to_pointer(tokens),
                line,
                column,
                "source names are unique per account: rename one",
            )
            report.sources[n] = (doc, result.with_issues([issue]))
