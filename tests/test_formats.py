"""Report formats for tools (SARIF, JUnit), --color, and shell completion."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent
EXAMPLES = ROOT / "examples"
# The SARIF 2.1.0 schema as Microsoft's SARIF validator ships it (npm, pinned).
SARIF_PACKAGE = "@microsoft/jest-sarif@1.0.0-beta.0"
SARIF_SCHEMA = "package/lib/schemas/sarif-2.1.0-rtm.5.json"


def validate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(ROOT / ".no-cache"), **(env or {})}
    full.pop("NO_COLOR", None) if env is None or "NO_COLOR" not in env else None
    return subprocess.run(
        [str(BIN / "streamkap-validate"), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def sarif_schema() -> dict:
    """The official schema, fetched with npm once into .ci/sarif (shared by the workers)."""
    target = ROOT / ".ci" / "sarif"
    schema = target / "sarif-2.1.0.json"
    if not schema.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm to fetch the SARIF 2.1.0 schema")
        from filelock import FileLock

        target.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target / ".fetch.lock"), timeout=600):
            if not schema.exists():
                out = subprocess.run(
                    [npm, "pack", "--silent", SARIF_PACKAGE],
                    cwd=target,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                assert out.returncode == 0, out.stderr
                with tarfile.open(target / out.stdout.strip().splitlines()[-1]) as archive:
                    member = archive.extractfile(SARIF_SCHEMA)
                    assert member is not None
                    schema.write_bytes(member.read())
    return json.loads(schema.read_text())


def test_sarif_is_a_valid_sarif_2_1_0_log_with_every_issue_located():
    from jsonschema.validators import validator_for

    out = validate(
        "--format", "sarif", "examples/postgresql-invalid.source.yaml", "examples/s3.source.yaml"
    )
    assert out.returncode == 1
    log = json.loads(out.stdout)
    schema = sarif_schema()
    validator_for(schema)(schema).validate(log)
    (run,) = log["runs"]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    results = run["results"]
    assert len(results) == 7  # five errors, two warnings, as the text report counts them
    for result in results:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "examples/postgresql-invalid.source.yaml"
        assert location["region"]["startLine"] >= 1
    port = next(r for r in results if r["ruleId"] == "type")
    assert port["level"] == "error" and port["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 7,
        "startColumn": 11,
    }
    assert {r["level"] for r in results} == {"error", "warning"}


def test_junit_has_a_case_per_document_failed_by_its_errors():
    out = validate(
        "--format",
        "junit",
        "examples/postgresql-invalid.source.yaml",
        "examples/dynamodb.source.yaml",
    )
    root = ET.fromstring(out.stdout)
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("tests") == str(len(cases)) == "2" and suite.get("failures") == "1"
    broken = next(c for c in cases if c.get("name") == "source orders-postgres-broken")
    failure = broken.find("failure")
    assert failure is not None and failure.get("type") == "required"
    assert failure.text is not None and failure.text.count("error[") == 5
    assert "warning[plaintext-secret]" in (broken.findtext("system-out") or "")
    good = next(c for c in cases if c is not broken)
    assert good.find("failure") is None


@pytest.mark.parametrize(
    ("args", "env", "colored"),
    [
        ((), {}, False),  # not a terminal
        (("--color", "always"), {}, True),
        (("--color", "always"), {"NO_COLOR": "1"}, True),  # asked for in so many words
        (("--color", "never"), {}, False),
    ],
)
def test_color_auto_always_never(args, env, colored):
    out = validate(*args, "examples/postgresql-invalid.source.yaml", env=env)
    assert ("\033[31m" in out.stdout) is colored


def test_shell_completion_completes_commands_and_options(tmp_path):
    for shell in ("bash", "zsh", "fish"):
        out = subprocess.run(
            [str(BIN / "streamkap-config"), "completion", shell], capture_output=True, text=True
        )
        assert out.returncode == 0 and "streamkap-validate" in out.stdout, shell
    said = tmp_path / "completions"
    for line, expected in (
        ("streamkap-config sch", {"schemas"}),
        ("streamkap-config validate --form", {"--format"}),
        ("streamkap-validate --format s", {"sarif"}),
    ):
        tool = line.split()[0]
        env = {
            **os.environ,
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(said),
        }
        out = subprocess.run([str(BIN / tool)], capture_output=True, text=True, env=env)
        assert out.returncode == 0, out.stderr
        assert set(said.read_text().split()) == expected, line
