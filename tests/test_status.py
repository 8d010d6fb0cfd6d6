"""status, apply --wait and desired_state, against the strict emulator over HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_SECRETS, ROOT
from emulator import TOKEN, running
from streamkap_config.deploy.status import StatusRow, tasks_of, wait
from streamkap_config.remote.client import StreamkapClient

BIN = Path(sys.executable).parent
PROJECT = ROOT / "examples" / "project"
SECRETS = EXAMPLE_SECRETS


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **SECRETS, "STREAMKAP_TOKEN": TOKEN, "NO_COLOR": "1"}
    env["STREAMKAP_CONFIG_CACHE"] = str(cwd / ".cache")
    return subprocess.run(
        [str(BIN / "streamkap-config"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def estate(tmp_path):
    shutil.copytree(PROJECT, tmp_path / "project")
    return tmp_path / "project"


def test_status_after_apply_is_every_object_running(estate):
    with running() as emulator:
        api = ("--api-url", emulator.url)
        out = cli("status", *api, ".", cwd=estate)
        assert out.returncode == 1 and out.stdout.count("missing ") == 7
        assert cli("apply", *api, "--yes", ".", cwd=estate).returncode == 0
        out = cli("status", *api, ".", cwd=estate)
        assert out.returncode == 0, out.stdout + out.stderr
        assert re.search(
            r"^ok source orders-postgres \(sou-\d+\): Active; task 0 RUNNING$", out.stdout, re.M
        )
        assert out.stdout.endswith("7 of 7 running as asked\n")
        body = json.loads(cli("status", *api, "--format", "json", ".", cwd=estate).stdout)
        assert body["ok"] is True and len(body["objects"]) == 7
        assert {"task": "0", "status": "RUNNING"} in body["objects"][0]["tasks"]


def test_a_broken_connector_fails_status_and_apply_wait_naming_its_task(estate):
    with running() as emulator:
        emulator.break_on_start = {"lake-s3"}
        api = ("--api-url", emulator.url)
        out = cli("apply", *api, "--yes", "--wait", "--poll", "0.01s", ".", cwd=estate)
        assert out.returncode == 3, out.stdout + out.stderr
        assert re.search(
            r"^failed destination lake-s3 \(des-\d+\): Broken; task 0 FAILED$", out.stdout, re.M
        )
        assert "destination lake-s3: task 0: org.apache.kafka.connect.errors" in out.stderr
        assert "not running: destination lake-s3 (Broken)" in out.stderr
        out = cli("status", *api, ".", cwd=estate)
        assert out.returncode == 1 and "6 of 7 running as asked" in out.stdout


def test_apply_wait_follows_pending_then_starting_to_active(estate):
    with running() as emulator:
        emulator.starting_reads = 3
        api = ("--api-url", emulator.url)
        out = cli("apply", *api, "--yes", "--wait", "--poll", "0.01s", ".", cwd=estate)
        assert out.returncode == 0, out.stdout + out.stderr
        settled = [line for line in out.stdout.splitlines() if line.startswith("ok ")]
        assert len(settled) == 4  # the sources and destinations; one line each
        (ident,) = [
            i for i, o in emulator.objects["source"].items() if o["name"] == "orders-postgres"
        ]
        gets = [p for m, p in emulator.requests if m == "GET" and f"/sources/{ident}" in p]
        assert len(gets) == 4  # three reads show Starting, the fourth Active


def test_apply_wait_gives_up_at_its_timeout(estate):
    with running() as emulator:
        emulator.starting_reads = 10_000
        api = ("--api-url", emulator.url)
        out = cli(
            "apply",
            *api,
            "--yes",
            "--wait",
            "--timeout",
            "0.3s",
            "--poll",
            "0.05s",
            ".",
            cwd=estate,
        )
        assert out.returncode == 3
        assert "still not settled after 0.3 s: source inventory-dynamodb" in out.stderr


def test_wait_is_bounded_by_its_deadline_on_a_fake_clock():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with running() as emulator:
        emulator.starting_reads = 10_000
        with StreamkapClient(emulator.url, token=TOKEN) as client:
            created = client.create(
                "destination",
                {
                    "name": "d",
                    "connector": "s3",
                    "config": {
                        "aws.access.key.id": "a",
                        "aws.secret.access.key": "b",
                        "aws.s3.region": "eu-west-1",
                        "aws.s3.bucket.name": "x",
                        "format.user.defined": "JSON Array",
                    },
                },
            )
            rows, settled = wait(
                client,
                [("destination", "d", created.id)],
                timeout=60,
                poll=7,
                clock=lambda: now[0],
                sleep=sleep,
            )
    assert not settled and rows[0].status == "Starting"
    assert slept == [7] * 8 + [4]  # 60 s in polls of 7, the last cut to the deadline
    assert sum(slept) == 60


def test_desired_state_paused_is_applied_and_compared(estate):
    source = estate / "sources" / "orders-postgres.yaml"
    source.write_text(source.read_text().replace("config:", "desired_state: Paused\nconfig:", 1))
    with running() as emulator:
        api = ("--api-url", emulator.url)
        assert cli("apply", *api, "--yes", ".", cwd=estate).returncode == 0
        (live,) = [o for o in emulator.objects["source"].values() if o["name"] == "orders-postgres"]
        assert live["desired_state"] == "Paused"
        out = cli("status", *api, "sources/orders-postgres.yaml", cwd=estate)
        assert out.returncode == 0 and re.search(
            r"ok source orders-postgres \(sou-\d+\): Paused", out.stdout
        )
        assert "0 to create, 0 to update" in cli("plan", *api, ".", cwd=estate).stdout
        source.write_text(
            source.read_text().replace("desired_state: Paused", "desired_state: Active")
        )
        out = cli("plan", *api, ".", cwd=estate)
        changed = (
            r'~ update source orders-postgres \(sou-\d+\)\n    desired_state: "Paused" -> "Active"'
        )
        assert re.search(changed, out.stdout)


@pytest.mark.parametrize(
    ("given", "pairs", "traces"),
    [
        ({"0": {"status": "RUNNING"}}, (("0", "RUNNING"),), ()),
        ([{"id": 1, "state": "FAILED", "trace": "boom"}], (("1", "FAILED"),), ("task 1: boom",)),
        (None, (), ()),
        ("weird", (), ()),
    ],
)
def test_task_statuses_in_either_shape(given, pairs, traces):
    assert tasks_of(given) == (pairs, traces)


def test_a_row_is_ok_only_when_running_as_asked():
    assert StatusRow("source", "a", "1", "Active").ok
    assert not StatusRow("source", "a", "1", "Paused").ok  # paused, but nobody asked for it
    assert StatusRow("source", "a", "1", "Paused", "Paused").ok
    assert not StatusRow("source", "a", "1", "Broken").ok
    assert not StatusRow("source", "a").ok and StatusRow("source", "a").settled
    assert not StatusRow("source", "a", "1", "Starting").settled


def test_a_trace_never_quotes_what_was_sent_or_the_token():
    from streamkap_config.deploy.status import _row
    from streamkap_config.remote.resources import Source

    live = Source(
        id="s1",
        name="a",
        connector="postgresql",
        connector_status="Broken",
        task_statuses={"0": {"status": "FAILED", "trace": "jdbc://u:hunter2@db token-9"}},
    )
    with StreamkapClient("http://127.0.0.1:9", token="token-9") as client:
        client.redact(["hunter2"])
        (trace,) = _row("source", "a", live, client).traces
    assert "hunter2" not in trace and "token-9" not in trace and "********" in trace
