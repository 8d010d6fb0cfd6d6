"""Prune and renames: what the files dropped is deleted, and only what the project owns.

Real git work trees in temporary folders, the CLI as a subprocess, and the strict
emulator (which refuses to delete a source, destination or transform that a pipeline
still uses, as the backend does).
"""

from __future__ import annotations

import os
import pty
import subprocess
import time
from pathlib import Path

import pytest

from emulator import TOKEN, running
from streamkap_config.core.errors import StreamkapConfigError
from streamkap_config.project.settings import Ownership, ProjectFileError, read_project_file
from test_repositories import LAKE, PIPELINE, SOURCE, repo, run

API = {"STREAMKAP_TOKEN": TOKEN}
OWNED = '[prune]\nprefix = "orders-"\n'


def project(tmp_path: Path, toml: str = OWNED) -> Path:
    return repo(
        tmp_path / "r",
        {
            "streamkap.toml": toml,
            "streamkap/sources/orders.yaml": SOURCE,
            "streamkap/destinations/lake.yaml": LAKE,
            "streamkap/pipelines/orders.yaml": PIPELINE,
        },
    )


def deployed(emulator, root: Path) -> None:
    out = run("apply", "--yes", "--api-url", emulator.url, cwd=root, env=API)
    assert out.returncode == 0, out.stdout + out.stderr


def someone_elses_pipeline(emulator) -> None:
    """A pipeline this project does not own, reading the project's source."""
    source = emulator.named("source", "orders-postgres")
    lake = emulator.named("destination", "lake-s3")
    emulator.seed(
        "pipeline",
        {
            "name": "billing-audit",
            "source": {
                "id": source["id"],
                "name": source["name"],
                "connector": "postgresql",
                "topics": ["public.orders"],
            },
            "destination": {"id": lake["id"], "name": lake["name"], "connector": "s3"},
            "transforms": [],
        },
    )


