from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from apiserver import ApiServer
from conftest import ROOT
from streamkap_config import SchemaCache, bundled_schemas, validate_source
from streamkap_config.core.errors import CacheError, SchemaUnavailableError
from streamkap_config.remote.client import StreamkapClient
from streamkap_config.schemas.cache import LOCK_FILE, LockFile, find_lock


@pytest.fixture
def server():
    with ApiServer() as s:
        yield s


def api(server) -> StreamkapClient:
    return StreamkapClient(server.url, token="static-token", timeout=1.0, backoff=0.01)


def breaking_change(server: ApiServer, code: str = "kafkadirect") -> None:
    """Serve a version of ``code`` with a new required key and an enum value removed."""
    ((display, props),) = server.definitions[code].items()
    props = json.loads(json.dumps(props))
    props.append(
        {
            "name": "new.required.key",
            "required": True,
            "user_defined": True,
            "value": {"control": "text", "type": "raw"},
        }
    )
    for p in props:
        if p["value"].get("raw_values"):
            p["value"]["raw_values"] = p["value"]["raw_values"][:-1]
            if p["value"].get("default") not in p["value"]["raw_values"]:
                p["value"].pop("default", None)
            break
    server.definitions[code] = {display: props}
    from streamkap_config.schemas.definitions import definition_version

    server.versions[code] = definition_version(server.definitions[code])


def test_empty_cache_falls_back_to_bundled(tmp_path):
    cache = SchemaCache(tmp_path)
    assert cache.get("postgresql").origin == "bundled"
    assert cache.get("nope") is None
    assert "postgresql" in list(cache)


def test_pull_stores_a_verified_version(server, tmp_path):
    cache = SchemaCache(tmp_path)
    (result,) = cache.pull(["postgresql"], client=api(server))
    assert result.status == "updated" and result.version == server.versions["postgresql"]
    found = cache.get("postgresql")
    assert found.origin == "cache" and found.version == result.version
    folder = tmp_path / "connectors" / "postgresql" / result.version
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["etag"] == f'"{result.version}"'
    assert meta["url"].endswith("connector_code=postgresql")
    assert {"fetched_at", "generator_version", "schema_sha256"} <= set(meta)
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))


def test_second_pull_is_conditional(server, tmp_path):
    cache = SchemaCache(tmp_path)
    cache.pull(["mysql"], client=api(server))
    (again,) = cache.pull(["mysql"], client=api(server))
    assert again.status == "unchanged"
    assert server.seen_auth  # authenticated
    # The second request sent If-None-Match and got 304: no new version folder.
    assert len(cache.versions("mysql")) == 2  # cached + bundled


def test_changed_definition_becomes_current_and_diffs(server, tmp_path):
    cache = SchemaCache(tmp_path)
    cache.pull(["kafkadirect"], client=api(server))
    old = cache.get("kafkadirect").version
    breaking_change(server)
    (r,) = cache.pull(["kafkadirect"], client=api(server))
    assert r.status == "updated" and cache.get("kafkadirect").version == r.version != old
    diff = cache.diff("kafkadirect", old[:10], r.version[:10])
    kinds = {(c.kind, c.key): c.breaking for c in diff.changes}
    assert kinds[("added", "new.required.key")] is True
    assert any(k[0] == "enum" and v for k, v in kinds.items())
    assert diff.breaking
    # Without versions: the previous cached version against the newest.
    assert cache.diff("kafkadirect").changes == diff.changes


def test_pull_all_in_one_request(server, tmp_path):
    cache = SchemaCache(tmp_path)
    results = cache.pull(client=api(server))
    assert {r.connector for r in results} == set(bundled_schemas())
    assert server.requests["*"] == 1
    assert cache.get("mongodbhosted").display_name == "MongoDB"


@pytest.mark.parametrize("fault", ["wrong-shape", "invalid-json", "html"])
def test_bad_response_is_never_cached_and_previous_stays(server, tmp_path, fault):
    cache = SchemaCache(tmp_path)
    cache.pull(["postgresql"], client=api(server))
    before = cache.get("postgresql").version
    breaking_change(server, "postgresql")
    server.faults = [fault] * 10
    client = StreamkapClient(server.url, token="static-token", timeout=1.0, backoff=0.01, retries=1)
    (r,) = cache.pull(["postgresql"], client=client)
    assert r.status == "error" and r.message
    assert cache.get("postgresql").version == before
    assert len(cache.versions("postgresql")) == 2


