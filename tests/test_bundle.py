from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from streamkap_config import SchemaVersion, bundled_schemas
from streamkap_config.core.errors import SchemaUnavailableError
from streamkap_config.schemas.bundle import BundledSchemas, render_snapshot
from streamkap_config.schemas.definitions import parse_definitions

EXPECTED = {
    "alloydb": "AlloyDB",
    "db2": "Db2",
    "documentdb": "DocumentDB",
    "dynamodb": "DynamoDB",
    "elasticsearch": "ElasticSearch",
    "informix": "Informix",
    "kafkadirect": "Kafka Direct",
    "mariadb": "MariaDB",
    "mongodb": "MongoDB Atlas",
    "mongodbhosted": "MongoDB",
    "mysql": "MySQL",
    "oracle": "Oracle",
    "oracleaws": "Oracle RDS",
    "planetscale": "Planetscale Vitess",
    "postgresql": "PostgreSQL",
    "redis": "Redis",
    "s3": "S3",
    "salesforce_webhook": "Salesforce CDC",
    "shopify_webhook": "Shopify",
    "sqlserveraws": "SQL Server",
    "stripe_webhook": "Stripe",
    "supabase": "Supabase",
    "vitess": "Vitess",
    "webhook": "Webhook",
    "zendesk_webhook": "Zendesk Webhook",
}
SHARED = ROOT.parent / "shared" / "connectors"


def test_all_25_public_connectors_are_bundled():
    schemas = bundled_schemas()
    assert {code: v.display_name for code, v in schemas.items()} == EXPECTED


def test_schema_version_fields():
    v = bundled_schemas()["postgresql"]
    assert isinstance(v, SchemaVersion)
    assert v.origin == "bundled"
    assert v.connector == "postgresql" and v.definition.code == "postgresql"
    assert len(v.version) == 64 and v.version == v.definition.version
    assert v.schema["x-streamkap"]["version"] == v.version
    # Every key's subschema is inline: no $ref anywhere in a config schema.
    assert "$ref" not in json.dumps(v.schema)
    with pytest.raises(AttributeError):
        v.version = "x"  # type: ignore[misc]


def test_manifest_matches_files_for_every_kind():
    manifest = bundled_schemas().manifest
    assert manifest["generator_version"]
    assert manifest["snapshot_date"]
    counts = {}
    for entry in manifest["connectors"]:
        found = bundled_schemas(entry["kind"])[entry["code"]]
        assert entry["version"] == found.version and found.definition.kind == entry["kind"]
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    assert counts == {"source": 25, "destination": 24, "transform": 7}
    # Codes shared by two kinds are two connectors, never one guessed from the code.
    both = set(bundled_schemas("source")) & set(bundled_schemas("destination"))
    assert {"postgresql", "mysql", "s3", "db2", "oracle", "redis", "kafkadirect"} <= both
    assert (
        bundled_schemas("source")["postgresql"].version
        != bundled_schemas("destination")["postgresql"].version
    )


def test_snapshot_is_not_stale():
    """Regenerating the schemas from the bundled definitions changes no byte."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "regen_schemas.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_staleness_is_detected(tmp_path):
    folder = tmp_path / "schemas"
    folder.mkdir()
    defs = [bundled_schemas()["s3"].definition]
    for name, data in render_snapshot(defs, "2026-01-01").items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    check = [
        sys.executable,
        str(ROOT / "tools" / "regen_schemas.py"),
        "--check",
        "--out",
        str(folder),
    ]
    assert subprocess.run(check, capture_output=True).returncode == 0
    schema = json.loads((folder / "sources" / "s3.schema.json").read_text())
    schema["title"] = "edited by hand"
    (folder / "sources" / "s3.schema.json").write_text(json.dumps(schema, indent=2))
    assert subprocess.run(check, capture_output=True).returncode == 1


@pytest.mark.skipif(not SHARED.is_dir(), reason="reference definitions not beside the repo")
def test_bundled_definitions_equal_the_reference_definitions():
    for kind, folder in (("source", "sources"), ("destination", "destinations")):
        for code, version in bundled_schemas(kind).items():
            reference = json.loads((SHARED / folder / f"{code}.json").read_text())
            assert parse_definitions(reference, code=code)[0].version == version.version
    for code, version in bundled_schemas("transform").items():
        reference = json.loads((SHARED / "transforms" / f"{code}.json").read_text())
        assert parse_definitions(reference, code=code)[0].version == version.version


def test_tampered_bundle_is_refused(tmp_path):
    for name, data in render_snapshot([bundled_schemas()["s3"].definition], "d").items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "sources" / "s3.schema.json").write_text("{}")
    with pytest.raises(SchemaUnavailableError, match="sha256"):
        BundledSchemas(tmp_path)["s3"]


def test_wheel_ships_the_snapshot(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "streamkap_config/_schemas/manifest.json" in names
    assert "streamkap_config/_schemas/sources/postgresql.schema.json" in names
    assert "streamkap_config/_schemas/destinations/snowflake.schema.json" in names
    assert "streamkap_config/_schemas/transforms/map_filter.schema.json" in names
    assert "streamkap_config/py.typed" in names


def test_one_liner_lists_connectors_with_versions():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import streamkap_config as s\n"
            "for c, v in s.bundled_schemas().items(): print(c, v.version)",
        ],
        capture_output=True,
        text=True,
        cwd=Path("/"),
    )
    lines = out.stdout.splitlines()
    assert len(lines) == 25 and all(len(line.split()[1]) == 64 for line in lines)


def test_regenerate_from_a_live_api(tmp_path):
    import os

    from apiserver import ApiServer

    out = tmp_path / "schemas"
    with ApiServer() as server:
        result = subprocess.run(
            [
                sys.executable,
                str(ROOT / "tools" / "regen_schemas.py"),
                "--from-api",
                server.url,
                "--out",
                str(out),
                "--date",
                "2026-11-27",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "STREAMKAP_TOKEN": "static-token"},
        )
    assert result.returncode == 0, result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert {(e["kind"], e["code"]): e["version"] for e in manifest["connectors"]} == {
        (kind, code): v.version
        for kind in ("source", "destination", "transform")
        for code, v in bundled_schemas(kind).items()
    }
    for name in ("sources/postgresql.schema.json", "destinations/postgresql.schema.json"):
        assert (out / name).read_bytes() == (ROOT / "schemas" / name).read_bytes()
