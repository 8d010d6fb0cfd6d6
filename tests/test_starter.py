"""``streamkap-config new``: a starting file for every bundled connector of every kind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamkap_config import KINDS, bundled_schemas, validate_document
from streamkap_config.schemas.starter import PLACEHOLDER, starter

BIN = Path(sys.executable).parent
EVERY = [(kind, code) for kind in KINDS for code in sorted(bundled_schemas(kind))]


def filled(value):
    """A value of the placeholder's type in place of each placeholder."""
    if isinstance(value, dict):
        return {k: filled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v) for v in value]
    if not isinstance(value, str) or not PLACEHOLDER.fullmatch(value):
        return value
    if value == "<name>":
        return "my-object"
    if value.startswith("<integer"):
        found = re.match(r"<integer (-?\d+)-", value)
        return int(found.group(1)) if found else 1
    if value == "<true|false>":
        return True
    if value.startswith("<one of: "):
        return value[len("<one of: ") : -1].split("|")[0]
    if value == "<map>":
        return {"key": "value"}
    return "text"


@pytest.mark.parametrize(("kind", "code"), EVERY)
def test_a_starting_file_validates_once_its_placeholders_are_filled(kind, code):
    text = starter(kind, code)
    doc = yaml.safe_load(text)
    assert doc["kind"] == kind and doc[KINDS[kind].code_field] == code
    result = validate_document(filled(doc))
    assert result.ok, [i.format() for i in result.issues if i.severity == "error"]
    left = validate_document(doc)  # as written: every placeholder is in the way
    placeholders = [v for v in _strings(doc) if PLACEHOLDER.fullmatch(v)]
    assert not left.ok and len(left.errors) >= len(set(placeholders)) - 1
    for line in text.splitlines():
        assert "<span" not in line and "<a " not in line


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_secrets_are_references_and_conditional_keys_wait_under_their_condition():
    text = starter("source", "postgresql")
    assert "  database.password: ${env:POSTGRESQL_DATABASE_PASSWORD}" in text
    assert "  # when ssh.enabled == true:\n  # ssh.host: <string>" in text
    assert "  # database.port: 5432  (Database Port)" in text  # a default, as a comment


def test_the_new_command_writes_a_file_and_never_overwrites_one(tmp_path):
    env = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(tmp_path / "cache")}
    cli = str(BIN / "streamkap-config")
    out = subprocess.run(
        [cli, "new", "source", "postgresql"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0 and out.stdout == starter("source", "postgresql")
    target = tmp_path / "orders.yaml"
    args = [cli, "new", "destination", "snowflake", "--output", str(target)]
    assert subprocess.run(args, capture_output=True, text=True, env=env).returncode == 0
    assert target.read_text() == starter("destination", "snowflake")
    again = subprocess.run(args, capture_output=True, text=True, env=env)
    assert again.returncode == 2 and "exists" in again.stderr
    out = subprocess.run([cli, "new", "source", "postgre"], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "postgresql" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run(
        [str(BIN / "streamkap-validate"), str(target)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 1 and "is a placeholder of `streamkap-config new`" in out.stdout
