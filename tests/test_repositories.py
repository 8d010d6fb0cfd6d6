"""Repositories as teams lay them out: environments, monorepos, the files of one project.

Every repository here is a real git work tree in a temporary folder; the CLI runs
as a subprocess, plan and apply against the stateful emulator over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE_SECRETS, ROOT
from emulator import TOKEN, running

BIN = Path(sys.executable).parent
PROJECT = ROOT / "examples" / "project"
SOURCE = (PROJECT / "sources" / "orders-postgres.yaml").read_text()
LAKE = (PROJECT / "destinations" / "lake-s3.yaml").read_text()
SECRETS = EXAMPLE_SECRETS
PIPELINE = """kind: pipeline
name: orders-to-lake
source:
  name: orders-postgres
  topics: [public.orders]
destination:
  name: lake-s3
"""


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, tool: str = "streamkap-config"
) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        **SECRETS,
        "NO_COLOR": "1",
        "STREAMKAP_CONFIG_CACHE": str(cwd / ".cache"),
        **(env or {}),
    }
    full.pop("STREAMKAP_ENV", None) if "STREAMKAP_ENV" not in (env or {}) else None
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120
    )


def repo(path: Path, files: dict[str, str]) -> Path:
    """A git work tree holding ``files`` (relative path -> text)."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    return path


def environment(name: str) -> dict[str, str]:
    """An environment's estate: a source, a destination and a pipeline joining them."""
    return {
        f"envs/{name}/streamkap/sources/orders.yaml": SOURCE,
        f"envs/{name}/streamkap/destinations/lake.yaml": LAKE,
        f"envs/{name}/streamkap/pipelines/orders.yaml": PIPELINE,
    }


ENV_PATHS = """
[environments.prod]
paths = ["envs/prod"]
[environments.staging]
paths = ["envs/staging"]
"""


# --- two environments that reuse names ---------------------------------------------------


def test_without_a_project_file_two_environments_are_duplicates_and_the_hint_says_so(tmp_path):
    root = repo(tmp_path / "r", {**environment("prod"), **environment("staging")})
    out = run("validate", ".", cwd=root)
    assert out.returncode == 1
    assert out.stdout.count("error[duplicate-name]") == 6
    assert "if these are two environments, declare them in streamkap.toml" in out.stdout


