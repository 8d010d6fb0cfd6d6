"""plan and apply against the stateful emulator of the API (tests/emulator.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_SECRETS, ROOT
from emulator import DEVELOPMENT_TAG, TOKEN, running
from streamkap_config import validate_project
from streamkap_config.deploy.plan import apply, plan
from streamkap_config.project.validate import project_files
from streamkap_config.remote.client import StreamkapClient

PROJECT = ROOT / "examples" / "project"
BIN = Path(sys.executable).parent
SECRETS = EXAMPLE_SECRETS


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def project(root: Path = PROJECT):
    return validate_project(project_files(root), root=root)


def client_of(emulator, timeout: float = 2.0) -> StreamkapClient:
    return StreamkapClient(emulator.url, token=TOKEN, backoff=0.01, timeout=timeout)


def test_first_apply_creates_in_dependency_order_with_ids_wired_and_then_nothing_changes():
    with running() as emulator, client_of(emulator) as client:
        first = plan(project(), client)
        assert first.summary == {"create": 7, "update": 0, "no-op": 0, "blocked": 0, "delete": 0}
        result = apply(first, client, parallelism=1)
        assert result.ok and len(result.done) == 7
        posts = [p.split("?")[0] for m, p in emulator.requests if m == "POST"]
        kinds = [p.strip("/").split("/")[0] for p in posts]
        assert kinds == ["sources"] * 2 + ["destinations"] * 2 + ["transforms"] + ["pipelines"] * 2
        pipelines = {o["name"]: o for o in emulator.objects["pipeline"].values()}
        sources = {o["name"]: o["id"] for o in emulator.objects["source"].values()}
        pipe = pipelines["orders-to-snowflake"]
        assert pipe["source"]["id"] == sources["orders-postgres"]
        assert pipe["source"]["connector"] == "postgresql"
        assert pipe["transforms"][0]["name"] == "mask-pii"
        again = plan(project(), client)
        assert again.summary == {"create": 0, "update": 0, "no-op": 7, "blocked": 0, "delete": 0}
        assert not again.has_changes


def test_one_changed_key_is_one_update_naming_it(tmp_path):
    copy = tmp_path / "project"
    import shutil

    shutil.copytree(PROJECT, copy)
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(copy), client), client)
        source = copy / "sources" / "orders-postgres.yaml"
        source.write_text(source.read_text().replace("dbname: orders", "dbname: orders2"))
        changed = plan(project(copy), client)
        (update,) = [c for c in changed.changes if c.action == "update"]
        assert (update.kind, update.name) == ("source", "orders-postgres")
        assert [(k.key, k.before, k.after) for k in update.keys] == [
            ("database.dbname", "orders", "orders2")
        ]
        assert update.not_compared == ("database.password",)
        text = changed.format()
        assert "~ update source orders-postgres" in text
        assert 'database.dbname: "orders" -> "orders2"' in text
        assert "database.password: secret: sent again, not compared" in text
        assert "inventory-dynamodb (sou-1)\n    " not in text  # a no-op names no secret
        result = apply(changed, client)
        assert result.ok
        (put,) = [b for m, p, b in emulator.bodies if m == "PUT"]
        assert put["config"]["database.password"] == SECRETS["PG_PASSWORD"]  # a whole body
        stored = emulator.named("source", "orders-postgres")
        assert stored["config"]["database.dbname"] == "orders2"
        assert client.get("source", stored["id"]).connector_status == "Active"
        assert all(c.action == "no-op" for c in plan(project(copy), client).changes)


def test_a_set_once_change_is_blocked(tmp_path):
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(copy), client), client)
        dest = copy / "destinations" / "snowflake-prod.yaml"
        dest.write_text(dest.read_text() + "  ingestion.mode: upsert\n")
        blocked = plan(project(copy), client)
        (change,) = [c for c in blocked.changes if c.action == "blocked"]
        assert change.blocked_by == ("ingestion.mode",)
        from streamkap_config.core.errors import StreamkapConfigError

        with pytest.raises(StreamkapConfigError, match="skip-blocked"):
            apply(blocked, client)
        assert apply(blocked, client, skip_blocked=True).ok


@settings(max_examples=12, deadline=None)
@given(
    st.integers(1, 7),
    st.sampled_from(["500-after-store", "500", "timeout-after-store", "502-html", "422-echo"]),
)
def test_a_failure_at_any_request_then_a_rerun_ends_with_exactly_the_intended_objects(at, fault):
    with running() as emulator, client_of(emulator, timeout=0.3) as client:
        emulator.slow_seconds = 0.6  # past the client's timeout
        emulator.fail_on[at] = fault
        first = apply(plan(project(), client), client, parallelism=1)
        assert not first.ok and first.failed is not None
        assert len(first.done) == at - 1
        second = apply(plan(project(), client), client)
        assert second.ok
        names = {k: emulator.names(k) for k in ("source", "destination", "transform", "pipeline")}
        assert names == {
            "source": ["inventory-dynamodb", "orders-postgres"],
            "destination": ["lake-s3", "snowflake-prod"],
            "transform": ["mask-pii"],
            "pipeline": ["inventory-to-lake", "orders-to-snowflake"],
        }
        assert all(c.action == "no-op" for c in plan(project(), client).changes)


def test_the_cli_plans_applies_and_never_prints_a_secret(tmp_path):
    with running() as emulator:
        env = {
            **os.environ,
            **SECRETS,
            "STREAMKAP_TOKEN": TOKEN,
            "STREAMKAP_CONFIG_CACHE": str(tmp_path / "c"),
        }
        base = [str(BIN / "streamkap-config")]
        api = ["--api-url", emulator.url]
        out = subprocess.run(
            [*base, "plan", *api, "--format", "json", "--detailed-exitcode", str(PROJECT)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert out.returncode == 4, out.stderr
        body = json.loads(out.stdout)
        assert body["summary"]["create"] == 7 and body["changes"][0]["action"] == "create"
        out = subprocess.run(
            [*base, "apply", *api, str(PROJECT)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        assert out.returncode == 2 and "without --yes" in out.stderr
        assert emulator.objects["source"] == {}  # nothing was sent
        out = subprocess.run(
            [*base, "apply", *api, "--yes", str(PROJECT)], capture_output=True, text=True, env=env
        )
        assert out.returncode == 0, out.stderr
        assert "+ create source orders-postgres" in out.stdout
        assert "done: create pipeline orders-to-snowflake" in out.stdout
        out = subprocess.run(
            [*base, "plan", *api, "--detailed-exitcode", str(PROJECT)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert out.returncode == 0 and "0 to create, 0 to update, 7 unchanged" in out.stdout
        for secret in SECRETS.values():
            assert secret not in out.stdout + out.stderr


def test_an_invalid_project_is_refused_before_any_request(tmp_path):
    with running() as emulator:
        env = {**os.environ, "STREAMKAP_TOKEN": TOKEN, "STREAMKAP_CONFIG_CACHE": str(tmp_path)}
        broken = ROOT / "examples" / "project-broken"
        out = subprocess.run(
            [str(BIN / "streamkap-config"), "plan", "--api-url", emulator.url, str(broken)],
            capture_output=True,
            text=True,
            env=env,
        )
        assert out.returncode == 1 and "unknown-reference" in out.stderr
        assert emulator.requests == []


def test_a_revoked_token_is_renewed_mid_apply_and_no_secret_reaches_a_log(caplog):
    from emulator import CLIENT_ID, SECRET

    with running() as emulator:
        emulator.tokens.clear()
        emulator.revoke_after = 3  # after the third write every token stops working
        client = StreamkapClient(emulator.url, client_id=CLIENT_ID, secret=SECRET, backoff=0.01)
        with caplog.at_level("DEBUG"):
            result = apply(plan(project(), client), client)
        client.close()
        assert result.ok and emulator.issued == 2  # one token, then one renewal
        logged = " ".join(r.getMessage() for r in caplog.records)
        for secret in (*SECRETS.values(), SECRET, "issued-1", "issued-2"):
            assert secret not in logged


def test_plan_needs_no_secret_and_apply_names_every_document_missing_one(monkeypatch, tmp_path):
    from streamkap_config import ConfigValidationError

    monkeypatch.delenv("PG_PASSWORD")
    root = copy_of(tmp_path)
    original = (root / "sources" / "orders-postgres.yaml").read_text()
    (root / "sources" / "copy.yaml").write_text(original.replace("orders-postgres", "copy-pg"))
    with running() as emulator, client_of(emulator) as client:
        the_plan = plan(project(root), client)  # plan sends nothing: secrets are not read
        assert the_plan.summary["create"] == 8
        with pytest.raises(ConfigValidationError) as caught:
            apply(the_plan, client)
        assert [i.code for i in caught.value.issues] == ["unresolved-secret"] * 2
        text = str(caught.value)
        assert text.startswith("2 error(s) in 2 documents:")
        for name in ("copy.yaml", "orders-postgres.yaml"):
            assert f"sources/{name}:8:15: error[unresolved-secret] config.database.password" in (
                text
            )
        assert all(method == "GET" for method, _ in emulator.requests)  # nothing was sent


def test_an_unset_variable_outside_a_secret_stops_the_plan_naming_kind_and_file(
    monkeypatch, tmp_path
):
    from streamkap_config import ConfigValidationError

    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    root = copy_of(tmp_path)
    lake = root / "destinations" / "lake-s3.yaml"
    lake.write_text(lake.read_text().replace("eu-west-1", "${env:LAKE_REGION}"))
    with running() as emulator, client_of(emulator) as client:
        with pytest.raises(ConfigValidationError) as caught:
            plan(project(root), client)  # a region is compared: its value is needed
        assert emulator.requests == []
    text = str(caught.value)
    assert text.startswith("1 error(s) in destination configuration:")
    assert "destinations/lake-s3.yaml:8:16: error[unresolved-secret] config.aws.s3.region" in text
    assert "AWS_SECRET_ACCESS_KEY" not in text


def test_two_live_objects_with_one_name_are_a_warning():
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(), client), client)
        twin = next(o for o in emulator.objects["destination"].values() if o["name"] == "lake-s3")
        emulator.objects["destination"]["des-twin"] = {**twin, "id": "des-twin"}
        again = plan(project(), client)
        (warning,) = again.warnings
        assert "2 live destinations are named 'lake-s3'" in warning and "des-twin" in warning
        assert json.loads(json.dumps(again.as_dict()))["warnings"] == [warning]


def test_pipeline_tag_and_environment_changes_are_planned(tmp_path, monkeypatch):
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(copy), client), client)
        pipe = copy / "pipelines" / "inventory-to-lake.yaml"
        pipe.write_text(
            pipe.read_text()
            .replace("snapshot_new_tables: false", "snapshot_new_tables: true")
            .replace("name: lake-s3", "name: snowflake-prod")
        )
        dest = copy / "destinations" / "lake-s3.yaml"
        dest.write_text(dest.read_text() + "tags: [team-data]\n")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAROTATED")  # a value from the environment
        changed = plan(project(copy), client)
        by_name = {c.name: c for c in changed.changes}
        assert [(k.key, k.before, k.after) for k in by_name["inventory-to-lake"].keys] == [
            ("destination.name", "lake-s3", "snowflake-prod"),
            ("snapshot_new_tables", False, True),
        ]
        lake = {k.key: k for k in by_name["lake-s3"].keys}
        # The backend attached its Development tag at creation; the file now sets the list.
        assert (lake["tags"].before, lake["tags"].after) == ([DEVELOPMENT_TAG], ["team-data"])
        assert (lake["aws.access.key.id"].before, lake["aws.access.key.id"].after) == (
            "********",
            "********",
        )
        assert "AKIAROTATED" not in changed.format()
        result = apply(changed, client, update_secrets=True)
        assert result.ok
        stored = next(o for o in emulator.objects["destination"].values() if o["name"] == "lake-s3")
        assert stored["config"]["aws.access.key.id"] == "AKIAROTATED"


def stale_first_lookup(client):
    """The look-up before the first create misses what is live: the "already exists" path."""
    original = client.list
    calls = {"n": 0}

    def stale_list(kind, name=None, page_size=100, **options):
        calls["n"] += 1
        return [] if calls["n"] == 1 else original(kind, name, page_size, **options)

    client.list = stale_list


@pytest.mark.parametrize("status", [422, 409])
def test_a_source_that_already_exists_is_adopted_by_name(status):
    with running() as emulator, client_of(emulator) as client:
        emulator.duplicate_status = status
        first = plan(project(), client)
        # Someone else creates the first source between the plan and the apply.
        emulator.seed(
            "source", {"name": "inventory-dynamodb", "connector": "dynamodb", "config": {}}
        )
        stale_first_lookup(client)
        result = apply(first, client)
        assert result.ok
        assert emulator.names("source") == ["inventory-dynamodb", "orders-postgres"]
        assert result.done[0][1] == "sou-1"
        refused = next(p for m, p in emulator.requests if m == "POST")
        assert refused.startswith("/sources?")  # it was sent, refused, then adopted


def test_a_same_named_pipeline_is_adopted_only_when_it_is_what_apply_sends():
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(), client), client)
        ours = emulator.named("pipeline", "inventory-to-lake")
        emulator.delete("pipeline", ours["id"])
        again = plan(project(), client)
        # The same pipeline appears between plan and apply (an answer that was lost).
        emulator.seed("pipeline", {k: v for k, v in ours.items() if k not in ("id", "tags")})
        stale_first_lookup(client)
        assert apply(again, client).ok
        assert emulator.names("pipeline") == ["inventory-to-lake", "orders-to-snowflake"]
        # Someone else's pipeline of that name, reading other topics: never taken as ours.
        theirs = emulator.named("pipeline", "inventory-to-lake")
        emulator.delete("pipeline", theirs["id"])
        third = plan(project(), client)
        other = {k: v for k, v in ours.items() if k not in ("id", "tags")}
        other["source"] = {**other["source"], "topics": ["default.other"]}
        seeded = emulator.seed("pipeline", other)
        stale_first_lookup(client)
        result = apply(third, client)
        assert not result.ok and result.failed is not None
        assert f"already exists ({seeded['id']})" in result.failed[1]
        assert "someone else's" in result.failed[1]
        assert emulator.named("pipeline", "inventory-to-lake")["source"]["topics"] == [
            "default.other"
        ]


def test_the_apply_command_on_a_terminal_and_its_failures(tmp_path):
    import pty

    with running() as emulator:
        env = {
            **os.environ,
            **SECRETS,
            "STREAMKAP_TOKEN": TOKEN,
            "STREAMKAP_CONFIG_CACHE": str(tmp_path / "c"),
            "NO_COLOR": "1",
        }
        cmd = [
            *(str(BIN / "streamkap-config"), "apply", "--api-url", emulator.url),
            *("--parallelism", "1", str(PROJECT)),
        ]

        def on_terminal(answer: bytes) -> tuple[int, str]:
            leader, follower = pty.openpty()
            proc = subprocess.Popen(
                cmd, stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
            )
            os.write(leader, answer)
            out, err = proc.communicate(timeout=60)
            os.close(leader)
            os.close(follower)
            return proc.returncode, out.decode() + err.decode()

        code, text = on_terminal(b"n\n")
        assert code == 0 and "Apply these changes? [y/N]" in text and "not applied" in text
        assert emulator.objects["source"] == {}
        emulator.fail_on[3] = "500"
        code, text = on_terminal(b"y\n")
        assert code == 3 and "failed: create destination lake-s3" in text
        assert "not done: create destination snowflake-prod" in text
        assert "run apply again" in text
        code, text = on_terminal(b"y\n")
        assert code == 0
        out = subprocess.run(cmd, capture_output=True, text=True, env=env)
        assert out.returncode == 0 and "7 unchanged" in out.stdout  # nothing to do: no question
        env.pop("PG_PASSWORD")
        # Nothing to send: a plan compares no secret, so none is needed.
        out = subprocess.run([*cmd, "--yes"], capture_output=True, text=True, env=env)
        assert out.returncode == 0 and "7 unchanged" in out.stdout, out.stderr
        # A change to send needs it, and says which file, where.
        out = subprocess.run(
            [*cmd, "--yes", "--update-secrets"], capture_output=True, text=True, env=env
        )
        assert out.returncode == 1
        assert (
            "sources/orders-postgres.yaml:8:15: error[unresolved-secret] "
            "config.database.password: environment variable PG_PASSWORD is not set"
        ) in out.stderr


def copy_of(tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    return copy


@pytest.mark.parametrize("whole", [True, False])
def test_an_exact_name_on_page_two_of_a_partial_match_is_found_not_created(whole, monkeypatch):
    import streamkap_config.deploy.plan as planning

    if not whole:  # the kind is too large to list whole: each document is looked up
        monkeypatch.setattr(planning, "WHOLE_KIND_PAGES", 1)
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(), client), client)
        ours = emulator.named("source", "orders-postgres")
        emulator.delete("pipeline", emulator.named("pipeline", "orders-to-snowflake")["id"])
        emulator.delete("source", ours["id"])
        body = {k: ours[k] for k in ("connector", "created_from")}
        for n in range(150):  # names that contain the document's: partial_name matches them
            emulator.seed("source", {**body, "name": f"orders-postgres-{n:03}", "config": {}})
        config = {k: v for k, v in ours["config"].items() if "<" not in v}
        again = emulator.seed(
            "source",
            {**body, "name": "orders-postgres", "config": {**config, "database.password": "x"}},
        )
        the_plan = plan(project(), client)
        change = next(c for c in the_plan.changes if c.name == "orders-postgres")
        assert (change.action, change.id) == ("no-op", again["id"])
        pages = [p for m, p in emulator.requests if "partial_name=orders-postgres&" in p + "&"]
        assert any("page=2" in p for p in pages) != whole


def test_a_pipeline_with_two_transforms_over_three_topics_sends_one_entry_per_topic(tmp_path):
    copy = copy_of(tmp_path)
    (copy / "transforms" / "route.yaml").write_text(
        "kind: transform\nname: route\ntransform: map_filter\n"
        "config:\n  transforms.language: JavaScript\n"
    )
    pipe = copy / "pipelines" / "orders-to-snowflake.yaml"
    pipe.write_text(
        pipe.read_text().replace(
            "    topics: [public.customers]\n",
            "    topics: [public.customers, public.orders]\n  - name: route\n"
            "topic_auto_discovery_transforms:\n  - {name: route, regex: 'public\\.new_.*'}\n",
        )
    )
    with running() as emulator, client_of(emulator) as client:
        assert apply(plan(project(copy), client), client).ok
        sid = emulator.named("source", "orders-postgres")["id"]
        tids = {n: emulator.named("transform", n)["id"] for n in ("mask-pii", "route")}
        (sent,) = [b for m, p, b in emulator.bodies if m == "POST" and b.get("name") == pipe.stem]
        topics = ["public.orders", "public.customers", "public.order_items_2026"]
        expected = [("mask-pii", t) for t in ("public.customers", "public.orders")]
        expected += [("route", t) for t in topics]  # no topics: every topic of the pipeline
        assert sent["transforms"] == [
            {"id": tids[n], "name": n, "topic_id": f"source_{sid}.{t}", "topic": t}
            for n, t in expected
        ]
        assert sent["topic_auto_discovery_transforms"] == [
            {"transform_id": tids["route"], "regex": "public\\.new_.*"}
        ]
        again = plan(project(copy), client)
        assert again.summary == {"create": 0, "update": 0, "no-op": 8, "blocked": 0, "delete": 0}
        # A transform deployed since has topic ids of its own: the pipeline's entries use them.
        route = emulator.objects["transform"][tids["route"]]
        route["topics"] = topics
        route["topic_ids"] = [f"transform_{tids['route']}_3_{n}" for n in range(3)]
        pipe.write_text(
            pipe.read_text().replace("snapshot_new_tables: true", "snapshot_new_tables: false")
        )
        changed = plan(project(copy), client)
        assert [c.name for c in changed.changes if c.action == "update"] == [pipe.stem]
        assert apply(changed, client).ok
        (put,) = [b for m, p, b in emulator.bodies if m == "PUT"]
        assert [e["topic_id"] for e in put["transforms"] if e["name"] == "route"] == route[
            "topic_ids"
        ]


def test_a_transform_change_is_a_put_to_transforms_with_its_id_in_the_body(tmp_path):
    copy = copy_of(tmp_path)
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(copy), client), client)
        mask = copy / "transforms" / "mask-pii.yaml"
        mask.write_text(mask.read_text().replace("masked_customers", "masked_customers_v2"))
        changed = plan(project(copy), client)
        (update,) = [c for c in changed.changes if c.action == "update"]
        assert update.kind == "transform"
        assert apply(changed, client).ok
        (put,) = [(p, b) for m, p, b in emulator.bodies if m == "PUT"]
        assert put[0].startswith("/transforms?") and put[1]["id"] == update.id
        assert all(c.action == "no-op" for c in plan(project(copy), client).changes)


def test_secret_rotation_alone_is_one_update_each_sending_the_new_secret(monkeypatch):
    with running() as emulator, client_of(emulator) as client:
        apply(plan(project(), client), client)
        assert not plan(project(), client).has_changes
        monkeypatch.setenv("PG_PASSWORD", "pg-rotated-9")
        rotation = plan(project(), client, update_secrets=True)
        updates = [c for c in rotation.changes if c.action == "update"]
        assert {c.name for c in updates} == {
            "orders-postgres",
            "inventory-dynamodb",
            "lake-s3",
            "snowflake-prod",
        }
        assert all(c.secrets and not c.keys for c in updates)
        assert "~ update (secrets) source orders-postgres" in rotation.format()
        assert "pg-rotated-9" not in rotation.format() + json.dumps(rotation.as_dict())
        assert apply(rotation, client).ok
        puts = [b for m, p, b in emulator.bodies if m == "PUT"]
        assert len(puts) == 4
        pg = next(b for b in puts if b["name"] == "orders-postgres")
        assert pg["config"]["database.password"] == "pg-rotated-9"
        source = emulator.named("source", "orders-postgres")
        assert emulator.secrets[source["id"]]["database.password"] == "pg-rotated-9"
        assert client.get("source", source["id"]).connector_status == "Active"


@pytest.mark.parametrize("fault", ["400-echo", "422-echo"])
def test_a_refusal_that_echoes_the_body_never_shows_a_secret(fault):
    with running() as emulator, client_of(emulator) as client:
        # One at a time, so that the third write is lake-s3's: its echoed body starts
        # with a key read from the environment (a parallel run refuses any of them).
        emulator.fail_on[3] = fault
        result = apply(plan(project(), client), client, parallelism=1)
        assert not result.ok and result.failed is not None
        assert result.failed[0].name == "lake-s3"
        shown = result.format() + repr(result) + result.failed[1]
        assert "********" in shown
        for secret in SECRETS.values():
            assert secret not in shown


def test_the_transcript_in_deploying_md_is_what_the_tool_prints_today():
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "deploy_demo.py")], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    doc = (ROOT / "docs" / "DEPLOYING.md").read_text()
    shown = [b.split("```", 1)[0].strip() for b in doc.split("```console\n")[1:]]
    ran = ["$ " + b.strip() for b in ("\n" + out.stdout).split("\n$ ")[1:]]
    assert shown == ran
    # The README's "Deleting" example is the demo's prune, as printed today.
    readme = (ROOT / "README.md").read_text().split("## Deleting\n", 1)[1].split("\n## ", 1)[0]
    (example,) = [b.split("```", 1)[0].strip() for b in readme.split("```console\n")[1:]]
    assert example in ran
    for secret in (*SECRETS.values(), "pg-secret", "pg-rotated", "aws-secret", "sf-secret"):
        assert secret not in out.stdout


@st.composite
def estates(draw):
    """A project drawn from the example's documents: which pipelines, which topics each
    transform acts on, a second transform (attached, or only by auto-discovery)."""
    pipelines = draw(st.sets(st.sampled_from(["inventory-to-lake", "orders-to-snowflake"])))
    mask_topics = draw(
        st.lists(
            st.sampled_from(["public.orders", "public.customers", "public.order_items_2026"]),
            unique=True,
            max_size=3,
        )
    )
    second = draw(st.sampled_from(["none", "attached", "discovery"]))
    return sorted(pipelines), mask_topics, second


def write_estate(root: Path, estate) -> dict[str, list[str]]:
    import shutil

    pipelines, mask_topics, second = estate
    shutil.copytree(PROJECT, root)
    for pipe in ("inventory-to-lake", "orders-to-snowflake"):
        if pipe not in pipelines:
            (root / "pipelines" / f"{pipe}.yaml").unlink()
    orders = root / "pipelines" / "orders-to-snowflake.yaml"
    transforms = ["mask-pii"]
    if orders.exists():
        topics = f"    topics: [{', '.join(mask_topics)}]\n" if mask_topics else ""
        text = orders.read_text().replace("    topics: [public.customers]\n", topics)
        if second != "none":
            transforms.append("route")
            (root / "transforms" / "route.yaml").write_text(
                "kind: transform\nname: route\ntransform: map_filter\n"
                "config:\n  transforms.language: JavaScript\n"
            )
            extra = (
                "  - name: route\n"
                if second == "attached"
                else "topic_auto_discovery_transforms:\n  - {name: route, regex: 'public\\..*'}\n"
            )
            text = text.replace("snapshot_new_tables:", extra + "snapshot_new_tables:")
        orders.write_text(text)
    sources = {"inventory-to-lake": "inventory-dynamodb", "orders-to-snowflake": "orders-postgres"}
    return {
        "source": ["inventory-dynamodb", "orders-postgres"],
        "destination": ["lake-s3", "snowflake-prod"],
        "transform": sorted(transforms),
        "pipeline": pipelines,
        "_sources": sorted(sources[p] for p in pipelines),
    }


@settings(max_examples=15, deadline=None)
@given(
    estates(),
    st.integers(1, 9),
    st.sampled_from(["500-after-store", "500", "timeout-after-store", "502-html", "400-echo"]),
)
def test_any_estate_survives_a_fault_at_any_write_and_ends_exactly_as_described(estate, at, fault):
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "estate"
        expected = write_estate(root, estate)
        expected.pop("_sources")
        with running() as emulator, client_of(emulator, timeout=0.3) as client:
            emulator.slow_seconds = 0.6
            emulator.fail_on[at] = fault
            first = apply(plan(project(root), client), client)
            writes = sum(len(v) for v in expected.values())
            assert first.ok == (at > writes)
            assert apply(plan(project(root), client), client).ok
            assert {k: emulator.names(k) for k in expected} == expected
            assert all(c.action == "no-op" for c in plan(project(root), client).changes)
            for pipe in emulator.objects["pipeline"].values():  # one entry per (transform, topic)
                pairs = [(t["id"], t["topic"]) for t in pipe["transforms"]]
                assert len(pairs) == len(set(pairs))


def estate_of(root: Path, sources: int) -> Path:
    """``sources`` PostgreSQL sources, one S3 destination and a pipeline per source."""
    (root / "sources").mkdir(parents=True)
    (root / "pipelines").mkdir()
    (root / "destinations").mkdir()
    (root / "destinations" / "lake.yaml").write_text(
        (PROJECT / "destinations" / "lake-s3.yaml").read_text()
    )
    template = (PROJECT / "sources" / "orders-postgres.yaml").read_text()
    for n in range(sources):
        (root / "sources" / f"s{n}.yaml").write_text(
            template.replace("name: orders-postgres", f"name: src-{n:03}")
        )
        (root / "pipelines" / f"p{n}.yaml").write_text(
            f"kind: pipeline\nname: pipe-{n:03}\nsource:\n  name: src-{n:03}\n"
            "  topics: [public.orders]\ndestination:\n  name: lake-s3\n"
        )
    return root


def test_apply_keeps_at_most_n_in_flight_levels_in_order_and_results_in_plan_order(tmp_path):
    root = estate_of(tmp_path / "estate", 12)
    with running() as emulator, client_of(emulator) as client:
        the_plan = plan(project(root), client)
        emulator.latency = 0.05  # long enough for requests to overlap
        emulator.max_in_flight = 0
        result = apply(the_plan, client, parallelism=3)
        assert result.ok
        assert emulator.max_in_flight == 3
        assert [c.name for c, _ in result.done] == [
            c.name for c in the_plan.changes if c.action == "create"
        ]
        writes = [
            p.split("?")[0].strip("/").split("/")[0] for m, p in emulator.requests if m == "POST"
        ]
        first_pipeline = writes.index("pipelines")
        assert set(writes[:first_pipeline]) == {"sources", "destinations"}
        assert set(writes[first_pipeline:]) == {"pipelines"}  # after every id is known
        assert not plan(project(root), client).has_changes


def test_a_failure_in_parallel_starts_nothing_new_and_accounts_for_every_change(tmp_path):
    root = estate_of(tmp_path / "estate", 12)
    with running() as emulator, client_of(emulator) as client:
        the_plan = plan(project(root), client)
        emulator.fail_on[2] = "500"
        result = apply(the_plan, client, parallelism=4)
        assert not result.ok
        accounted = [c for c, _ in result.done] + [result.failed[0]]
        accounted += [c for c, _ in result.also_failed] + result.not_done
        assert sorted(c.name for c in accounted) == sorted(c.name for c in the_plan.changes)
        assert emulator.objects["pipeline"] == {}  # the next level never started
        # Only what was under way when the failure became known finished: the write before
        # it and the three in flight, give or take a worker the scheduler let start one more
        # before the failing thread raised the stop. Without the stop the whole level is done.
        assert len(result.done) < 2 * 4
        assert emulator.writes < 2 * 4 + 2
        assert "not done: create pipeline pipe-000" in result.format()
        assert apply(plan(project(root), client), client).ok


def test_a_429_pauses_every_worker_not_just_the_one_refused(tmp_path):
    root = estate_of(tmp_path / "estate", 8)
    with running() as emulator, client_of(emulator) as client:
        the_plan = plan(project(root), client)
        emulator.latency = 0.02
        emulator.faults[("POST", "source")] = ["429-slow"]
        emulator.started.clear()
        assert apply(the_plan, client, parallelism=4).ok
        (limited,) = emulator.limited
        # Retry-After: 1. Requests in flight at that moment finish; none starts until it ends.
        during = [t for t in emulator.started if limited + 0.1 < t < limited + 0.9]
        assert during == []
        assert sum(1 for t in emulator.started if t > limited + 0.9) > 1


def test_a_create_shows_what_it_sends_and_a_no_op_stays_one_line():
    with running() as emulator, client_of(emulator) as client:
        first = plan(project(), client)
        text = first.format()
        assert '    database.hostname.user.defined: "orders-db.internal.example.com"' in text
        assert '    database.password: "********"' in text
        assert "    source.topics: " in text  # a pipeline's create shows what it joins
        for secret in SECRETS.values():
            assert secret not in text
        apply(first, client)
        again = plan(project(), client)
        assert again.format().count("\n") == 8  # seven no-ops and the summary
        assert "database.password: secret: not compared" in again.format(verbose=True)
        colored = first.format(color=True)
        assert "\033[32m+ create source orders-postgres\033[0m" in colored
        assert "\033[" not in text