def test_transient_faults_are_retried(server, tmp_path):
    server.faults = ["500", "429", "truncated"]
    (r,) = SchemaCache(tmp_path).pull(["s3"], client=api(server))
    assert r.status == "updated"


def test_unknown_connector_pull_is_an_error(server, tmp_path):
    (r,) = SchemaCache(tmp_path).pull(["nope"], client=api(server))
    assert r.status == "error" and "404" in r.message


@pytest.mark.parametrize("victim", ["definition.json", "schema.json", "meta.json"])
def test_corrupt_file_is_reported_ignored_and_replaced(server, tmp_path, victim):
    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    path = tmp_path / "connectors" / "s3" / r.version / victim
    path.write_bytes(path.read_bytes()[:-20] + b"garbage")
    fresh = SchemaCache(tmp_path)
    found = fresh.get("s3")
    assert found.origin == "bundled"
    assert any("ignoring cached schema s3" in n for n in fresh.notices)
    (again,) = fresh.pull(["s3"], client=api(server))  # no ETag sent for a broken version
    assert again.status in ("updated", "unchanged")
    assert SchemaCache(tmp_path).get("s3").origin == "cache"


def test_broken_current_pointer_is_ignored(tmp_path):
    folder = tmp_path / "connectors" / "s3"
    folder.mkdir(parents=True)
    (folder / "current.json").write_text("{not json")
    assert SchemaCache(tmp_path).get("s3").origin == "bundled"
    (folder / "current.json").write_text('{"version": "deadbeef"}')
    assert SchemaCache(tmp_path).get("s3").origin == "bundled"


def test_stale_cache_gives_a_notice(server, tmp_path):
    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    meta_path = tmp_path / "connectors" / "s3" / r.version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["fetched_at"] = "2020-01-01T00:00:00+00:00"
    meta_path.write_text(json.dumps(meta))
    fresh = SchemaCache(tmp_path)
    assert fresh.get("s3").origin == "cache"
    assert any("schemas pull" in n for n in fresh.notices)
    import datetime as dt

    patient = SchemaCache(tmp_path, ttl=dt.timedelta(days=100000))
    assert patient.get("s3").origin == "cache" and patient.notices == []


def test_lock_pins_exact_versions(server, tmp_path):
    cache_dir, repo = tmp_path / "cache", tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    cache = SchemaCache(cache_dir)
    cache.pull(["kafkadirect"], client=api(server))
    pinned = cache.get("kafkadirect").version
    lock = cache.write_lock(repo / LOCK_FILE)
    assert lock.pin("source", "kafkadirect") == pinned
    # Every kind is pinned, each under its own section.
    assert lock.pin("destination", "kafkadirect") == (
        bundled_schemas("destination")["kafkadirect"].version
    )
    assert len(lock) == 25 + 24 + 7
    written = json.loads((repo / LOCK_FILE).read_text())
    assert set(written) >= {"connectors", "destinations", "transforms"}
    assert find_lock(repo / "sub") == repo / LOCK_FILE
    breaking_change(server)
    cache.pull(["kafkadirect"], client=api(server))
    assert cache.get("kafkadirect").version != pinned
    locked = SchemaCache(cache_dir, lock=repo / LOCK_FILE)
    assert locked.get("kafkadirect").version == pinned
    assert locked.get("kafkadirect").origin == "lock"
    assert locked.diff("kafkadirect").old_version == pinned


def test_pinned_version_missing_is_schema_unavailable(tmp_path):
    lock = LockFile(tmp_path / LOCK_FILE, {"source": {"s3": {"version": "0" * 64}}})
    lock.write()
    cache = SchemaCache(tmp_path / "cache", lock=lock.path)
    with pytest.raises(SchemaUnavailableError, match="pinned"):
        cache.get("s3")
    result = validate_source({"name": "n", "connector": "s3", "config": {}}, schemas=cache)
    assert [i.code for i in result.issues] == ["schema-unavailable"]


def test_broken_lock_file_is_a_clear_error(tmp_path):
    (tmp_path / LOCK_FILE).write_text("[]")
    with pytest.raises(CacheError, match="not a valid lock file"):
        SchemaCache(tmp_path, lock=tmp_path / LOCK_FILE)


def test_validate_uses_the_cache(server, tmp_path):
    cache = SchemaCache(tmp_path)
    breaking_change(server)
    cache.pull(["kafkadirect"], client=api(server))
    doc = {
        "name": "k",
        "connector": "kafkadirect",
        "config": {"topic.prefix": "p", "topic.include.list": "t"},
    }
    assert validate_source(doc).ok
    result = validate_source(doc, schemas=cache)
    assert [(i.code, i.key) for i in result.issues] == [("required", "new.required.key")]
    assert result.schema_version == cache.get("kafkadirect").version


