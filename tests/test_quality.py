"""The house style holds: ruff (lint and format) and mypy --strict run with the tests."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def test_ruff_lint():
    out = run(sys.executable, "-m", "ruff", "check", "src", "tests", "tools")
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format():
    out = run(sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "tools")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict():
    out = run(sys.executable, "-m", "mypy", "src")
    assert out.returncode == 0, out.stdout + out.stderr


def test_doctests():
    import doctest
    import importlib

    for name in ("definitions", "bundle", "keys", "validate", "payload", "jsonschema_gen"):
        module = importlib.import_module(f"streamkap_config.{name}")
        failures, _ = doctest.testmod(module)
        assert failures == 0, name
