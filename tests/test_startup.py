"""What a run on every commit costs before it reads a file: the modules it imports,
and help that still fits the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

#: Modules a validate run has no use for: the network, the JSON Schema reference
#: validator, the payload models, and what argparse would import to ask the terminal
#: its width while the parsers are built.
NOT_FOR_VALIDATE = (
    "httpx",
    "jsonschema",
    "referencing",
    "pydantic",
    "shutil",
    "threading",
    "heapq",
)

IMPORTED = """
import io, sys
from streamkap_config.cli import validate_main
sys.stdout = io.StringIO()
code = validate_main(sys.argv[1:])
sys.stdout = sys.__stdout__
print(code, " ".join(sorted({m.split(".")[0] for m in sys.modules})))
"""

STARTED = 'import sys; print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))'


@pytest.mark.parametrize(
    "args",  # valid files: a typo's close-name hints do use heapq
    [
        ["--no-project", "examples/postgresql.source.yaml"],
        ["examples/s3.destination.yaml", "examples/mask-pii.transform.yaml"],
    ],
)
def test_a_validate_run_imports_nothing_it_has_no_use_for(args):
    out = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    code, modules = out.stdout.split(" ", 1)
    assert code in ("0", "1"), out.stderr
    # What the interpreter holds before any code of ours (coverage, measuring this
    # subprocess under CI, starts with threading) is not the run's doing.
    started = subprocess.run(
        [sys.executable, "-c", STARTED], capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert sorted((set(modules.split()) - set(started)) & set(NOT_FOR_VALIDATE)) == []


def help_width(columns: int, *command: str) -> int:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "streamkap-config"), *command, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": str(columns)},
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return max(len(line) for line in out.stdout.splitlines())


@pytest.mark.parametrize("command", [(), ("validate",), ("plan",)])
def test_help_is_wrapped_to_the_terminal_it_is_printed_on(command):
    narrow, wide = help_width(60, *command), help_width(200, *command)
    assert wide > 100  # the long help lines run on when the terminal is wide
    assert narrow < wide - 40  # and wrap when it is narrow


THRESHOLD = """
import gc, json, sys
import streamkap_config.cli as cli
before = gc.get_threshold()
cli.validate_main(["-q", "--no-project", "examples/s3.source.yaml"])
library = gc.get_threshold()
cli._leave = lambda code: print(json.dumps([before, library, gc.get_threshold(), code]))
sys.argv = ["streamkap-validate", "-q", "--no-project", "examples/s3.source.yaml"]
cli.console_validate()
"""


def test_only_the_console_scripts_collect_cycles_less_often():
    out = subprocess.run(
        [sys.executable, "-c", THRESHOLD], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    before, library, console, code = json.loads(out.stdout)
    assert library == before  # the library leaves its caller's collector alone
    assert console[0] == 100_000 and code == 0, out.stderr
