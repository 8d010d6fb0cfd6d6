"""The command line, run as a subprocess, as users and pre-commit run it."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiserver import ApiServer
from conftest import ROOT
from streamkap_config import KINDS, bundled_schemas
from streamkap_config.schemas.editor import combined_schema, editor_schema

EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent
ANSI = re.compile(r"\x1b\[")


def run(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    tool: str = "streamkap-config",
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "", **(env or {})}
    full_env.setdefault("STREAMKAP_CONFIG_CACHE", str(cwd or ROOT) + "/.no-cache")
    return subprocess.run(
        [str(BIN / tool), *args], capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120
    )


def validate(*args: str, **kw) -> subprocess.CompletedProcess[str]:
    return run(*args, tool="streamkap-validate", **kw)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("STREAMKAP_CONFIG_CACHE", str(tmp_path / "cache"))
    return tmp_path


DOCUMENTS = [
    p for p in EXAMPLES.iterdir() if p.is_file() and p.suffix in (".yaml", ".json", ".toml")
]


VALID = sorted(str(p) for p in DOCUMENTS if "-invalid" not in p.name)
INVALID = sorted(str(p) for p in DOCUMENTS if "-invalid" in p.name)


def test_valid_examples_pass(workdir):
    out = validate(*VALID, cwd=workdir)  # one run: 0 errors in all is 0 errors in each
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.splitlines()[-1].startswith(f"{len(VALID)} files, ")
    assert re.search(r": 0 errors, ", out.stdout)


def test_invalid_examples_fail_with_positions(workdir):
    out = validate(*INVALID, cwd=workdir)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert lines[-1].startswith(f"{len(INVALID)} files, ")
    failed = set()
    for line in lines[:-1]:
        found = re.match(r"^(.+?):\d+:\d+: (error|warning)\[[a-z-]+\] ", line)
        assert found is not None and found.group(1) in INVALID, line
        if found.group(2) == "error":
            failed.add(found.group(1))
    assert failed == set(INVALID)  # each of them fails, with positions
    assert "Traceback" not in out.stderr


def test_text_output_exact_line(workdir):
    f = workdir / "pg.source.yaml"
    f.write_text(
        (EXAMPLES / "postgresql.source.yaml").read_text().replace("port: 5432", 'port: "abc"', 1)
    )
    out = validate(str(f), cwd=workdir)
    assert out.returncode == 1
    assert (
        f'{f}:8:11: error[type] config.database.port: expected an integer, got "abc"' in out.stdout
    )
    assert out.stdout.splitlines()[-1] == "1 file, 1 source: 1 error, 0 warnings"


def test_json_format(workdir):
    out = validate(
        "--format",
        "json",
        str(EXAMPLES / "postgresql-invalid.source.yaml"),
        str(EXAMPLES / "s3.source.yaml"),
        cwd=workdir,
    )
    assert out.returncode == 1
    body = json.loads(out.stdout)
    assert set(body) == {"files", "summary"}
    first, second = body["files"]
    assert first["issues"] == []
    (source,) = first["documents"]
    assert set(source) == {"kind", "name", "connector", "schema_version", "ok", "issues"}
    assert source["ok"] is False and source["connector"] == "postgresql"
    issue = source["issues"][0]
    assert set(issue) == {"code", "severity", "key", "pointer", "line", "column", "message", "hint"}
    assert len(second["documents"]) == 2
    assert body["summary"]["files"] == 2 and body["summary"]["sources"] == 3
    assert body["summary"]["errors"] == 5 and body["summary"]["warnings"] == 2


def test_github_format(workdir):
    out = validate("--format", "github", str(EXAMPLES / "s3-invalid.source.yaml"), cwd=workdir)
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"::error file={EXAMPLES / 's3-invalid.source.yaml'},line=3,col=16,")
    assert "title=streamkap envelope::" in lines[0]


def test_parse_error_is_invalid_not_a_crash(workdir):
    bad = workdir / "bad.source.yaml"
    bad.write_text("name: [unclosed\n")
    out = validate(str(bad), cwd=workdir)
    assert out.returncode == 1 and "parse-error" in out.stdout and "Traceback" not in out.stderr


def test_unreadable_and_missing_files_exit_2_and_appear_in_every_format(workdir):
    big = workdir / "big.yaml"
    big.write_text("a: " + "x" * 100 + "\n")
    good = str(EXAMPLES / "dynamodb.source.yaml")
    missing = str(workdir / "missing.yaml")
    args = ("--max-bytes", "1000", missing, good)
    out = validate(*args, cwd=workdir)
    assert out.returncode == 2
    assert f"{missing}: error[parse-error] cannot read the file: no such file" in out.stdout
    assert "2 files, 1 source: 1 error, 0 warnings" in out.stdout
    out = validate("--format", "json", *args, cwd=workdir)
    report = json.loads(out.stdout)
    (entry,) = [f for f in report["files"] if f["path"] == missing]
    assert [i["code"] for i in entry["issues"]] == ["parse-error"]
    summary = {k: v for k, v in report["summary"].items() if k != "documents"}
    assert summary == {
        "files": 2,
        "sources": 1,
        "destinations": 0,
        "transforms": 0,
        "pipelines": 0,
        "errors": 1,
        "warnings": 0,
    }
    out = validate("--format", "github", *args, cwd=workdir)
    assert f"::error file={missing},title=streamkap parse-error::cannot read" in out.stdout
    out = validate("--max-bytes", "10", str(big), cwd=workdir)
    assert out.returncode == 2 and "over the limit" in out.stdout


def test_usage_errors_exit_2(workdir):
    assert validate(cwd=workdir).returncode == 2
    assert validate("--format", "xml", "x.yaml", cwd=workdir).returncode == 2
    assert run("frobnicate", cwd=workdir).returncode == 2
    assert run(cwd=workdir).returncode == 2


def test_directories_are_walked(workdir):
    d = workdir / "sources"
    (d / "nested").mkdir(parents=True)
    (d / "a.yaml").write_text((EXAMPLES / "dynamodb.source.yaml").read_text())
    (d / "nested" / "b.json").write_text((EXAMPLES / "mysql-invalid.source.json").read_text())
    (d / "notes.txt").write_text("not a source")
    out = validate(str(d), cwd=workdir)
    assert out.returncode == 1
    assert out.stdout.splitlines()[-1].startswith("2 files, 2 sources:")


def test_connector_flag_for_bare_config(workdir):
    f = workdir / "bare.yaml"
    f.write_text("format: csv\naws.s3.region: eu-west-1\n")
    assert validate("--connector", "s3", str(f), cwd=workdir).returncode == 0
    # Without it the file holds nothing a Streamkap document holds: named, it is said so.
    out = validate(str(f), cwd=workdir)
    assert out.returncode == 0 and "warning[not-streamkap]" in out.stdout
    assert "a bare config needs --connector" in out.stdout


def test_strict_and_no_plaintext_secrets(workdir):
    f = workdir / "m.source.json"
    f.write_text((EXAMPLES / "mysql.source.json").read_text())
    assert validate(str(f), cwd=workdir).returncode == 0
    out = validate("--strict", str(f), cwd=workdir)
    assert out.returncode == 1 and "strict mode" in out.stdout
    f.write_text(f.read_text().replace("${env:MYSQL_PASSWORD}", "sekret-in-file"))
    out = validate(str(f), cwd=workdir)
    assert out.returncode == 0 and "warning[plaintext-secret]" in out.stdout
    out = validate("--no-plaintext-secrets", "--format", "json", str(f), cwd=workdir)
    assert out.returncode == 1
    assert "sekret-in-file" not in out.stdout + out.stderr


def test_quiet_and_verbose(workdir):
    f = str(EXAMPLES / "postgresql-invalid.source.yaml")
    quiet = validate("-q", f, cwd=workdir).stdout
    assert "warning[" not in quiet and "error[" in quiet and "files" not in quiet
    verbose = validate("-v", str(EXAMPLES / "s3.source.yaml"), cwd=workdir).stdout
    assert "ok source landing-json (s3" in verbose


def _tty_output(args: list[str], env: dict[str, str]) -> str:
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "streamkap-validate"), *args],
        stdout=slave,
        stderr=slave,
        env={**os.environ, **env},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(workdir):
    f = str(EXAMPLES / "s3-invalid.source.yaml")
    env = {"STREAMKAP_CONFIG_CACHE": str(workdir / "c"), "TERM": "xterm"}
    env_no = {**env, "NO_COLOR": "1"}
    assert ANSI.search(_tty_output([f], {**env, "NO_COLOR": ""}))
    assert not ANSI.search(_tty_output([f], env_no))
    assert not ANSI.search(validate(f, cwd=workdir).stdout)


def test_payload_masks_and_reveals(workdir):
    env = {"PG_PASSWORD": "sekret-pg-password"}
    out = run("payload", str(EXAMPLES / "postgresql.source.yaml"), cwd=workdir, env=env)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["config"]["database.password"] == "********"
    assert body["config"]["database.port.user.defined"] == 5432
    assert body["created_from"] == "api"
    assert "sekret-pg-password" not in out.stdout + out.stderr
    out = run(
        "payload",
        "--reveal-secrets",
        str(EXAMPLES / "postgresql.source.yaml"),
        cwd=workdir,
        env=env,
    )
    assert json.loads(out.stdout)["config"]["database.password"] == "sekret-pg-password"


def test_payload_of_invalid_or_unresolved_exits_1(workdir):
    out = run("payload", str(EXAMPLES / "postgresql-invalid.source.yaml"), cwd=workdir)
    assert out.returncode == 1 and "error[enum]" in out.stderr and out.stdout == ""
    env = {k: v for k, v in os.environ.items() if k != "PG_PASSWORD"}
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "payload", str(EXAMPLES / "postgresql.source.yaml")],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
    )
    assert out.returncode == 1 and "unresolved-secret" in out.stderr


def test_payload_of_a_sources_list_needs_a_name_or_jsonl(workdir):
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "b"}
    s3 = str(EXAMPLES / "s3.source.yaml")
    out = run("payload", s3, cwd=workdir, env=env)
    assert out.returncode == 2 and out.stdout == ""
    assert "2 documents (documents: landing-json, landing-csv)" in out.stderr
    assert "--name NAME" in out.stderr and "--jsonl" in out.stderr
    out = run("payload", "--jsonl", "--include-defaults", s3, cwd=workdir, env=env)
    bodies = [json.loads(line) for line in out.stdout.splitlines()]
    assert [b["name"] for b in bodies] == ["landing-json", "landing-csv"]
    assert bodies[1]["desired_state"] == "Paused"
    assert bodies[1]["config"]["tasks.max"] == 5  # the default, added on request
    out = run("payload", "--name", "landing-csv", s3, cwd=workdir, env=env)
    assert "tasks.max" not in json.loads(out.stdout)["config"]
    out = run("payload", "--name", "nope", s3, cwd=workdir, env=env)
    assert out.returncode == 2 and "no document named 'nope'" in out.stderr


def test_the_s3_example_builds_with_its_variables_set_and_fails_clearly_without(workdir):
    s3 = str(EXAMPLES / "s3.source.yaml")
    env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY", "AWS_SECRET_ACCESS_KEY": "wJalrSECRET"}
    out = run("payload", "--name", "landing-json", "--reveal-secrets", s3, cwd=workdir, env=env)
    config = json.loads(out.stdout)["config"]
    assert config["aws.access.key.id"] == "AKIAEXAMPLEKEY"
    assert config["aws.secret.access.key"] == "wJalrSECRET"
    out = run("payload", "--name", "landing-json", s3, cwd=workdir, env=env)
    masked = json.loads(out.stdout)["config"]
    # Not a secret in the schema, but it came from the environment: masked all the same.
    assert masked["aws.access.key.id"] == "********"
    assert "AKIAEXAMPLEKEY" not in out.stdout + out.stderr
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "payload", "--name", "landing-json", s3],
        capture_output=True,
        text=True,
        cwd=workdir,
        env={**bare, "STREAMKAP_CONFIG_CACHE": str(workdir / "c")},
    )
    assert out.returncode == 1 and out.stdout == ""
    assert (
        "8:24: error[unresolved-secret] config.aws.access.key.id: environment variable "
        "AWS_ACCESS_KEY_ID is not set"
    ) in out.stderr
    assert "1 file, 1 source: 2 errors, 0 warnings" in out.stderr
    assert "${env:" not in out.stdout


def test_payload_reads_stdin_and_reports_in_the_format_asked(workdir):
    text = (EXAMPLES / "postgresql-invalid.source.yaml").read_text()
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "payload", "--format", "json", "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    assert out.returncode == 1
    report = json.loads(out.stdout)
    (source,) = report["files"][0]["documents"]
    assert report["files"][0]["path"] == "<stdin>" and not source["ok"]
    assert report["summary"]["sources"] == 1
    assert {"required", "type", "enum", "unknown-key"} <= {i["code"] for i in source["issues"]}
    out = run("payload", "--format", "github", str(EXAMPLES / "postgresql-invalid.source.yaml"))
    assert out.stdout.startswith("::error file=")


def test_payload_no_plaintext_secrets_and_allow_env(workdir):
    f = workdir / "pg.yaml"
    f.write_text((EXAMPLES / "postgresql.source.yaml").read_text())
    out = run("payload", str(f), cwd=workdir, env={"PG_PASSWORD": "pw"})
    assert out.returncode == 0
    out = run("payload", "--allow-env", "AWS_*", str(f), cwd=workdir, env={"PG_PASSWORD": "pw"})
    assert out.returncode == 1 and "PG_PASSWORD may not be read" in out.stderr
    env = {"PG_PASSWORD": "pw", "STREAMKAP_ALLOW_ENV": "PG_*,X"}
    assert run("payload", str(f), cwd=workdir, env=env).returncode == 0
    f.write_text(f.read_text().replace("${env:PG_PASSWORD}", "hunter2"))
    out = run("payload", "--no-plaintext-secrets", str(f), cwd=workdir)
    assert out.returncode == 1 and "error[plaintext-secret]" in out.stderr
    assert "hunter2" not in out.stdout + out.stderr


def test_connector_option_contradicting_the_file_is_an_error(workdir):
    pg = str(EXAMPLES / "postgresql.source.yaml")
    out = validate("--connector", "mysql", pg, cwd=workdir)
    assert out.returncode == 1
    assert 'error[envelope] connector: the document names connector "postgresql" but "mysql"' in (
        out.stdout
    )
    assert validate("--connector", "postgresql", pg, cwd=workdir).returncode == 0
    out = run("payload", "--connector", "mysql", pg, cwd=workdir, env={"PG_PASSWORD": "x"})
    assert out.returncode == 1 and out.stdout == ""


def test_a_file_given_twice_is_read_once_and_two_sources_with_one_name_are_reported(workdir):
    pg = str(workdir / "orders.yaml")
    Path(pg).write_text((EXAMPLES / "postgresql.source.yaml").read_text())
    assert "1 file, 1 source: 0 errors" in validate(pg, pg, cwd=workdir).stdout
    copy = workdir / "copy.yaml"
    copy.write_text(Path(pg).read_text())
    out = validate(pg, str(copy), cwd=workdir)
    assert out.returncode == 1
    # Both are reported, each naming the other: the order of the files changes nothing.
    assert (
        f'{copy}:3:7: error[duplicate-name] name: another source is also named "orders-postgres"'
        f" ({pg}:3:7)"
    ) in out.stdout
    assert (
        f'{pg}:3:7: error[duplicate-name] name: another source is also named "orders-postgres"'
        f" ({copy}:3:7)"
    ) in out.stdout


def test_keys_beside_sources_are_errors_and_an_empty_list_a_warning(workdir):
    f = workdir / "s.yaml"
    f.write_text("sources: []\nextra: 1\n")
    out = validate(str(f), cwd=workdir)
    assert out.returncode == 1
    assert f"{f}:1:10: warning[envelope] sources: the list is empty" in out.stdout
    assert (
        f"{f}:2:1: error[envelope] extra: unknown field beside the document lists"
        " (hint: a file of lists holds only sources, destinations, transforms, pipelines)"
    ) in out.stdout


def test_schemas_list_show_export(workdir):
    out = run("schemas", "list", cwd=workdir)
    rows = out.stdout.splitlines()
    assert out.returncode == 0 and len(rows) == 1 + 25 + 24 + 7
    assert re.match(
        r"postgresql\s+PostgreSQL\s+[0-9a-f]{12}\s+bundled",
        rows[[r.split()[1] for r in rows].index("postgresql")].split(None, 1)[1],
    )
    out = run("schemas", "show", "postgresql", cwd=workdir)
    assert "database.port.user.defined" in out.stdout and "database_port" in out.stdout
    assert "ssh.enabled == true" in out.stdout
    assert "  allowed: require, disable\n" in out.stdout  # the full enum
    assert "Password to access the database" in out.stdout  # descriptions in text mode
    assert run("schemas", "show", "nope", cwd=workdir).returncode == 3
    out = run("schemas", "show", "postgres", cwd=workdir)
    assert out.returncode == 3 and "did you mean postgresql?" in out.stderr
    out = run("schemas", "export", "--editor", str(workdir / "editor"), cwd=workdir)
    files = sorted((workdir / "editor").glob("*.json"))
    assert out.returncode == 0 and len(files) == 25 + 24 + 7 + 1  # and streamkap.json
    # Each is the editor schema of a bundled connector; test_editor.py checks those
    # schemas (and streamkap.json) against draft-07.
    written = {f.stem: json.loads(f.read_text()) for f in files if f.name != "streamkap.json"}
    expected = {
        code if kind == "source" else f"{kind}-{code}": editor_schema(version.definition)
        for kind in KINDS
        for code, version in bundled_schemas(kind).items()
    }
    assert written == expected
    everything = json.loads((workdir / "editor" / "streamkap.json").read_text())
    assert everything == combined_schema(
        {k: [v.definition for v in bundled_schemas(k).values()] for k in KINDS}
    )


def test_editor_schema_accepts_the_examples_and_the_list_form_and_requires_required_keys(
    workdir,
):
    import yaml

    codes = ("postgresql", "dynamodb", "s3")
    run("schemas", "export", "--editor", str(workdir / "e"), *codes, cwd=workdir)
    for code, name in (
        ("postgresql", "postgresql.source.yaml"),
        ("dynamodb", "dynamodb.source.yaml"),
        ("s3", "s3.source.yaml"),  # the sources: list form
    ):
        schema = json.loads((workdir / "e" / f"{code}.json").read_text())
        doc = yaml.safe_load((EXAMPLES / name).read_text())
        assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    pg = jsonschema.Draft7Validator(json.loads((workdir / "e" / "postgresql.json").read_text()))
    doc = yaml.safe_load((EXAMPLES / "postgresql.source.yaml").read_text())
    assert not pg.is_valid({**doc, "config": {}})
    assert not pg.is_valid({"sources": [{**doc, "config": {}}]})
    del doc["config"]["database"]["dbname"]
    assert not pg.is_valid(doc)
    doc["config"]["database.dbname"] = "x"  # the dotted spelling satisfies it too
    assert pg.is_valid(doc)


def test_every_option_and_positional_has_help_and_offline_commands_take_no_api_url(workdir):
    commands = [
        ("validate",),
        ("payload",),
        ("schemas", "list"),
        ("schemas", "show"),
        ("schemas", "pull"),
        ("schemas", "lock"),
        ("schemas", "diff"),
        ("schemas", "export"),
    ]
    from streamkap_config.cli import build_parser, validate_parser

    def actions(parser, path):
        for words in path:
            sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
            parser = sub.choices[words]
        return parser, [a for a in parser._actions if a.__class__.__name__ != "_HelpAction"]

    for path in commands:
        _, found = actions(build_parser(), path)
        for action in found:
            assert action.help, f"{' '.join(path)}: {action.dest} has no help"
            if action.metavar and "CODE" in str(action.metavar).upper():
                assert action.metavar == "CODE"
        has_api = any("--api-url" in a.option_strings for a in found)
        assert has_api == (path == ("schemas", "pull")), path
    for action in validate_parser()._actions:
        assert action.help


def test_pull_lock_diff_through_the_cli(workdir):
    with ApiServer() as server:
        env = {"STREAMKAP_TOKEN": "static-token"}
        cache = str(workdir / "cache")
        # --cache-dir before and after the subcommand.
        out = run(
            "--cache-dir",
            cache,
            "schemas",
            "pull",
            "--api-url",
            server.url,
            "s3",
            "kafkadirect",
            cwd=workdir,
            env=env,
        )
        assert out.returncode == 0, out.stderr
        assert "s3: updated" in out.stdout
        out = run("schemas", "list", "--cache-dir", cache, cwd=workdir)
        assert re.search(r"^source\s+s3\s+S3\s+\S+\s+cache\s+\d+m", out.stdout, re.M)
        out = run("schemas", "lock", "--cache-dir", cache, cwd=workdir)
        assert out.returncode == 0 and (workdir / "streamkap-schemas.lock").is_file()
        out = run("schemas", "diff", "s3", "bundled", "current", "--cache-dir", cache, cwd=workdir)
        assert out.returncode == 0 and "no changes" in out.stdout
        from test_cache import breaking_change

        breaking_change(server, "kafkadirect")
        out = run(
            "schemas",
            "pull",
            "--api-url",
            server.url,
            "kafkadirect",
            "--cache-dir",
            cache,
            cwd=workdir,
            env=env,
        )
        assert "kafkadirect: updated" in out.stdout
        out = run("schemas", "diff", "kafkadirect", "--cache-dir", cache, cwd=workdir)
        assert out.returncode == 0
        assert re.search(r"BREAKING +added +new.required.key", out.stdout)
        out = run(
            "schemas",
            "diff",
            "kafkadirect",
            "--fail-on-breaking",
            "--format",
            "json",
            "--cache-dir",
            cache,
            cwd=workdir,
        )
        assert out.returncode == 1 and json.loads(out.stdout)["breaking"] is True
        # The lock written before the change still pins the reviewed version.
        f = workdir / "k.source.yaml"
        f.write_text(
            "name: k\nconnector: kafkadirect\nconfig: {topic.prefix: p, topic.include.list: t}\n"
        )
        assert validate(str(f), "--cache-dir", cache, cwd=workdir).returncode == 0
        out = validate(
            str(f), "--cache-dir", cache, "--lock", str(workdir / "none.lock"), cwd=workdir
        )
        assert out.returncode == 2
        (workdir / "streamkap-schemas.lock").unlink()
        out = validate(str(f), "--cache-dir", cache, cwd=workdir)
        assert out.returncode == 1 and "new.required.key" in out.stdout

        def pull_s3(token: str) -> subprocess.CompletedProcess[str]:
            return run(
                "schemas",
                "pull",
                "--api-url",
                server.url,
                "s3",
                "--retries",
                "0",
                "--cache-dir",
                cache,
                cwd=workdir,
                env={"STREAMKAP_TOKEN": token},
            )

        server.faults = ["500"] * 20
        out = pull_s3("static-token")
        assert out.returncode == 3 and "s3:" in out.stderr and "500" in out.stderr
        out = pull_s3("")
        assert out.returncode == 3


def test_lock_pin_missing_exits_3(workdir):
    (workdir / "streamkap-schemas.lock").write_text(
        json.dumps({"connectors": {"s3": {"version": "f" * 64, "sha256": "f" * 64}}})
    )
    f = workdir / "s.source.yaml"
    f.write_text((EXAMPLES / "s3.source.yaml").read_text())
    out = validate(str(f), cwd=workdir)
    assert out.returncode == 3 and "schema-unavailable" in out.stdout
    broken = workdir / "other.lock"
    broken.write_text("{")
    out = validate("--lock", str(broken), str(f), cwd=workdir)
    assert out.returncode == 2 and "not a valid lock file" in out.stderr


# --- a corpus of broken files: no traceback, only documented exit codes --------------------

FIXED_CORPUS = {
    "empty.yaml": b"",
    "scalar.yaml": b"hello\n",
    "list-of-scalars.yaml": b"- 1\n- 2\n",
    "bad-indent.yaml": b"name: a\n  connector: b\n",
    "tab.yaml": b"name:\ta\n\tconfig: 1\n",
    "tag.yaml": b"!!python/object:os.system {}\n",
    "unknown-alias.yaml": b"a: *nope\n",
    "binary.json": bytes(range(256)),
    "latin1.yaml": "name: caf\u00e9\n".encode("latin-1"),
    "nul.json": b'{"name": "\x00"}',
    "deep.json": b"[" * 5000,
    "numbers.json": b'{"config": {"a": 1e999}}',
    "huge-int.yaml": b"config: {database.port: 99999999999999999999999999999}\n",
    "list-config.yaml": b"name: n\nconnector: s3\nconfig: [1, 2]\n",
    "null-config.yaml": b"name: n\nconnector: s3\nconfig:\n",
    "sources-scalar.yaml": b"sources: 5\n",
    "sources-mixed.yaml": b"sources: [5, {name: n}]\n",
    "bad.toml": b"[config\nname = \n",
    "keys.yaml": b"? [complex, key]\n: value\n",
    "bool-keys.yaml": b"true: 1\n1: 2\nnull: 3\n",
    "merge-bad.yaml": b"a:\n  <<: 5\n",
    "connector-list.yaml": b"name: n\nconnector: [s3]\nconfig: {}\n",
    "bom.json": b'\xef\xbb\xbf{"name": "n", "connector": "s3", "config": {}}',
}


def _assert_graceful(folder: Path) -> None:
    out = validate(str(folder), cwd=folder)
    assert out.returncode in (0, 1, 2), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    out = validate("--format", "json", str(folder), cwd=folder)
    assert out.returncode in (0, 1, 2) and "Traceback" not in out.stderr
    if out.returncode != 2:
        json.loads(out.stdout)


def test_fixed_corpus_of_broken_files(tmp_path):
    for name, data in FIXED_CORPUS.items():
        (tmp_path / name).write_bytes(data)
    _assert_graceful(tmp_path)  # all of them in one real run of the command
    import contextlib
    import io

    from streamkap_config.cli import validate_main

    for name in FIXED_CORPUS:  # and each alone, in process: its own exit code
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = validate_main([str(tmp_path / name), "--cache-dir", str(tmp_path / "c")])
        assert code in (0, 1, 2) and "Traceback" not in err.getvalue(), name


yaml_texts = st.lists(
    st.sampled_from(
        [
            "name: ",
            "connector: s3",
            "config:",
            "  ",
            "- ",
            "&a ",
            "*a",
            "{",
            "}",
            "[",
            "]",
            ": ",
            "\n",
            "'",
            '"',
            "!!str ",
            "<<: ",
            "format: ",
            "yes",
            "0755",
            "${env:X}",
            "#",
            "---\n",
            "?",
            "\t",
            "aws.s3.region",
        ]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=5, deadline=None)
@given(
    st.lists(st.binary(max_size=300), min_size=5, max_size=20),
    st.lists(yaml_texts, min_size=5, max_size=20),
)
def test_generated_broken_files_never_crash(tmp_path_factory, blobs, texts):
    folder = tmp_path_factory.mktemp("corpus")
    for i, data in enumerate(blobs):
        (folder / f"b{i}.{('yaml', 'json', 'toml')[i % 3]}").write_bytes(data)
    for i, text in enumerate(texts):
        (folder / f"t{i}.yaml").write_text(text)
    _assert_graceful(folder)


def test_kinds_through_the_cli(workdir):
    bare = workdir / "wh.yaml"
    bare.write_text(
        "snowflake.url.name: u\nsnowflake.user.name: n\nsnowflake.private.key: ${env:K}\n"
        "snowflake.database.name: d\nsnowflake.schema.name: s\n"
    )
    out = validate("--kind", "destination", "--connector", "snowflake", str(bare), cwd=workdir)
    assert out.returncode == 0 and "1 file, 0 sources, 1 destination: 0 errors" in out.stdout
    out = validate("--connector", "snowflake", str(bare), cwd=workdir)
    assert out.returncode == 1 and "error[kind-mismatch]" in out.stdout
    out = run(
        "payload",
        "--kind",
        "destination",
        "--connector",
        "snowflake",
        str(bare),
        cwd=workdir,
        env={"K": "key"},
    )
    body = json.loads(out.stdout)
    assert body["connector"] == "snowflake" and body["name"] == "wh" and "kind" not in body
    out = run("schemas", "list", "--kind", "transform", "--format", "json", cwd=workdir)
    rows = json.loads(out.stdout)
    assert {r["kind"] for r in rows} == {"transform"} and len(rows) == 7
    out = run("schemas", "show", "snowflake", cwd=workdir)  # only destinations have it
    assert out.returncode == 0 and out.stdout.startswith("Snowflake (snowflake)")
    out = run("schemas", "show", "--kind", "destination", "postgresql", cwd=workdir)
    assert "connection.username" in out.stdout
    out = run("schemas", "show", "postgresql", cwd=workdir)  # both kinds: the source
    assert "connection.username" not in out.stdout and "database.dbname" in out.stdout
    out = run("schemas", "export", "--editor", str(workdir / "e"), "--kind", "transform")
    names = sorted(p.name for p in (workdir / "e").iterdir())
    assert names[0] == "streamkap.json" and names[1] == "transform-enrich.json"


def test_smaller_paths_of_the_command_line(workdir):
    pg = str(EXAMPLES / "postgresql.source.yaml")
    out = run("validate", pg, cwd=workdir)  # the subcommand, as well as streamkap-validate
    assert out.returncode == 0 and "1 file, 1 source: 0 errors" in out.stdout
    empty = workdir / "empty"
    empty.mkdir()
    out = validate(str(empty), cwd=workdir)
    assert out.returncode == 0 and "no YAML, JSON or TOML files found" in out.stderr
    out = run("payload", str(workdir / "missing.yaml"), cwd=workdir)
    assert out.returncode == 2 and "cannot read the file: no such file" in out.stderr
    broken = workdir / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    out = run("payload", "--format", "json", str(broken), cwd=workdir)
    assert out.returncode == 1 and json.loads(out.stdout)["files"][0]["issues"][0]["code"] == (
        "parse-error"
    )
    out = run("schemas", "show", "--format", "json", "s3", cwd=workdir)
    assert json.loads(out.stdout)["x-streamkap"]["connector"] == "s3"
    out = run("schemas", "export", "--editor", str(workdir / "e"), "nope", cwd=workdir)
    assert out.returncode == 3 and "unknown source connector" in out.stderr
    big = "name: n\n" + "#" * 200 + "\n"
    out = subprocess.run(
        [str(BIN / "streamkap-validate"), "--max-bytes", "100", "-"],
        input=big,
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    assert out.returncode == 2 and "over the limit of 100 bytes" in out.stdout


def test_the_age_of_a_cached_schema_in_words():
    import datetime as dt

    from streamkap_config.cli.schemas import _age

    now = dt.datetime.now(dt.timezone.utc)
    assert _age(None) == "-" and _age("yesterday") == "?"
    assert _age((now - dt.timedelta(minutes=5)).isoformat()) == "5m"
    assert _age((now - dt.timedelta(hours=3)).isoformat()) == "3h"
    assert _age((now - dt.timedelta(days=9)).isoformat()) == "9d"


def test_a_reader_that_leaves_early_gets_no_traceback_and_the_output_is_whole(workdir):
    bad = (EXAMPLES / "postgresql-invalid.source.yaml").read_text()
    for n in range(200):
        (workdir / f"s{n:03d}.source.yaml").write_text(bad.replace("name: ", f"name: n{n}-", 1))
    # Buffered output, as everywhere but where PYTHONUNBUFFERED is set.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(NO_COLOR="1", STREAMKAP_CONFIG_CACHE=str(workdir / "cache"))
    cmd = [str(BIN / "streamkap-validate"), str(workdir)]
    whole = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert whole.returncode == 1
    lines = whole.stdout.splitlines()  # every issue, then the summary: nothing lost at exit
    assert len(lines) == 200 * 7 + 1 and lines[-1].startswith("200 files, 200 sources: ")
    # A short output stays in the buffer until the end: it must be flushed at exit.
    one = subprocess.run(
        [cmd[0], str(EXAMPLES / "dynamodb.source.yaml")], capture_output=True, env=env, timeout=60
    )
    assert one.returncode == 0 and one.stdout == b"1 file, 1 source: 0 errors, 0 warnings\n"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # then leave, as `| head -1` does
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=120)
    assert first.startswith(str(workdir).encode())
    assert b"Traceback" not in err and b"Exception ignored" not in err


def test_verbose_names_a_pipeline_without_a_connector_and_a_source_with_its_own(workdir):
    pipe = ROOT / "examples" / "project" / "pipelines" / "orders-to-snowflake.yaml"
    out = validate("-v", str(pipe), str(ROOT / "examples" / "s3.source.yaml"), cwd=workdir)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert any(line.endswith(": ok pipeline orders-to-snowflake") for line in lines)
    assert any(re.search(r": ok source landing-json \(s3 [0-9a-f]{12}\)$", line) for line in lines)
    assert "None" not in out.stdout


def test_payload_refuses_a_name_that_no_document_has_even_in_a_one_document_file(workdir):
    source = str(ROOT / "examples" / "postgresql.source.yaml")
    env = {"PG_PASSWORD": "pw-1"}
    out = run("payload", "--name", "nope", source, cwd=workdir, env=env)
    assert out.returncode == 2 and "no document named 'nope'" in out.stderr
    assert out.stdout == ""
    out = run("payload", "--name", "orders-postgres", source, cwd=workdir, env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["name"] == "orders-postgres"


def test_kind_speaks_of_the_files_given_not_of_the_project_they_are_checked_in(workdir):
    shutil.copytree(EXAMPLES / "project", workdir / "project")
    pipeline = workdir / "project" / "pipelines" / "orders-to-snowflake.yaml"
    pipeline.write_text(pipeline.read_text().replace("kind: pipeline\n", ""))
    out = validate("--kind", "pipeline", str(pipeline), cwd=workdir)
    assert out.returncode == 0, out.stdout
    assert "1 pipeline: 0 errors" in out.stdout
    out = validate(str(pipeline), cwd=workdir)  # without it, a source missing its fields
    assert out.returncode == 1


def test_top_level_help_names_pipelines_and_every_exit_code():
    out = run("--help")
    text = " ".join(out.stdout.split())
    assert "pipelines" in text and "plan and apply" in text
    for code in ("0 valid", "1 invalid", "2 usage error", "3 schema unavailable", "4 plan"):
        assert code in text
    assert "blocked" in text


def test_schemas_show_renders_descriptions_as_text():
    out = run("schemas", "show", "--kind", "destination", "snowflake")
    assert out.returncode == 0
    for markup in ("<span", "</span>", "<a ", "</a>", "<code>", "&amp;"):
        assert markup not in out.stdout
    text = " ".join(out.stdout.split())
    assert "Read more about upsert mode (https://docs.streamkap.com/snowflake#upsert-mode)." in text
    assert "<Username>" in out.stdout  # a placeholder, not markup


def test_schemas_lock_help_names_the_default_file():
    out = run("schemas", "lock", "--help")
    assert "(default: ./streamkap-schemas.lock)" in " ".join(out.stdout.split())
