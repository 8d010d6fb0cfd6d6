"""Run the worked deployment of docs/DEPLOYING.md for real and print its transcript.

    python3 tools/deploy_demo.py > /tmp/transcript.txt

It copies ``examples/project`` into a temporary folder, starts the strict
emulator of the API that the tests use (``tests/emulator.py``, on 127.0.0.1)
and runs the ``streamkap-config`` command next to this interpreter: plan,
apply, re-plan, a change, a secret rotation and a refusal that echoes the body;
then the account adopted into a second project: import, plan (all no-op), a
change applied with ``--wait``, status, and a dropped pipeline pruned.
The emulator's address is printed as ``http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emulator import TOKEN, running  # noqa: E402

SECRETS = {
    "PG_PASSWORD": "pg-secret",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "SNOWFLAKE_PRIVATE_KEY": "sf-secret",
}


def main() -> int:
    work = Path(tempfile.mkdtemp())
    project = work / "project"
    shutil.copytree(ROOT / "examples" / "project", project)
    command = str(Path(sys.executable).parent / "streamkap-config")
    with running() as emulator:
        env = {
            **os.environ,
            **SECRETS,
            "STREAMKAP_TOKEN": TOKEN,
            "STREAMKAP_API_URL": emulator.url,
            "STREAMKAP_CONFIG_CACHE": str(work / "cache"),
            "NO_COLOR": "1",
        }

        def run(*args: str, **extra: str) -> str:
            out = subprocess.run(
                [command, *args], capture_output=True, text=True, env={**env, **extra}, cwd=work
            )
            text = (out.stdout + out.stderr).rstrip().replace(emulator.url, "http://127.0.0.1:PORT")
            print(f"$ streamkap-config {' '.join(args)}\n{text}\n# exit {out.returncode}\n")
            return out.stdout

        run("plan", "project")
        run("apply", "--yes", "--parallelism", "1", "project")  # ids in plan order
        run("plan", "project")
        source = project / "sources" / "orders-postgres.yaml"
        text = source.read_text()
        source.write_text(
            text.replace("dbname: orders", "dbname: orders_v2").replace(
                ", public\\.order_items_\\d+", ""
            )
        )
        pipeline = project / "pipelines" / "orders-to-snowflake.yaml"
        pipeline.write_text(pipeline.read_text().replace(", public.order_items_2026", ""))
        run("plan", "project")
        run("apply", "--yes", "project")
        run("plan", "project")
        run("plan", "--update-secrets", "project", PG_PASSWORD="pg-rotated")
        emulator.fail_on[emulator.writes + 1] = "422-echo"
        run(
            "apply",
            "--yes",
            "--update-secrets",
            "--parallelism",
            "1",
            "project",
            PG_PASSWORD="pg-rotated",
        )
        run("apply", "--yes", "--update-secrets", "project", PG_PASSWORD="pg-rotated")
        adopt(run, work / "adopted", env)
    shutil.rmtree(work)
    return 0


def adopt(run, adopted: Path, env: dict[str, str]) -> None:
    """The account as a team that never had files meets it: import into a project that
    owns its pipelines, plan, a change applied and waited for, status, a prune."""
    adopted.mkdir()
    (adopted / "streamkap.toml").write_text('[prune]\nkinds = ["pipeline"]\n')
    said = run("import", "adopted")
    # The secrets' variables import names: a value each (the secrets are not read back).
    names = [line.strip() for line in said.splitlines() if line.startswith("  ")]
    env.update({name: f"value-of-{name.lower()}" for name in names})
    run("plan", "adopted")
    source = adopted / "sources" / "orders-postgres.yaml"
    source.write_text(source.read_text() + "desired_state: Paused\n")
    run("apply", "--yes", "--wait", "adopted")
    run("status", "adopted/sources")
    (adopted / "pipelines" / "inventory-to-lake.yaml").unlink()
    run("plan", "--prune", "adopted")
    run("apply", "--prune", "--yes", "adopted")
    run("plan", "--prune", "--detailed-exitcode", "adopted")


if __name__ == "__main__":
    raise SystemExit(main())
