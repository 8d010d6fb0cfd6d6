"""The pre-commit hooks, run by the real pre-commit tool in a temporary git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

EXAMPLES = ROOT / "examples"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"

pytestmark = [
    pytest.mark.skipif(
        not PRE_COMMIT.exists() or not (ROOT / ".git").exists(),
        reason="needs the pre-commit tool and a git checkout of this repository",
    ),
    # One worker builds the hook's environment once for the whole module.
    pytest.mark.xdist_group("precommit"),
]


def git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory):
    """A git repo whose pre-commit config points at this repository's HEAD."""
    base = tmp_path_factory.mktemp("precommit")
    repo = base / "repo"
    repo.mkdir()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(base / "pre-commit-home"),
        "STREAMKAP_CONFIG_CACHE": str(base / "cache"),
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "NO_COLOR": "1",
    }
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT}\n    rev: {head}\n    hooks:\n      - id: streamkap-validate\n"
    )
    git(repo, "init", "-q", "-b", "main", env=env)
    out = subprocess.run(
        [str(PRE_COMMIT), "install"], cwd=repo, capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr
    git(repo, "add", ".pre-commit-config.yaml", env=env)
    out = git(repo, "commit", "-q", "-m", "config", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return repo, env


def test_a_bad_file_blocks_the_commit_with_a_positioned_message(hook_repo):
    repo, env = hook_repo
    (repo / "sources").mkdir(exist_ok=True)
    bad = (EXAMPLES / "s3-invalid.source.yaml").read_text()
    (repo / "sources" / "landing.yaml").write_text(bad)
    for n in range(4):  # five files: pre-commit would give two processes 4 and 1
        copy = bad.replace("name: landing-broken", f"name: landing-copy-{n}")
        (repo / "sources" / f"landing-copy-{n}.yaml").write_text(copy)
    git(repo, "add", "sources", env=env)
    out = git(repo, "commit", "-m", "add a bad source", env=env)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "sources/landing.yaml:5:11: error[enum] config.format" in text
    assert "sources/landing-copy-3.yaml:5:11: error[enum] config.format" in text
    # One process for all the files (require_serial): one summary, not one per process.
    summaries = [line for line in text.splitlines() if " files, " in line or " file, " in line]
    assert len(summaries) == 1 and summaries[0].startswith("5 files, ")
    assert "Traceback" not in text
    assert git(repo, "log", "--oneline", env=env).stdout.count("\n") == 1
    git(repo, "reset", "-q", "HEAD", "sources", env=env)
    shutil.rmtree(repo / "sources")


def test_a_good_file_passes(hook_repo):
    repo, env = hook_repo
    shutil.copy(EXAMPLES / "dynamodb.source.yaml", repo / "inventory.source.yaml")
    git(repo, "add", "inventory.source.yaml", env=env)
    out = git(repo, "commit", "-m", "add a good source", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validate Streamkap configurations" in out.stdout + out.stderr


def test_files_outside_the_pattern_are_not_checked(hook_repo):
    repo, env = hook_repo
    (repo / "ci").mkdir(exist_ok=True)
    (repo / "ci" / "workflow.yaml").write_text("on: push\njobs: {}\n")
    git(repo, "add", "ci/workflow.yaml", env=env)
    out = git(repo, "commit", "-m", "unrelated yaml", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "(no files to check)" in out.stdout + out.stderr


def test_a_pipeline_is_checked_against_files_the_commit_does_not_touch(hook_repo):
    repo, env = hook_repo
    estate = repo / "streamkap"
    shutil.copytree(EXAMPLES / "project", estate)
    git(repo, "add", "streamkap", env=env)
    out = git(repo, "commit", "-m", "the estate", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    pipeline = estate / "pipelines" / "orders-to-snowflake.yaml"
    good = pipeline.read_text()
    # Only the pipeline changes: pre-commit passes that one file, its references are
    # found in the unchanged files of the project.
    pipeline.write_text(good.replace("snapshot_new_tables: true", "snapshot_new_tables: false"))
    git(repo, "add", str(pipeline), env=env)
    out = git(repo, "commit", "-m", "no snapshots of new tables", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    pipeline.write_text(good.replace("name: orders-postgres", "name: orders-postgress"))
    git(repo, "add", str(pipeline), env=env)
    out = git(repo, "commit", "-m", "a typo", env=env)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert (
        "streamkap/pipelines/orders-to-snowflake.yaml:4:9: error[unknown-reference] source.name: "
        'no source named "orders-postgress" in the project (hint: did you mean orders-postgres?)'
    ) in text
    assert "sources/orders-postgres.yaml" not in text  # unchanged files are not reported


def test_a_commit_touching_two_environments_checks_each_in_its_own(hook_repo):
    repo, env = hook_repo
    git(repo, "reset", "-q", "--hard", "HEAD", env=env)  # what an earlier test left staged
    platform = repo / "platform"
    shutil.copytree(EXAMPLES / "environments", platform)  # its own streamkap.toml
    prod = platform / "envs" / "prod"
    staging = platform / "envs" / "staging"
    git(repo, "add", "platform", env=env)
    out = git(repo, "commit", "-m", "two environments, one set of names", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    for folder in (prod, staging):  # one commit changes a pipeline of each
        pipeline = folder / "pipelines" / "orders-to-lake.yaml"
        pipeline.write_text(pipeline.read_text() + "snapshot_new_tables: true\n")
    git(repo, "add", "platform", env=env)
    out = git(repo, "commit", "-m", "snapshots in both", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    # A real duplicate inside one environment is still refused, and named as such.
    shutil.copy(prod / "sources" / "orders-postgres.yaml", prod / "sources" / "copy.yaml")
    git(repo, "add", "platform", env=env)
    out = git(repo, "commit", "-m", "a copy", env=env)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert 'also named "orders-postgres" in environment prod' in text
    assert "envs/staging" not in text
    git(repo, "reset", "-q", "HEAD", "platform", env=env)
    (prod / "sources" / "copy.yaml").unlink()


def test_a_helm_chart_and_an_argo_workflow_in_matching_folders_pass(hook_repo):
    repo, env = hook_repo
    git(repo, "reset", "-q", "--hard", "HEAD", env=env)  # what an earlier test left staged
    for folder in ("charts", "k8s"):
        shutil.copytree(EXAMPLES / "monorepo" / folder, repo / folder)
    git(repo, "add", "charts", "k8s", env=env)
    out = git(repo, "commit", "-m", "a chart and a workflow", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Validate Streamkap configurations" in out.stdout + out.stderr
