"""The house style holds: ruff (lint and format) and mypy --strict run with the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


def run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_lint():
    out = run("ruff", "check", "src", "tests", "tools")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff not installed")
def test_ruff_format():
    out = run("ruff", "format", "--check", "src", "tests", "tools")
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
