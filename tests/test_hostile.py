"""Hostile input: files, cache and lock files, servers. Each case ends with a clear
issue or a documented exit code: never a traceback, a hang, unbounded memory or a
credential in the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apiserver import SECRET, ApiServer
from conftest import ROOT
from streamkap_config import SchemaCache, validate_document
from streamkap_config.core.errors import ApiError, CacheError, StreamkapConfigError
from streamkap_config.loaders import Limits, iter_files, load_text
from streamkap_config.remote.client import StreamkapClient

BIN = Path(sys.executable).parent
EXAMPLE = ROOT / "examples" / "dynamodb.source.yaml"


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60):
    full = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(cwd / "cache"), **(env or {})}
    return subprocess.run(
        [str(BIN / "streamkap-validate"), *args],
        capture_output=True,
        cwd=cwd,
        env=full,
        timeout=timeout,
    )


def no_traceback(out: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in out.stderr + out.stdout, out.stderr[-2000:]


# --- files ------------------------------------------------------------------------------

DIGITS = "1" * 5000


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("big.yaml", f"name: n\nconnector: s3\nconfig:\n  tasks.max: {DIGITS}\n"),
        ("big.json", f'{{"name": "n", "connector": "s3", "config": {{"tasks.max": {DIGITS}}}}}'),
        ("big.toml", f'name = "n"\nconnector = "s3"\n[config]\n"tasks.max" = {DIGITS}\n'),
    ],
)
def test_an_integer_past_the_digit_limit_is_a_parse_error(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    out = cli(str(f), cwd=tmp_path)
    no_traceback(out)
    assert out.returncode == 1
    assert b"error[parse-error]" in out.stdout and b"too long" in out.stdout


@pytest.mark.parametrize(
    "key", ['"\\U0001F600"', '"tab\there"', '"\\u00e9t\\u00e9"', "'lit\\eral'"]
)
def test_toml_quoted_keys_with_toml_escapes_keep_their_positions(key):
    text = f'name = "n"\nconnector = "s3"\n[config]\n{key} = 1\n'
    (doc,) = load_text(text, "k.toml").documents
    result = validate_document(doc)
    (issue,) = [i for i in result.issues if i.code == "unknown-key"]
    assert (issue.line, issue.column) == (4, 1)


def test_a_toml_key_written_with_an_escape_is_found_by_its_value():
    text = 'name = "n"\nconnector = "s3"\n[config]\n"form\\u0061t" = "xml"\n'
    (doc,) = load_text(text, "k.toml").documents
    (issue,) = validate_document(doc).issues
    assert (issue.code, issue.line, issue.column) == ("enum", 4, 17)


@pytest.mark.parametrize(
    ("name", "text", "args"),
    [
        ("tables.toml", 'name = "n"\n[config.a.b.c]\nx = 1\n', ["--max-depth", "3"]),
        ("arrays.toml", "x = " + "[" * 5000 + "]" * 5000 + "\n", []),
        ("tables.toml", "x = " + "{a = " * 2000 + "1" + "}" * 2000 + "\n", []),
        ("deep.json", "[" * 5000 + "]" * 5000, ["--max-depth", "256"]),
        ("deep.yaml", "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 80)), []),
    ],
)
def test_one_depth_rule_for_every_format(tmp_path, name, text, args):
    f = tmp_path / name
    f.write_text(text)
    out = cli(*args, str(f), cwd=tmp_path)
    no_traceback(out)
    assert out.returncode == 1 and b"nesting deeper than" in out.stdout


def test_the_depth_limit_has_a_ceiling(tmp_path):
    out = cli("--max-depth", "5000", str(EXAMPLE), cwd=tmp_path)
    assert out.returncode == 2 and b"--max-depth must be between 1 and 256" in out.stderr
    with pytest.raises(ValueError):
        Limits(max_depth=0)


def test_text_that_cannot_be_encoded_is_escaped(tmp_path):
    f = tmp_path / "s.json"
    f.write_text('{"name": "n", "connector": "s3", "config": {"\\ud800": 1}}')
    out = cli(str(f), cwd=tmp_path, env={"PYTHONIOENCODING": "utf-8"})
    no_traceback(out)
    assert out.returncode == 1 and b"\\ud800" in out.stdout
    weird = tmp_path / os.fsdecode(b"bad-\xff.yaml")
    weird.write_text(EXAMPLE.read_text())
    out = subprocess.run(
        [str(BIN / "streamkap-validate"), os.fsencode(weird)],
        capture_output=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
    )
    no_traceback(out)
    assert out.returncode == 0


def test_a_fifo_is_refused_by_name_and_skipped_in_a_directory(tmp_path):
    d = tmp_path / "sources"
    d.mkdir()
    os.mkfifo(d / "pipe.yaml")
    (d / "real.yaml").write_text(EXAMPLE.read_text())
    out = cli(str(d / "pipe.yaml"), cwd=tmp_path, timeout=30)
    assert out.returncode == 2 and b"not a regular file" in out.stdout
    out = cli(str(d), cwd=tmp_path, timeout=30)
    assert out.returncode == 0 and b"1 file, 1 source: 0 errors" in out.stdout
    out = cli(str(Path("/dev/null")), cwd=tmp_path, timeout=30)
    assert out.returncode == 2


def test_an_unreadable_directory_is_reported_not_skipped(tmp_path):
    # Paths past PATH_MAX cannot be listed, even by root: a real unreadable directory.
    root = tmp_path / "sources"
    here = root
    here.mkdir()
    (here / "ok.yaml").write_text(EXAMPLE.read_text())
    part = "d" * 250
    fd = os.open(here, os.O_RDONLY)
    try:
        for _ in range(18):
            os.mkdir(part, dir_fd=fd)
            nxt = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
    finally:
        os.close(fd)
    errors: list[tuple[str, str]] = []
    found = list(iter_files([str(root)], on_error=lambda p, r: errors.append((p, r))))
    assert found == [str(root / "ok.yaml")]
    assert errors and "cannot read the directory" in errors[0][1]
    out = cli(str(root), cwd=tmp_path)
    no_traceback(out)
    assert out.returncode == 2 and b"cannot read the directory" in out.stdout


def test_control_characters_are_escaped_in_text_and_annotations(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "name: n\nconnector: s3\nconfig:\n"
        '  "x\\nc.yaml:1:1: error[type] forged\\u001b[2J\\u0007": 1\n'
    )
    for fmt in ("text", "github"):
        out = cli("--format", fmt, str(f), cwd=tmp_path)
        assert out.returncode == 1
        text = out.stdout.decode()
        assert "\x1b" not in text and "\x07" not in text
        assert not any(line.startswith("c.yaml:1:1") for line in text.splitlines())
        assert "\\x1b" in text


def test_an_anchored_yaml_key_can_be_named_by_an_alias_later():
    text = (
        "name: n\nconnector: postgresql\nconfig:\n  &k database.hostname: h\n"
        "  database.dbname: *k\n"
    )
    (doc,) = load_text(text, "a.yaml").documents
    assert doc.data["config"]["database.dbname"] == "database.hostname"
    assert not load_text(text, "a.yaml").issues


@pytest.mark.parametrize("code", ["../../etc", ".hidden", "a/b", ""])
def test_a_code_that_cannot_be_a_connector_is_unknown_not_unavailable(tmp_path, code):
    f = tmp_path / "x.yaml"
    f.write_text(json.dumps({"name": "n", "connector": code, "config": {}}))
    out = cli(str(f), cwd=tmp_path)
    no_traceback(out)
    assert out.returncode == 1
    assert b"schema-unavailable" not in out.stdout


# --- cache and lock files ---------------------------------------------------------------


def pulled(tmp_path: Path, server: ApiServer) -> tuple[SchemaCache, Path]:
    server.change("s3", "newer")
    cache = SchemaCache(tmp_path)
    client = StreamkapClient(server.url, token="static-token")
    cache.pull(["s3"], client=client)
    client.close()
    version = cache.get("s3").version
    return cache, tmp_path / "connectors" / "s3" / version


DAMAGE = {
    "fetched_at without a zone": (
        "meta.json",
        lambda m: {**m, "fetched_at": "2026-01-01T00:00:00"},
    ),
    "fetched_at a number": ("meta.json", lambda m: {**m, "fetched_at": 12}),
    "meta a list": ("meta.json", lambda m: [m]),
    "etag a number": ("current", lambda c: {**c, "etag": 5}),
    "version a path": ("current", lambda c: {**c, "version": "../mysql/x"}),
    "deeply nested": ("meta.json", lambda m: "DEEP"),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_cache_files_are_ignored_and_the_next_source_used(tmp_path, case):
    with ApiServer() as server:
        _, folder = pulled(tmp_path, server)
    target, change = DAMAGE[case]
    path = folder / "meta.json" if target == "meta.json" else folder.parent / "current.json"
    data = change(json.loads(path.read_text()))
    path.write_text("[" * 100_000 + "]" * 100_000 if data == "DEEP" else json.dumps(data))
    fresh = SchemaCache(tmp_path)
    found = fresh.get("s3")
    assert found is not None  # the bundled (or still sound cached) schema
    doc = {"name": "n", "connector": "s3", "config": {}}
    assert validate_document(doc, schemas=fresh).ok
    out = cli(str(EXAMPLE), cwd=tmp_path, env={"STREAMKAP_CONFIG_CACHE": str(tmp_path)})
    no_traceback(out)
    assert out.returncode == 0


def test_stray_entries_in_the_cache_are_not_connectors(tmp_path):
    (tmp_path / "connectors" / ".evil").mkdir(parents=True)
    (tmp_path / "connectors" / ".evil" / "current.json").write_text("{}")
    assert ".evil" not in list(SchemaCache(tmp_path))


def test_a_lock_file_that_is_a_device_is_refused_not_read_forever(tmp_path):
    out = cli("--lock", "/dev/zero", str(EXAMPLE), cwd=tmp_path, timeout=30)
    no_traceback(out)
    assert out.returncode == 2 and b"not a valid lock file" in out.stderr


def test_an_empty_code_is_refused_by_pull(tmp_path):
    with pytest.raises(CacheError, match="not a connector code"):
        SchemaCache(tmp_path).pull([""])
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "schemas", "pull", "", "--cache-dir", str(tmp_path)],
        capture_output=True,
        env={**os.environ, "STREAMKAP_TOKEN": "t"},
        timeout=60,
    )
    assert out.returncode == 2 and b"not a connector code" in out.stderr
    assert not (tmp_path / "connectors").exists()


def test_a_catalogue_with_one_bad_connector_stores_the_good_ones(tmp_path):
    with ApiServer() as server:
        server.definitions["zzbroken"] = {"Broken": [{"name": "x", "value": {"control": "?"}}]}
        client = StreamkapClient(server.url, token="static-token")
        results = SchemaCache(tmp_path).pull(None, client=client)
        client.close()
    bad = [r for r in results if r.status == "error"]
    assert [r.connector for r in bad] == ["Broken"]
    assert sum(r.status != "error" for r in results) == 25
    assert (tmp_path / "connectors" / "postgresql" / "current.json").is_file()


@pytest.mark.parametrize("ttl", ["inf", "1e10", "nan", "-3", "soon"])
def test_any_ttl_setting_is_survived(tmp_path, ttl):
    out = cli(str(EXAMPLE), cwd=tmp_path, env={"STREAMKAP_SCHEMA_TTL_DAYS": ttl})
    no_traceback(out)
    assert out.returncode == 0


def test_temp_files_of_killed_writers_are_swept_after_an_hour(tmp_path):
    with ApiServer() as server:
        cache, folder = pulled(tmp_path, server)
        old, young = folder / ".schema.json.abc.tmp", folder / ".meta.json.def.tmp"
        old.write_text("partial")
        young.write_text("partial")
        two_hours_ago = time.time() - 7200
        os.utime(old, (two_hours_ago, two_hours_ago))
        server.change("s3", "newer still")
        client = StreamkapClient(server.url, token="static-token")
        cache.pull(["s3"], client=client)
        client.close()
    assert not old.exists() and young.exists()


def test_a_definition_with_too_many_properties_is_refused(tmp_path):
    with ApiServer() as server:
        props = [{"name": f"k{i}", "value": {"control": "text"}} for i in range(6000)]
        server.definitions["s3"] = {"S3": props}
        client = StreamkapClient(server.url, token="static-token")
        (result,) = SchemaCache(tmp_path).pull(["s3"], client=client)
        client.close()
    assert result.status == "error" and "over the limit" in result.message
    assert SchemaCache(tmp_path).get("s3").origin == "bundled"


# --- the HTTP client --------------------------------------------------------------------


def test_a_server_echoing_the_token_never_gets_it_printed():
    token = "tok-" + "a1b2c3d4e5" * 4
    with ApiServer() as server:
        server.tokens.add(token)
        server.faults = ["echo-auth"]
        client = StreamkapClient(server.url, token=token)
        with pytest.raises(ApiError) as caught:
            client.get_connectors("s3")
        client.close()
    assert caught.value.status == 403
    assert token not in str(caught.value) and token[:20] not in str(caught.value)
    assert "********" in str(caught.value)


def test_a_token_endpoint_echoing_the_secret_never_gets_it_printed():
    with ApiServer() as server:
        server.echo_secret = True
        client = StreamkapClient(server.url, client_id="client-1", secret=SECRET)
        with pytest.raises(ApiError) as caught:
            client.get_connectors("s3")
        client.close()
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value.snippet)


def test_a_trickling_server_is_cut_off_at_the_deadline():
    with ApiServer() as server:
        server.faults = ["trickle"]
        server.trickle_seconds = 0.05
        client = StreamkapClient(server.url, token="static-token", deadline=0.5, retries=0)
        with pytest.raises(ApiError, match="not complete within"):
            client.get_connectors("kafkadirect")
        client.close()


def test_a_pull_has_a_deadline_for_all_its_requests(tmp_path):
    with ApiServer() as server:
        server.faults = ["trickle"] * 3
        server.trickle_seconds = 0.05
        client = StreamkapClient(server.url, token="static-token", retries=0)
        results = SchemaCache(tmp_path).pull(["s3", "mysql", "db2"], client=client, deadline=0.4)
        client.close()
    assert all(r.status == "error" for r in results)


PEAK = """
import resource, sys
from streamkap_config.remote.client import StreamkapClient
from streamkap_config.core.errors import ApiError
client = StreamkapClient(sys.argv[1], token="static-token", retries=0)
try:
    client.get_connectors("s3")
