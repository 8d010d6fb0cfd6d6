"""The house style holds: ruff (lint and format) and mypy --strict run with the tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


def _modules() -> list[str]:
    import pkgutil

    import streamkap_config

    found = ["streamkap_config"]
    for info in pkgutil.walk_packages(streamkap_config.__path__, "streamkap_config."):
        found.append(info.name)
    return sorted(found)


MODULES = _modules()


def test_every_module_is_found():
    # Walking the package must see the modules and the loaders package alike.
    assert {"streamkap_config.cli", "streamkap_config.loaders.yaml_reader"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    import doctest
    import importlib

    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failures == 0, name


def test_the_version_is_the_one_pyproject_declares():
    import re

    from streamkap_config import __version__

    declared = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert declared is not None and declared.group(1) == __version__
