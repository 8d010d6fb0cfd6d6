"""The README's console examples are what the commands print (run here, compared whole)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
SECTIONS = ("Projects and environments", "Monorepos")


def examples() -> list[tuple[str, str, str]]:
    """(section, command, expected output) of each ``$ command`` of the sections."""
    readme = (ROOT / "README.md").read_text()
    found = []
    for title in SECTIONS:
        text = readme[readme.index(f"## {title}\n") :].split("\n## ", 1)[0]
        for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
            for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
                command, _, output = part.partition("\n")
                found.append((title, command, output))
    return found


@pytest.mark.parametrize(("section", "command", "expected"), examples())
def test_a_readme_example_prints_what_the_readme_shows(section, command, expected, tmp_path):
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "NO_COLOR": "1",
        "STREAMKAP_CONFIG_CACHE": str(tmp_path),
        "PG_PASSWORD": "readme-secret",
        "AWS_ACCESS_KEY_ID": "AKIAREADME",
        "AWS_SECRET_ACCESS_KEY": "readme-secret-2",
    }
    env.pop("STREAMKAP_ENV", None)
    out = subprocess.run(
        ["bash", "-c", command + " 2>&1"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout == expected, section


def test_the_sections_have_examples():
    assert {section for section, _, _ in examples()} == set(SECTIONS)
