"""Close-name hints (``did you mean "hostname"?``), written once for every module."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "near_value"]


def near_value(value: str, allowed: Iterable[Any]) -> str | None:
    """The allowed value ``value`` was most likely meant as: the same but for case, else
    the closest by :mod:`difflib` (ratio 0.6), else None.

    >>> near_value("HOSTNAME", ["hostname"]), near_value("hostnme", ["hostname", "port"])
    ('hostname', 'hostname')
    """
    options = [a for a in allowed if isinstance(a, str)]
    for a in options:
        if a.lower() == value.lower():
            return a
    import difflib  # only on a miss

    close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(value: Any, allowed: Iterable[str]) -> str | None:
    """``did you mean "x"?`` for a text close to an allowed one, else None."""
    near = near_value(value, allowed) if isinstance(value, str) else None
    return f'did you mean "{near}"?' if near else None