def test_a_directory_per_environment_each_its_own_project(tmp_path):
    files = {**environment("prod"), **environment("staging")}
    files["envs/prod/streamkap.toml"] = ""
    files["envs/staging/streamkap.toml"] = ""
    root = repo(tmp_path / "r", files)
    out = run("validate", ".", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "6 files" in out.stdout and "0 errors" in out.stdout
    # One file of each, as a commit touching both gives them: each in its own project.
    prod = "envs/prod/streamkap/pipelines/orders.yaml"
    staging = "envs/staging/streamkap/pipelines/orders.yaml"
    assert run("validate", prod, staging, cwd=root).returncode == 0
    # A real duplicate inside one environment is still one.
    (root / "envs/prod/streamkap/sources/copy.yaml").write_text(SOURCE)
    out = run("validate", ".", cwd=root)
    assert out.returncode == 1 and out.stdout.count("error[duplicate-name]") == 2
    assert "envs/prod/streamkap/sources/copy.yaml:1:7" in out.stdout
    assert "envs/staging" not in out.stdout


def test_one_project_with_environment_paths(tmp_path):
    files = {**environment("prod"), **environment("staging"), "streamkap.toml": ENV_PATHS}
    root = repo(tmp_path / "r", files)
    out = run("validate", ".", cwd=root)
    assert out.returncode == 0, out.stdout + out.stderr
    # A duplicate in one environment names it; a reference resolves within its own.
    (root / "envs/prod/streamkap/sources/copy.yaml").write_text(SOURCE)
    (root / "envs/staging/streamkap/sources/orders.yaml").write_text(
        SOURCE.replace("name: orders-postgres", "name: orders-staging")
    )
    out = run("validate", ".", cwd=root)
    assert out.returncode == 1
    assert 'another source is also named "orders-postgres" in environment prod' in out.stdout
    assert (
        "envs/staging/streamkap/pipelines/orders.yaml:4:9: error[unknown-reference] "
        'source.name: no source named "orders-postgres" in environment staging'
    ) in out.stdout
    # --env checks one environment: the staging error is not prod's.
    out = run("validate", "--env", "prod", ".", cwd=root)
    assert "envs/staging" not in out.stdout and out.stdout.count("duplicate-name") == 2
    out = run("validate", "--env", "staging", ".", cwd=root)
    assert "duplicate-name" not in out.stdout and "unknown-reference" in out.stdout


def test_a_shared_document_belongs_to_every_environment(tmp_path):
    files = {
        "streamkap.toml": ENV_PATHS,
        "streamkap/destinations/lake.yaml": LAKE,  # shared by both
        "envs/prod/sources/orders.yaml": SOURCE,
        "envs/prod/pipelines/orders.yaml": PIPELINE,
        "envs/staging/sources/orders.yaml": SOURCE,
        "envs/staging/pipelines/orders.yaml": PIPELINE,
    }
    root = repo(tmp_path / "r", files)
    assert run("validate", ".", cwd=root).returncode == 0
    # A second shared lake collides in both environments.
    (root / "streamkap/destinations/copy.yaml").write_text(LAKE)
    out = run("validate", "streamkap", cwd=root)
    assert out.returncode == 1 and out.stdout.count("error[duplicate-name]") == 2


# --- one set of documents, per-environment variables -------------------------------------

VARIABLES = """
[environments.prod]
api_url = "{prod}"
token_env = "PROD_TOKEN"
[environments.prod.variables]
pg_host = "orders-db.prod.internal"
port = 5432

[environments.staging]
api_url = "{staging}"
token_env = "STAGING_TOKEN"
[environments.staging.variables]
pg_host = "orders-db.staging.internal"
"""


def variables_repo(tmp_path: Path, prod: str = "http://127.0.0.1:9", staging: str = "") -> Path:
    source = SOURCE.replace("orders-db.internal.example.com", "${var:pg_host}")
    return repo(
        tmp_path / "r",
        {
            "streamkap.toml": VARIABLES.format(prod=prod, staging=staging or prod),
            "streamkap/sources/orders.yaml": source,
            "streamkap/destinations/lake.yaml": LAKE,
            "streamkap/pipelines/orders.yaml": PIPELINE,
        },
    )


def test_variables_differ_per_environment_and_an_undefined_one_is_an_error(tmp_path):
    root = variables_repo(tmp_path)
    source = root / "streamkap/sources/orders.yaml"
    out = run("payload", "--env", "prod", "--reveal-secrets", str(source), cwd=root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["config"]["database.hostname.user.defined"] == (
        "orders-db.prod.internal"
    )
    out = run("payload", "--env", "staging", "--reveal-secrets", str(source), cwd=root)
    assert "orders-db.staging.internal" in out.stdout
    # Masked like a value from the environment unless revealed.
    out = run("payload", "--env", "prod", str(source), cwd=root)
    assert "orders-db.prod.internal" not in out.stdout and "********" in out.stdout
    out = run("payload", str(source), cwd=root)  # two environments, none picked
    assert out.returncode == 1
    assert "error[unresolved-variable]" in out.stdout + out.stderr
    assert "no environment is selected" in out.stdout + out.stderr
    # A typo is found by validate, per environment, at the value's line and column.
    source.write_text(source.read_text().replace("${var:pg_host}", "${var:pg_hots}"))
    source = source.relative_to(root)
    out = run("validate", str(source), cwd=root)
    assert out.returncode == 1
    assert (
        "streamkap/sources/orders.yaml:5:15: error[unresolved-variable] "
        "config.database.hostname: variable pg_hots is not defined for environment prod, staging"
    ) in out.stdout
    (root / source).write_text((root / source).read_text().replace("pg_hots", "port"))
    out = run("validate", "--env", "prod", str(source), cwd=root)
    assert out.returncode == 0, out.stdout
    out = run("validate", str(source), cwd=root)
    assert "variable port is not defined for environment staging" in out.stdout
    out = run("validate", "--env", "nope", str(source), cwd=root)
    assert out.returncode == 2 and "no environment 'nope'" in out.stderr
    assert "prod, staging" in out.stderr and "Traceback" not in out.stderr


def test_plan_and_apply_reach_each_environment_s_own_account(tmp_path):
    with running() as prod, running() as staging:
        prod.tokens, staging.tokens = {"prod-token"}, {"staging-token"}
        root = variables_repo(tmp_path, prod.url, staging.url)
        env = {"PROD_TOKEN": "prod-token", "STAGING_TOKEN": "staging-token"}
        out = run("plan", cwd=root, env=env)
        assert out.returncode == 2 and "pick one with --env NAME" in out.stderr
        out = run("apply", "--env", "prod", "--yes", cwd=root, env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        assert len(prod.objects["source"]) == 1 and staging.objects["source"] == {}
        (live,) = prod.objects["source"].values()
        assert live["config"]["database.hostname.user.defined"] == "orders-db.prod.internal"
        out = run("plan", "--detailed-exitcode", cwd=root, env={**env, "STREAMKAP_ENV": "prod"})
        assert out.returncode == 0, out.stdout + out.stderr
        out = run("plan", "--env", "staging", "--detailed-exitcode", cwd=root, env=env)
        assert out.returncode == 4 and "3 to create" in out.stdout
        assert "orders-db" not in out.stdout  # a variable's value is masked like a secret


# --- monorepos -------------------------------------------------------------------------

MONOREPO = {
    "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n\n[tool.ruff]\nline-length = 100\n',
    "docker-compose.yaml": "services:\n  db:\n    image: postgres:16\n    ports: ['5432:5432']\n",
    ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
    "charts/streamkap/Chart.yaml": "apiVersion: v2\nname: streamkap\nversion: 0.1.0\n",
    "charts/streamkap/values.yaml": "name: agent\nconfig:\n  replicas: 2\n",
    "charts/streamkap/templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
        "{{- if .Values.config }}\nspec: {}\n{{- end }}\n"
    ),
    "k8s/pipelines/workflow.yaml": (
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: nightly\n"
        "spec:\n  entrypoint: main\n"
    ),
    "k8s/streamkap/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: streamkap\ndata:\n  a: b\n---\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
    ),
    "streamkap/sources/orders.yaml": SOURCE,
    "streamkap/destinations/lake.yaml": LAKE,
    "streamkap/pipelines/orders.yaml": PIPELINE,
}


def test_a_monorepo_validates_only_its_streamkap_files(tmp_path):
    root = repo(tmp_path / "r", MONOREPO)
    out = run(".", cwd=root, tool="streamkap-validate")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("3 files, 1 source, 1 destination, 1 pipeline: 0 errors")
    # Named explicitly (as a hook's pattern may), a foreign file is said to be one.
    foreign = ["k8s/pipelines/workflow.yaml", "charts/streamkap/templates/deployment.yaml"]
    out = run(*foreign, "pyproject.toml", cwd=root, tool="streamkap-validate")
    assert out.returncode == 0, out.stdout
    assert out.stdout.count("warning[not-streamkap]") == 3
    assert "part of the chart at charts/streamkap" in out.stdout
    assert "error" not in out.stdout.replace("0 errors", "")


def test_plan_of_a_monorepo_leaves_the_helm_chart_and_manifests_alone(tmp_path):
    root = repo(tmp_path / "r", MONOREPO)
    with running() as emulator:
        out = run("plan", "--api-url", emulator.url, cwd=root, env={"STREAMKAP_TOKEN": TOKEN})
        assert out.returncode == 0, out.stdout + out.stderr
        assert "3 to create, 0 to update" in out.stdout


def test_files_globs_of_the_project_file_replace_the_folder_rule(tmp_path):
    root = repo(
        tmp_path / "r",
        {
            "streamkap.toml": 'files = ["config/**/*.yaml"]\nexclude = ["config/drafts/**"]\n',
            "config/orders.yaml": SOURCE,
            "config/drafts/orders.yaml": SOURCE,  # excluded: not a duplicate
            "sources/other.yaml": SOURCE,  # not among files: not a duplicate either
            "config/pipes/orders.yaml": PIPELINE.replace("name: lake-s3", "name: nope"),
        },
    )
    out = run("validate", "config/pipes/orders.yaml", cwd=root)
    assert out.returncode == 1
    assert "duplicate-name" not in out.stdout
    assert 'no destination named "nope" in the project' in out.stdout


# --- plan and apply act on the files given -----------------------------------------------


def test_plan_of_one_file_plans_its_documents_and_reads_what_they_name(tmp_path):
    root = repo(
        tmp_path / "r",
        {
            "streamkap/sources/orders.yaml": SOURCE,
            "streamkap/destinations/lake.yaml": LAKE,
            "streamkap/pipelines/orders.yaml": PIPELINE,
        },
    )
    env = {"STREAMKAP_TOKEN": TOKEN}
    with running() as emulator:
        api = ("--api-url", emulator.url)
        pipeline = "streamkap/pipelines/orders.yaml"
        out = run("plan", *api, pipeline, cwd=root, env=env)
        assert out.returncode == 0, out.stderr
        assert "! blocked pipeline orders-to-lake" in out.stdout
        assert "needs source orders-postgres: not live, and not among the files planned" in (
            out.stdout
        )
        assert "source" not in out.stdout.split("\n", 1)[0].replace("needs source", "")
        out = run(
            "apply", *api, "--yes", "streamkap/sources", "streamkap/destinations", cwd=root, env=env
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert emulator.objects["pipeline"] == {}  # not among the files given
        out = run("plan", *api, pipeline, cwd=root, env=env)
        assert out.stdout.splitlines()[0] == "+ create pipeline orders-to-lake"
        assert "1 to create, 0 to update, 0 unchanged, 0 blocked" in out.stdout
        out = run("apply", *api, "--yes", pipeline, cwd=root, env=env)
        assert out.returncode == 0, out.stdout + out.stderr
        (live,) = emulator.objects["pipeline"].values()
        sources = {o["name"]: o["id"] for o in emulator.objects["source"].values()}
        assert live["source"]["id"] == sources["orders-postgres"]
        out = run("plan", *api, "--detailed-exitcode", cwd=root, env=env)  # the whole project
        assert out.returncode == 0 and "3 unchanged" in out.stdout


def test_plan_refuses_files_of_two_projects(tmp_path):
    files = {**environment("prod"), **environment("staging")}
    files["envs/prod/streamkap.toml"] = ""
    files["envs/staging/streamkap.toml"] = ""
    root = repo(tmp_path / "r", files)
    out = run("plan", "envs/prod", "envs/staging", cwd=root, env={"STREAMKAP_TOKEN": TOKEN})
    assert out.returncode == 2
    assert "belong to 2 projects (envs/prod, envs/staging)" in out.stderr


def test_paths_of_files_not_named_are_relative_to_the_current_directory(tmp_path):
    root = repo(
        tmp_path / "r",
        {"streamkap/sources/a.yaml": SOURCE, "streamkap/sources/b.yaml": SOURCE},
    )
    out = run("validate", "streamkap/sources/a.yaml", cwd=root)
    assert "(streamkap/sources/b.yaml:1:7)" in out.stdout
    assert str(tmp_path) not in out.stdout + out.stderr
    out = run("validate", "sources/a.yaml", cwd=root / "streamkap")
    assert "(sources/b.yaml:1:7)" in out.stdout


# --- the project file itself -------------------------------------------------------------


def test_a_broken_project_file_names_every_problem_with_its_line(tmp_path):
    root = repo(
        tmp_path / "r",
        {
            "streamkap.toml": (
                'file = ["x"]\n[environments.prod]\napi_url = "ftp://x"\ntoken_env = "1A"\n'
                "[environments.prod.variables]\nok = 1\nbad = [1]\n"
            ),
            "streamkap/sources/orders.yaml": SOURCE,
        },
    )
    out = run("validate", ".", cwd=root)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "streamkap.toml is not a valid project file" in out.stderr
    assert "streamkap.toml:1:1: unknown key 'file': did you mean \"files\"?" in out.stderr
    assert "streamkap.toml:3:11: api_url: expected an http(s) URL" in out.stderr
    assert "streamkap.toml:4:13: token_env: '1A' is not a variable name" in out.stderr
    assert "streamkap.toml:7:7: variable bad: expected a string, number or boolean" in out.stderr
    assert "Traceback" not in out.stderr
    (root / "streamkap.toml").write_text("[environments\n")
    out = run("validate", ".", cwd=root)
    assert out.returncode == 2 and "streamkap.toml:1:" in out.stderr


@pytest.mark.parametrize("tool", ["streamkap-validate", "streamkap-config"])
def test_env_without_a_project_file_is_a_usage_error(tmp_path, tool):
    root = repo(tmp_path / "r", {"streamkap/sources/orders.yaml": SOURCE})
    args = (
        ("--env", "prod", ".")
        if tool == "streamkap-validate"
        else ("validate", "--env", "prod", ".")
    )
    out = run(*args, cwd=root, tool=tool)
    assert out.returncode == 2 and "no streamkap.toml declaring environments" in out.stderr


def test_plan_no_project_reads_only_the_files_given(tmp_path):
    root = repo(
        tmp_path / "r",
        {
            "streamkap/sources/orders.yaml": SOURCE,
            "streamkap/sources/copy.yaml": SOURCE,  # a duplicate the run does not read
            "streamkap/destinations/lake.yaml": LAKE,
        },
    )
    env = {"STREAMKAP_TOKEN": TOKEN}
    with running() as emulator:
        api = ("--api-url", emulator.url)
        out = run("plan", *api, "streamkap/sources/orders.yaml", cwd=root, env=env)
        assert out.returncode == 1 and "duplicate-name" in out.stderr  # the project sees both
        out = run("plan", *api, "--no-project", "streamkap/sources/orders.yaml", cwd=root, env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0] == "+ create source orders-postgres"
        out = run("plan", *api, "--no-project", cwd=root, env=env)
        assert out.returncode == 2 and "needs the files to read" in out.stderr