def test_prune_refuses_without_ownership_and_asks_nothing_of_the_api(tmp_path):
    root = project(tmp_path, toml="")
    with running() as emulator:
        deployed(emulator, root)
        before = len(emulator.requests)
        out = run("plan", "--prune", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 2, out.stdout + out.stderr
        assert "--prune deletes only what this project owns" in out.stderr
        assert "[prune]" in out.stderr and 'prefix = "orders-"' in out.stderr
        assert "Traceback" not in out.stderr
        assert len(emulator.requests) == before  # refused before the first request
        out = run("apply", "--prune", "--yes", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 2 and emulator.names("pipeline") == ["orders-to-lake"]


def test_prune_deletes_what_the_files_dropped_in_order_and_only_what_is_owned(tmp_path):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        stranger = SOURCE.replace("name: orders-postgres", "name: billing-postgres")
        stranger = stranger.replace("dbname: orders", "dbname: billing")
        (root / "other.yaml").write_text(stranger)
        out = run("apply", "--yes", "--api-url", emulator.url, "other.yaml", cwd=root, env=API)
        assert out.returncode == 0, out.stderr
        (root / "other.yaml").unlink()
        # Without --prune nothing is deleted, and the plan says nothing of deletes.
        (root / "streamkap/pipelines/orders.yaml").unlink()
        (root / "streamkap/sources/orders.yaml").unlink()
        out = run("plan", "--api-url", emulator.url, cwd=root, env=API)
        assert "delete" not in out.stdout
        out = run("plan", "--prune", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        deletes = [line for line in lines if line.startswith("- delete")]
        assert [d.split(" (")[0] for d in deletes] == [
            "- delete pipeline orders-to-lake",
            "- delete source orders-postgres",
        ]  # what uses an object goes first; lake-s3 and billing-postgres are not owned
        assert lines[-1] == "0 to create, 0 to update, 1 unchanged, 0 blocked, 2 to delete"
        out = run("apply", "--prune", "--yes", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "done: delete pipeline orders-to-lake" in out.stdout
        assert out.stdout.index("delete pipeline") < out.stdout.index("delete source")
        assert emulator.names("pipeline") == []
        assert emulator.names("source") == ["billing-postgres"]
        assert emulator.names("destination") == ["lake-s3"]
        deletes = [(m, p) for m, p in emulator.requests if m == "DELETE"]
        assert [p.split("/")[1] for m, p in deletes] == ["pipelines", "sources"]
        out = run(
            "plan", "--prune", "--detailed-exitcode", "--api-url", emulator.url, cwd=root, env=API
        )
        assert out.returncode == 0 and out.stdout.endswith("0 blocked, 0 to delete\n")


def test_a_source_still_used_by_a_live_pipeline_is_blocked_not_deleted(tmp_path):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        someone_elses_pipeline(emulator)
        (root / "streamkap/pipelines/orders.yaml").unlink()
        (root / "streamkap/sources/orders.yaml").unlink()
        out = run(
            "plan", "--prune", "--format", "json", "--api-url", emulator.url, cwd=root, env=API
        )
        import json

        changes = {(c["kind"], c["name"]): c for c in json.loads(out.stdout)["changes"]}
        assert changes[("pipeline", "orders-to-lake")]["action"] == "delete"
        blocked = changes[("source", "orders-postgres")]
        assert blocked["action"] == "blocked"
        assert blocked["used_by"] == ["pipeline billing-audit"]
        out = run("plan", "--prune", "--api-url", emulator.url, cwd=root, env=API)
        assert "! blocked source orders-postgres" in out.stdout
        assert "    not deleted: still used by pipeline billing-audit" in out.stdout
        out = run("apply", "--prune", "--yes", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 1 and "blocked: source orders-postgres" in out.stderr
        assert emulator.names("pipeline") == ["billing-audit", "orders-to-lake"]  # nothing ran
        out = run(
            "apply",
            "--prune",
            "--yes",
            "--skip-blocked",
            "--api-url",
            emulator.url,
            cwd=root,
            env=API,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert emulator.names("pipeline") == ["billing-audit"]
        assert emulator.names("source") == ["orders-postgres"]


def test_a_pipeline_planned_keeps_the_live_source_it_names(tmp_path):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        # The source's file is gone, but the pipeline still joins it (live, by id).
        (root / "streamkap/sources/orders.yaml").unlink()
        ident = emulator.named("source", "orders-postgres")["id"]
        pipeline = root / "streamkap/pipelines/orders.yaml"
        pipeline.write_text(PIPELINE.replace("name: orders-postgres", f"id: {ident}"))
        out = run("plan", "--prune", "--api-url", emulator.url, cwd=root, env=API)
        assert "! blocked source orders-postgres" in out.stdout, out.stdout + out.stderr
        assert "still used by pipeline orders-to-lake" in out.stdout


def test_ownership_by_tag_and_kinds_and_per_environment(tmp_path):
    toml = (
        '[prune]\ntag = "team-orders"\nkinds = ["pipeline"]\n'
        '[environments.prod]\n[environments.prod.prune]\nkinds = ["pipeline", "source"]\n'
        "[environments.dev]\n"
    )
    root = project(tmp_path, toml=toml)
    with running() as emulator:
        deployed_env = ("--env", "dev", "--api-url", emulator.url)
        out = run("apply", "--yes", *deployed_env, cwd=root, env=API)
        assert out.returncode == 0, out.stdout + out.stderr
        source = emulator.named("source", "orders-postgres")
        lake = emulator.named("destination", "lake-s3")
        for name, tags in (("tagged", ["team-orders"]), ("untagged", [])):
            emulator.seed(
                "pipeline",
                {
                    "name": name,
                    "source": {
                        "id": source["id"],
                        "name": "orders-postgres",
                        "connector": "postgresql",
                        "topics": ["public.orders"],
                    },
                    "destination": {"id": lake["id"], "name": "lake-s3", "connector": "s3"},
                    "transforms": [],
                    "tags": tags,
                },
            )
        out = run("plan", "--prune", *deployed_env, cwd=root, env=API)
        deletes = [line.split(" (")[0] for line in out.stdout.splitlines() if " delete " in line]
        assert deletes == ["- delete pipeline tagged"], out.stdout + out.stderr
        # prod's own table: every pipeline and source no document describes, any tag.
        prod = ("--env", "prod", "--api-url", emulator.url)
        (root / "streamkap/pipelines/orders.yaml").unlink()
        out = run("plan", "--prune", *prod, cwd=root, env=API)
        deletes = [line.split(" (")[0] for line in out.stdout.splitlines() if " delete " in line]
        assert deletes == [
            "- delete pipeline orders-to-lake",
            "- delete pipeline tagged",
            "- delete pipeline untagged",
        ], out.stdout + out.stderr


def _on_a_terminal(args: list[str], cwd: Path, answers: list[str]) -> tuple[int, str]:
    """Run the CLI with a terminal for stdin and stdout, typing ``answers`` at prompts."""
    from conftest import EXAMPLE_SECRETS
    from test_repositories import BIN

    master, slave = pty.openpty()
    env = {**os.environ, **EXAMPLE_SECRETS, **API, "NO_COLOR": "1"}
    env["STREAMKAP_CONFIG_CACHE"] = str(cwd / ".cache")
    proc = subprocess.Popen(
        [str(BIN / "streamkap-config"), *args],
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    seen, pending = b"", list(answers)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
        if pending and seen.rstrip().endswith((b"[y/N]", b"to delete them:")):
            os.write(master, pending.pop(0).encode() + b"\n")
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, seen.decode().replace("\r\n", "\n")


@pytest.mark.parametrize(("second", "deleted"), [("delete", True), ("y", False)])
def test_apply_prune_asks_again_on_a_terminal_naming_each_delete(tmp_path, second, deleted):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        (root / "streamkap/pipelines/orders.yaml").unlink()
        args = ["apply", "--prune", "--api-url", emulator.url]
        code, seen = _on_a_terminal(args, root, ["y", second])
        assert code == 0, seen
        assert "This deletes 1 live object(s), for good:" in seen
        assert "  - pipeline orders-to-lake (" in seen
        assert "Type 'delete' to delete them:" in seen
        assert (emulator.names("pipeline") == []) is deleted
        assert ("not applied" in seen) is not deleted


def test_a_delete_of_an_object_already_gone_is_done(tmp_path):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        (root / "streamkap/pipelines/orders.yaml").unlink()
        from conftest import EXAMPLE_SECRETS
        from streamkap_config.deploy.plan import apply, plan
        from streamkap_config.project.validate import project_files, validate_project
        from streamkap_config.remote.client import StreamkapClient

        result = validate_project(
            project_files(root), root=root, project_file=read_project_file(root / "streamkap.toml")
        )
        with StreamkapClient(emulator.url, token=TOKEN) as client:
            the_plan = plan(result, client, prune=True, environ=EXAMPLE_SECRETS)
            (gone,) = the_plan.deletes
            emulator.delete("pipeline", gone.id)  # someone was quicker
            done = apply(the_plan, client, environ=EXAMPLE_SECRETS)
        assert done.ok and [(c.name, i) for c, i in done.done] == [("orders-to-lake", gone.id)]


def test_a_likely_rename_is_a_warning_naming_both(tmp_path):
    root = project(tmp_path)
    with running() as emulator:
        deployed(emulator, root)
        source = root / "streamkap/sources/orders.yaml"
        source.write_text(SOURCE.replace("name: orders-postgres", "name: orders-pg"))
        pipeline = root / "streamkap/pipelines/orders.yaml"
        pipeline.write_text(PIPELINE.replace("name: orders-postgres", "name: orders-pg"))
        out = run("plan", "--api-url", emulator.url, cwd=root, env=API)
        assert out.returncode == 0, out.stderr
        warning = [line for line in out.stdout.splitlines() if line.startswith("warning:")]
        assert len(warning) == 1, out.stdout
        assert "source orders-pg is new, but live source orders-postgres (" in warning[0]
        assert "database.dbname, database.hostname.user.defined" in warning[0]
        # Another database on the same host is not a rename.
        source.write_text(
            SOURCE.replace("name: orders-postgres", "name: orders-pg").replace(
                "dbname: orders", "dbname: invoices"
            )
        )
        out = run("plan", "--api-url", emulator.url, cwd=root, env=API)
        assert "warning:" not in out.stdout, out.stdout


# --- the [prune] table ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[prune]\n", "1:2: prune: say what this project owns"),
        ('[prune]\nkinds = ["sources"]\n', "2:9: prune.kinds: 'sources' is not a kind"),
        ('[prune]\nprefix = ""\n', "2:10: prune.prefix: expected a non-empty string"),
        ('[prune]\nprefx = "a"\n', "2:1: unknown key 'prune.prefx': did you mean \"prefix\"?"),
        ('prune = "all"\n', "1:1: prune: expected a table"),
        ("[environments.prod.prune]\n", "1:2: prune: say what this project owns"),
    ],
)
def test_a_broken_prune_table_is_named_at_its_line(tmp_path, toml, problem):
    (tmp_path / "streamkap.toml").write_text(toml)
    with pytest.raises(ProjectFileError) as caught:
        read_project_file(tmp_path / "streamkap.toml")
    assert f"streamkap.toml:{problem}" in str(caught.value)


def test_ownership_every_criterion_must_hold():
    owner = Ownership(prefix="orders-", tag="t", kinds=("source",))
    assert owner.owns("source", "orders-pg", ["t", "u"])
    assert not owner.owns("source", "orders-pg", ["u"])
    assert not owner.owns("source", "billing", ["t"])
    assert not owner.owns("destination", "orders-pg", ["t"])
    assert owner.describe() == "sources named orders-* tagged t"
    assert Ownership(kinds=("pipeline", "transform")).describe() == "pipelines and transforms"


def test_an_environment_without_its_own_table_takes_the_projects(tmp_path):
    (tmp_path / "streamkap.toml").write_text(
        '[prune]\nprefix = "a-"\n[environments.dev]\n[environments.prod.prune]\nprefix = "b-"\n'
    )
    project_file = read_project_file(tmp_path / "streamkap.toml")
    assert project_file.ownership("dev") == Ownership(prefix="a-")
    assert project_file.ownership("prod") == Ownership(prefix="b-")
    assert project_file.ownership(None) == Ownership(prefix="a-")
    with pytest.raises(StreamkapConfigError, match="no environment 'qa'"):
        project_file.ownership("qa")
