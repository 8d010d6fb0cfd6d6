"""import: a live account written as files; the law is that plan then says no-op."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_SECRETS, ROOT
from emulator import TOKEN, running
from streamkap_config import validate_project
from streamkap_config.deploy.plan import apply, plan
from streamkap_config.project.validate import project_files
from streamkap_config.remote.client import StreamkapClient

BIN = Path(sys.executable).parent
PROJECT = ROOT / "examples" / "project"
SECRETS = EXAMPLE_SECRETS


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STREAMKAP_TOKEN": TOKEN, "NO_COLOR": "1"}
    env["STREAMKAP_CONFIG_CACHE"] = str(cwd / ".cache")
    for name in SECRETS:  # plan needs no secret: the imported files name other variables
        env.pop(name, None)
    return subprocess.run(
        [str(BIN / "streamkap-config"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def seeded(emulator, extra: int) -> None:
    """The example project applied, and ``extra`` more sources and pipelines seeded as
    someone else made them (every value echoed as text, defaults and placeholders
    filled in, secrets not read back)."""
    with StreamkapClient(emulator.url, token=TOKEN) as client:
        apply(plan(validate_project(project_files(PROJECT), root=PROJECT), client), client)
    sources = {o["name"]: o["id"] for o in emulator.objects["source"].values()}
    destinations = {o["name"]: o["id"] for o in emulator.objects["destination"].values()}
    for n in range(extra):
        created = emulator.seed(
            "source",
            {
                "name": f"db-{n:03}",
                "connector": "postgresql",
                "config": {
                    "database.hostname.user.defined": f"db{n}.internal",
                    "database.port.user.defined": 5433 + n,
                    "database.user": "u",
                    "database.password": f"seeded-secret-{n}",
                    "database.dbname": "d",
                    "schema.include.list": "public",
                    "table.include.list.user.defined": f"public\\.t{n}",
                    "heartbeat.enabled": n % 2 == 0,
                },
                "tags": ["team-a"] if n % 3 == 0 else [],
            },
        )
        emulator.seed(
            "pipeline",
            {
                "name": f"pipe-{n:03}",
                "source": {
                    "id": created["id"],
                    "name": f"db-{n:03}",
                    "connector": "postgresql",
                    "topics": [f"public.t{n}"],
                },
                "destination": {
                    "id": destinations["lake-s3"],
                    "name": "lake-s3",
                    "connector": "s3",
                },
                "transforms": [],
                "snapshot_new_tables": n % 2 == 1,
            },
        )
    assert sources  # the example's own are there too


def test_import_then_plan_is_all_no_op_and_no_secret_is_written(tmp_path):
    target = tmp_path / "estate"
    target.mkdir()
    # The project owns the whole account: with --prune, nothing imported is a delete.
    (target / "streamkap.toml").write_text(
        '[prune]\nkinds = ["source", "destination", "transform", "pipeline"]\n'
    )
    with running() as emulator:
        seeded(emulator, 70)  # 7 + 140 objects
        api = ("--api-url", emulator.url)
        out = cli("import", *api, "estate", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "147 written, 0 skipped" in out.stdout
        assert "  ORDERS_POSTGRES_DATABASE_PASSWORD\n" in out.stdout
        out = cli("plan", *api, "--detailed-exitcode", "estate", cwd=tmp_path)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr
        assert "0 to create, 0 to update, 147 unchanged, 0 blocked" in out.stdout
        out = cli("plan", *api, "--prune", "--detailed-exitcode", "estate", cwd=tmp_path)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr
        assert "147 unchanged, 0 blocked, 0 to delete" in out.stdout
    written = "".join(p.read_text() for p in target.rglob("*.yaml"))
    # (An access key id is no secret to the S3 connector: it is echoed, and written.)
    for secret in ("pg-secret-1", "aws-secret-2", "sf-secret-3", "seeded-secret-"):
        assert secret not in written
    text = (target / "sources" / "db-004.yaml").read_text()
    assert "database.port: 5437\n" in text and "heartbeat.enabled: true" not in text  # default
    assert "${env:DB_004_DATABASE_PASSWORD}" in text
    pipeline = (target / "pipelines" / "orders-to-snowflake.yaml").read_text()
    assert "- name: mask-pii\n  topics:\n  - public.customers\n" in pipeline  # folded back


def test_import_never_writes_over_a_file_and_skips_what_the_project_describes(tmp_path):
    target = tmp_path / "estate"
    (target / "sources").mkdir(parents=True)
    (target / "streamkap.toml").write_text("")
    (target / "sources" / "mine.yaml").write_text(
        (PROJECT / "sources" / "orders-postgres.yaml").read_text()
    )
    (target / "destinations").mkdir()
    (target / "destinations" / "lake-s3.yaml").write_text("# hand-written notes\n")
    with running() as emulator:
        seeded(emulator, 0)
        api = ("--api-url", emulator.url)
        out = cli(
            "import", *api, "--kind", "source", "--kind", "destination", "estate", cwd=tmp_path
        )
        assert out.returncode == 0, out.stderr
        assert "skipped source orders-postgres: described by estate/sources/mine.yaml" in out.stdout
        assert (
            "skipped estate/destinations/lake-s3.yaml: exists (--force writes over it)"
            in out.stdout
        )
        assert (target / "destinations" / "lake-s3.yaml").read_text() == "# hand-written notes\n"
        assert not (target / "pipelines").exists()  # --kind: only that kind
        out = cli("import", *api, "--kind", "destination", "--force", "estate", cwd=tmp_path)
        assert "wrote estate/destinations/lake-s3.yaml" in out.stdout
        out = cli("import", *api, "--name", "inventory-*", "--nested", "other", cwd=tmp_path)
        assert out.returncode == 0
        names = sorted(p.name for p in (tmp_path / "other").rglob("*.yaml"))
        assert names == ["inventory-dynamodb.yaml", "inventory-to-lake.yaml"]
        nested = (tmp_path / "other" / "sources" / "inventory-dynamodb.yaml").read_text()
        assert "  aws:\n" in nested
