"""Exceptions. Every one derives from :class:`StreamkapConfigError`.

Each exception carries the data needed to act on it and a message that names
the connector, file, key or URL it is about. None of them ever holds a secret
value: messages are built from key names and value *kinds* only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .issues import Issue

__all__ = [
    "ApiError",
    "CacheError",
    "ConfigValidationError",
    "DefinitionError",
    "ListingTooLargeError",
    "LoadError",
    "SchemaUnavailableError",
    "StreamkapConfigError",
]


class StreamkapConfigError(Exception):
    """Root of every exception raised by streamkap-config."""


class DefinitionError(StreamkapConfigError):
    """A connector definition (an API response) is malformed.

    ``connector`` names the connector (display name or code), ``index`` the
    position of the offending property in its list (None when the problem is
    not about one property) and ``reason`` says what is wrong.
    """

    def __init__(self, connector: str | None, index: int | None, reason: str) -> None:
        self.connector = connector
        self.index = index
        self.reason = reason
        where = f"connector {connector!r}" if connector is not None else "connector definition"
        if index is not None:
            where += f", property #{index}"
        super().__init__(f"{where}: {reason}")


class SchemaUnavailableError(StreamkapConfigError):
    """No schema can be found for a connector (or for its pinned version)."""

    def __init__(self, connector: str, reason: str) -> None:
        self.connector = connector
        self.reason = reason
        super().__init__(f"schema for connector {connector!r} unavailable: {reason}")


class LoadError(StreamkapConfigError):
    """A file cannot be read at all (missing, unreadable, too large)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ConfigValidationError(StreamkapConfigError):
    """A document is invalid. ``issues`` holds every issue found, sorted.

    ``kind`` and ``path`` say whose issues they are: the message names the kind and
    gives each issue as ``path:line:col`` (as ``validate`` prints them).
    """

    def __init__(
        self, issues: Sequence[Issue], *, kind: str = "source", path: str | None = None
    ) -> None:
        self.issues = tuple(issues)
        self.kind, self.path = kind, path
        errors = [i for i in self.issues if i.severity == "error"]
        lines = [_located(path, i) for i in errors[:20]]
        more = len(errors) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        head = f"{len(errors)} error(s) in {kind} configuration"
        super().__init__(head + (":\n  " + "\n  ".join(lines) if lines else ""))

    def about(self, kind: str, path: str | None) -> ConfigValidationError:
        """The same issues, said to be of a ``kind`` document in the file at ``path``."""
        return ConfigValidationError(self.issues, kind=kind, path=path)

    @classmethod
    def joined(cls, errors: Sequence[ConfigValidationError]) -> ConfigValidationError:
        """Every issue of several documents in one error: each line ``path:line:col: ...``."""
        if len(errors) == 1:
            return errors[0]
        issues = [i for e in errors for i in e.issues]
        lines = [_located(e.path, i) for e in errors for i in e.issues if i.severity == "error"]
        shown = lines[:50]
        if len(lines) > len(shown):
            shown.append(f"... and {len(lines) - len(shown)} more")
        out = cls(issues)
        Exception.__init__(
            out, f"{len(lines)} error(s) in {len(errors)} documents:\n  " + "\n  ".join(shown)
        )
        return out


def _located(path: str | None, issue: Issue) -> str:
    text = issue.format()
    if path is None:
        return text
    from .text import printable

    where = f"{printable(path)}:" if issue.line is not None else f"{printable(path)}: "
    return where + text


class ApiError(StreamkapConfigError):
    """An HTTP request to the Streamkap API failed.

    The message names the method, the URL and the status, with the API's own
    words (``detail``, from ``{"detail": ...}``) or else a short,
    whitespace-folded snippet of the body (never request headers); every
    credential and every value this run sent from the environment is cut out
    of both before they get here.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status: int | None,
        reason: str,
        snippet: str = "",
        detail: str | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.reason = reason
        self.snippet = snippet
        self.detail = detail
        status_text = f" -> {status}" if status is not None else ""
        text = f"{method} {url}{status_text}: {reason}"
        if detail:
            text += f": {detail}"
        elif snippet:
            text += f" (body: {snippet!r})"
        super().__init__(text)

    @property
    def already_exists(self) -> bool:
        """The API refused a create because an object of that name exists (409, or 422)."""
        said = (self.detail or self.snippet).lower()
        return self.status == 409 or (self.status == 422 and "already exists" in said)


class ListingTooLargeError(ApiError):
    """A listing reached the number of pages its caller allowed (``pages``)."""

    def __init__(self, method: str, url: str, pages: int) -> None:
        self.pages = pages
        super().__init__(method, url, None, f"more than {pages} pages; not read further")


class CacheError(StreamkapConfigError):
    """The schema cache cannot be used (for example its directory is not writable)."""
