"""Paths as messages show them: relative to the current directory when below it."""

from __future__ import annotations

import os

__all__ = ["relative"]


def relative(path: str) -> str:
    """``path`` relative to the current directory when below it, else as it is."""
    try:
        here = os.getcwd()
        full = os.path.abspath(path)
    except OSError:
        return path
    if full == here or not full.startswith(here.rstrip(os.sep) + os.sep):
        return path
    return os.path.relpath(full, here)