def test_unwritable_cache_is_a_clear_error(server, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache = SchemaCache(blocker / "cache")
    (r,) = cache.pull(["s3"], client=api(server))
    assert r.status == "error" and "not writable" in r.message


_PULLER = """
import sys
from streamkap_config import SchemaCache
from streamkap_config.remote.client import StreamkapClient
client = StreamkapClient(sys.argv[2], token="static-token", timeout=5, backoff=0.05)
results = SchemaCache(sys.argv[1]).pull(sys.argv[3:], client=client, concurrency=4)
bad = [r for r in results if r.status == "error"]
sys.exit(1 if bad else 0)
"""


def test_eight_processes_pulling_at_once_leave_one_consistent_cache(server, tmp_path):
    # Eight writers of each entry at once; every entry is its own race, so eight of the
    # connectors show what all of them would.
    codes = sorted(bundled_schemas())[::3]
    procs = [
        subprocess.Popen([sys.executable, "-c", _PULLER, str(tmp_path), server.url, *codes])
        for _ in range(8)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 8
    cache = SchemaCache(tmp_path)
    for code in codes:
        found = cache.get(code)
        assert found.origin == "cache" and found.version == server.versions[code]
    assert cache.notices == []
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


_WRITER = """
import sys
from streamkap_config import SchemaCache, bundled_schemas
cache = SchemaCache(sys.argv[1])
defs = [v.definition for v in bundled_schemas().values()]
print("ready", flush=True)
while True:
    for d in defs:
        cache.store(d, etag="x")
"""


def test_sigkill_during_writes_leaves_the_cache_readable(tmp_path):
    for delay in (0.05, 0.2, 0.4):
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        cache = SchemaCache(tmp_path)
        for code in bundled_schemas():
            found = cache.get(code)  # never raises, never a half-written file
            assert found is not None and found.version == bundled_schemas()[code].version
        assert cache.notices == []
        # A lock left by the killed process does not block the next writer.
        cache.store(bundled_schemas()["s3"].definition)


def test_repr_names_the_directory(tmp_path):
    assert str(tmp_path) in repr(SchemaCache(tmp_path))


def test_default_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STREAMKAP_CONFIG_CACHE", str(tmp_path / "c"))
    assert SchemaCache().directory == Path(tmp_path / "c")
    assert ROOT.is_dir()


def test_get_reads_the_disk_once_per_connector(server, tmp_path):
    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    assert cache.get("s3").origin == "cache"
    (tmp_path / "connectors" / "s3" / "current.json").unlink()
    assert cache.get("s3").version == r.version  # remembered by this instance
    assert SchemaCache(tmp_path).get("s3").origin == "bundled"  # a new one looks again


# --- behaviours a truncated file cannot tell apart (each fails if its line is broken) ----


def test_a_second_pull_sends_if_none_match_and_a_304_refreshes_the_fetch_time(server, tmp_path):
    cache = SchemaCache(tmp_path)
    (first,) = cache.pull(["mysql"], client=api(server))
    current = tmp_path / "connectors" / "mysql" / "current.json"
    stored = json.loads(current.read_text())
    stored["fetched_at"] = "2020-01-01T00:00:00+00:00"  # as if fetched long ago
    current.write_text(json.dumps(stored))
    meta = tmp_path / "connectors" / "mysql" / first.version / "meta.json"
    meta.write_text(
        json.dumps({**json.loads(meta.read_text()), "fetched_at": stored["fetched_at"]})
    )
    (again,) = SchemaCache(tmp_path).pull(["mysql"], client=api(server))
    assert again.status == "unchanged"
    assert server.seen_headers[-1].get("If-None-Match") == f'"{first.version}"'
    refreshed = json.loads(current.read_text())["fetched_at"]
    assert refreshed > "2026-01-01"  # the 304 refreshed it
    assert json.loads(meta.read_text())["fetched_at"] == refreshed
    assert SchemaCache(tmp_path).notices == []  # no longer stale


def test_a_lock_of_bundled_versions_is_satisfied_on_a_fresh_machine(tmp_path):
    lock = SchemaCache(tmp_path / "empty").write_lock(tmp_path / LOCK_FILE)
    assert lock.pin("source", "s3") == bundled_schemas()["s3"].version
    fresh = SchemaCache(tmp_path / "another-empty", lock=tmp_path / LOCK_FILE)
    found = fresh.get("s3")
    assert found.origin == "lock" and found.version == bundled_schemas()["s3"].version
    assert fresh.for_kind("destination").get("snowflake").origin == "lock"


@pytest.mark.parametrize("victim", ["definition.json", "schema.json"])
def test_a_tampered_file_that_stays_valid_json_fails_its_sha256(server, tmp_path, victim):
    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    path = tmp_path / "connectors" / "s3" / r.version / victim
    data = json.loads(path.read_text())
    data["tampered"] = True  # still JSON, still parseable: only the hash can tell
    path.write_text(json.dumps(data))
    fresh = SchemaCache(tmp_path)
    assert fresh.get("s3").origin == "bundled"
    assert any("fails its sha256 check" in n for n in fresh.notices)


def test_writes_replace_the_file_so_an_open_reader_keeps_the_whole_old_one(tmp_path):
    from streamkap_config.schemas.storage import atomic_write

    target = tmp_path / "f.json"
    old = b'{"version": "' + b"a" * 10_000 + b'"}'
    atomic_write(target, old)
    before = os.stat(target).st_ino
    with open(target, "rb") as reader:
        atomic_write(target, b'{"version": "b"}')
        # A write in place would truncate what this reader sees; a rename never does.
        assert reader.read() == old
    assert os.stat(target).st_ino != before
    assert target.read_bytes() == b'{"version": "b"}'
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left


def test_loading_versions_by_name_and_prefix(server, tmp_path):
    cache = SchemaCache(tmp_path)
    assert cache.load("s3", "bundled").origin == "bundled"
    assert cache.load("s3", "current").origin == "bundled"
    bundled_version = bundled_schemas()["s3"].version
    assert cache.load("s3", bundled_version[:8]).version == bundled_version
    with pytest.raises(SchemaUnavailableError, match="no version"):
        cache.load("s3", "ffffffff")
    with pytest.raises(SchemaUnavailableError, match="unknown connector"):
        cache.load("nope", "current")
    with pytest.raises(SchemaUnavailableError, match="no bundled version"):
        cache.load("nope", "bundled")
    server.change("s3", "one")
    cache.pull(["s3"], client=api(server))
    server.change("s3", "two")
    cache.pull(["s3"], client=api(server))
    assert len(cache.versions("s3")) == 3  # two cached and the bundled one
    with pytest.raises(SchemaUnavailableError, match="ambiguous"):  # "" prefixes all three
        cache.load("s3", "")


def test_a_schema_from_another_generator_is_regenerated(server, tmp_path):
    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    meta = tmp_path / "connectors" / "s3" / r.version / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "generator_version": "0"}))
    schema = tmp_path / "connectors" / "s3" / r.version / "schema.json"
    data = schema.read_bytes()
    fresh = SchemaCache(tmp_path).get("s3")
    assert fresh.origin == "cache" and fresh.schema["x-streamkap"]["generator_version"] != "0"
    assert schema.read_bytes() == data  # regenerated in memory, the file untouched