except ApiError as exc:
    print(exc)
# VmHWM is this process's own peak; ru_maxrss of a child started by vfork and exec
# also carries its parent's peak (the test worker's), whatever the child did.
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("peak-kb", peak)
"""


@pytest.mark.parametrize("fault", ["huge", "gzip-bomb"])
def test_oversized_and_compressed_bombs_are_refused_with_bounded_memory(fault):
    with ApiServer() as server:
        server.faults = [fault]
        out = subprocess.run(
            [sys.executable, "-c", PEAK, server.url], capture_output=True, text=True, timeout=120
        )
    assert "larger than 16,777,216 bytes" in out.stdout, out.stderr
    peak_kb = int(out.stdout.split("peak-kb")[1])
    # About 50 MB here with the body unpacked in 64 KiB steps; 164 MB when a received
    # piece unpacks whole (DECODE_STEP = 0), as httpx's own decoders do.
    assert peak_kb < 100_000


@pytest.mark.parametrize(
    ("fault", "says"),
    [("bad-gzip", "could not be decoded"), ("deep-json", "nested too deeply")],
)
def test_undecodable_and_deep_bodies_are_api_errors(fault, says):
    with ApiServer() as server:
        server.faults = [fault]
        client = StreamkapClient(server.url, token="static-token", retries=0)
        with pytest.raises(ApiError, match=says):
            client.get_connectors("s3")
        client.close()


def test_a_token_that_cannot_go_in_a_header_is_a_usage_error(tmp_path):
    with pytest.raises(StreamkapConfigError, match="printable ASCII"):
        StreamkapClient("http://127.0.0.1:1", token="t\u00f6ken")
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "schemas", "pull", "s3", "--cache-dir", str(tmp_path)],
        capture_output=True,
        env={**os.environ, "STREAMKAP_TOKEN": "t\u00f6ken"},
        timeout=60,
    )
    assert out.returncode == 2 and b"printable ASCII" in out.stderr
    assert "t\u00f6ken".encode() not in out.stderr


# --- generated hostile files, in process --------------------------------------------------

JUNK = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=300).map(str.encode),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
        max_leaves=20,
    ).map(lambda v: json.dumps({"name": "n", "connector": "s3", "config": v}).encode()),
    st.sampled_from(["[", "{", "a: [", "x = {"]).flatmap(
        lambda opener: st.integers(1, 3000).map(lambda n: (opener * n).encode())
    ),
    st.text(alphabet="\x00\x07\x1b\n\t\"'\\${}:[]-# 0123456789eE.", max_size=200).map(str.encode),
)


@settings(max_examples=150)
@given(JUNK, st.sampled_from([".yaml", ".json", ".toml"]))
def test_generated_hostile_files_get_a_documented_exit_code(tmp_path_factory, data, suffix):
    from streamkap_config.cli import validate_main

    folder = tmp_path_factory.mktemp("junk")
    f = folder / f"junk{suffix}"
    f.write_bytes(data)
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = validate_main([str(f), "--cache-dir", str(folder / "cache")])
    assert code in (0, 1, 2, 3)
    assert "Traceback" not in err.getvalue()


def test_a_compressed_body_unpacks_in_bounded_steps_however_it_arrives():
    """httpx unpacks each received piece whole: a 64 KiB piece of a bomb was 64 MiB at once
    (a loaded machine gets the whole bomb in one read). Ours never yields more than a step."""
    import gzip
    import zlib

    import httpx

    from streamkap_config.remote.client import DECODE_STEP, _decoded

    body = b"0" * (8 << 20)
    packed = gzip.compress(body, compresslevel=9)
    pieces = list(_decoded(iter([packed]), "gzip"))
    assert max(map(len, pieces)) <= DECODE_STEP and b"".join(pieces) == body
    halves = [packed[: len(packed) // 2], packed[len(packed) // 2 :]]
    assert b"".join(_decoded(iter(halves), " GZIP ")) == body
    assert b"".join(_decoded(iter([zlib.compress(b"x" * 1000)]), "deflate")) == b"x" * 1000
    assert b"".join(_decoded(iter([b"plain", b" text"]), "identity")) == b"plain text"
    assert b"".join(_decoded(iter([b"as is"]), "")) == b"as is"
    for encoding, pieces_sent in [
        ("br", [b"x"]),
        ("gzip, gzip", [packed]),
        ("gzip", [b"not gzip at all"]),
        ("gzip", [packed[:-20]]),  # cut short
    ]:
        with pytest.raises(httpx.DecodingError):
            b"".join(_decoded(iter(pieces_sent), encoding))