def test_a_schema_file_that_is_not_an_object_is_ignored(server, tmp_path):
    from streamkap_config.schemas.bundle import sha256_hex

    cache = SchemaCache(tmp_path)
    (r,) = cache.pull(["s3"], client=api(server))
    folder = tmp_path / "connectors" / "s3" / r.version
    (folder / "schema.json").write_bytes(b"[]")
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "schema_sha256": sha256_hex(b"[]")}))
    fresh = SchemaCache(tmp_path)
    assert fresh.get("s3").origin == "bundled"
    assert any("not an object" in n for n in fresh.notices)


def test_kinds_of_a_cache(tmp_path):
    cache = SchemaCache(tmp_path)
    assert "postgresql" in cache and "snowflake" not in cache
    assert "snowflake" in cache.for_kind("destination")
    assert cache.for_kind("destination").for_kind("source") is cache
    with pytest.raises(CacheError, match="unknown kind"):
        SchemaCache(tmp_path, kind="pipeline")
    with pytest.raises(SchemaUnavailableError, match="unknown destination connector"):
        cache.write_lock(tmp_path / LOCK_FILE, ["nope"], ["destination"])


def test_a_catalogue_that_is_not_an_object_is_an_error(server, tmp_path):
    server.faults = ["wrong-shape"]
    (result,) = SchemaCache(tmp_path).pull(None, client=api(server))
    assert result.status == "error"
