"""The project view: pipelines checked against the documents they name, across files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import ROOT
from streamkap_config import ConfigValidationError, build_payload, validate_project
from streamkap_config.core.capture import IncludeList, captured_by, split_list
from streamkap_config.project.validate import is_streamkap_file, project_files, project_root

EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent


def found(result) -> list[tuple[str, int | None, int | None, str, str]]:
    return sorted(
        (os.path.relpath(r.path, EXAMPLES), i.line, i.column, i.code, i.pointer)
        for r in result.reports
        for i in r.all_issues()
    )


def test_the_example_project_is_clean():
    root = EXAMPLES / "project"
    result = validate_project(project_files(root), root=root)
    assert result.ok and result.issues == []
    kinds = sorted(res.kind for r in result.reports for _, res in r.documents)
    assert kinds == ["destination"] * 2 + ["pipeline"] * 2 + ["source"] * 2 + ["transform"]


def test_every_cross_document_check_with_its_file_and_position():
    root = EXAMPLES / "project-broken"
    result = validate_project(project_files(root), root=root)
    pipes = "project-broken/pipelines/"
    assert found(result) == [
        (pipes + "inventory-to-lake.yaml", 5, 14, "envelope", "/source/connector"),
        (pipes + "inventory-to-lake.yaml", 6, 30, "topic-not-captured", "/source/topics/1"),
        (pipes + "inventory-to-lake.yaml", 6, 40, "topic-not-captured", "/source/topics/2"),
        (pipes + "inventory-to-lake.yaml", 8, 9, "kind-mismatch", "/destination/name"),
        (pipes + "orders-to-snowflake.yaml", 4, 9, "unknown-reference", "/source/name"),
        (pipes + "orders-to-snowflake.yaml", 10, 14, "transform-topic", "/transforms/0/topics/0"),
        ("project-broken/sources/orders-postgres-copy.yaml", 1, 7, "duplicate-name", "/name"),
        ("project-broken/sources/orders-postgres.yaml", 1, 7, "duplicate-name", "/name"),
    ]
    by_code = {i.code: i for i in result.issues}
    assert by_code["unknown-reference"].hint == "did you mean orders-postgres?"
    hint = next(i.hint for i in result.issues if i.pointer == "/source/topics/1")
    assert "default.<table>" in hint
    assert (
        "orders-postgres-copy.yaml:1:7"
        in [i.message for i in result.issues if i.code == "duplicate-name"][1]
    )


def test_issues_are_kept_for_the_files_given_only():
    root = EXAMPLES / "project-broken"
    pipeline = str(root / "pipelines" / "orders-to-snowflake.yaml")
    result = validate_project([pipeline], root=root)
    assert {r.path for r in result.reports} == {pipeline}
    assert [i.code for i in result.issues] == ["unknown-reference", "transform-topic"]
    assert len(result.project) == 8  # every file of the project was read, each once
    again = validate_project([pipeline, pipeline], root=root)
    assert len(again.project) == 8


BROKEN_FILES = project_files(EXAMPLES / "project-broken")


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(BROKEN_FILES), min_size=1))
@example(set(BROKEN_FILES))
@example({f for f in BROKEN_FILES if "/pipelines/" in f})
def test_validating_only_what_is_needed_finds_the_same_issues(given_files):
    root = EXAMPLES / "project-broken"
    files = sorted(given_files)
    everything = validate_project(files, root=root)
    needed = validate_project(files, root=root, validate_all=False)
    assert found(needed) == found(everything)
    assert {r.path for r in needed.reports} == set(files)
    assert {r.path for r in needed.project} <= {r.path for r in everything.project}


def test_a_file_of_the_project_is_validated_only_when_a_check_needs_it():
    root = EXAMPLES / "project"
    source = str(root / "sources" / "orders-postgres.yaml")
    alone = validate_project([source], root=root, validate_all=False)
    assert [r.path for r in alone.project] == [source]  # the other six files only read
    pipeline = str(root / "pipelines" / "orders-to-snowflake.yaml")
    joined = validate_project([pipeline], root=root, validate_all=False)
    built = {os.path.relpath(r.path, root) for r in joined.project}
    assert "sources/orders-postgres.yaml" in built  # its include list is checked
    assert "sources/inventory-dynamodb.yaml" not in built
    assert joined.find("source", "orders-postgres") is not None
    assert validate_project([source], root=root).find("source", "inventory-dynamodb") is not None


def test_a_file_of_several_documents_validated_for_a_check_is_one_report(tmp_path):
    root = tmp_path / "estate"
    shutil.copytree(EXAMPLES / "project", root)
    sources = sorted((root / "sources").iterdir())
    texts = [yaml.safe_load(p.read_text()) for p in sources]
    for p in sources:
        p.unlink()
    both = root / "sources" / "both.yaml"
    both.write_text(yaml.safe_dump({"sources": texts}))
    pipelines = [str(p) for p in sorted((root / "pipelines").iterdir())]
    result = validate_project(pipelines, root=root, validate_all=False)
    assert result.issues == []
    assert [r.path for r in result.project].count(str(both)) == 1
    (report,) = [r for r in result.project if r.path == str(both)]
    assert len(report.documents) == 2


def test_the_project_root_is_explicit_or_the_nearest_lock_or_the_git_root(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "team" / "streamkap" / "sources").mkdir(parents=True)
    leaf = repo / "team" / "streamkap" / "sources" / "a.yaml"
    leaf.write_text("name: a\n")
    assert project_root([str(leaf)]) == repo
    (repo / "team" / "streamkap-schemas.lock").write_text("{}")
    assert project_root([str(leaf)]) == repo / "team"
    assert project_root([str(leaf)], str(tmp_path)) == tmp_path
    lonely = tmp_path / "elsewhere" / "x.yaml"
    lonely.parent.mkdir()
    assert project_root([str(lonely)]) is None


def test_which_files_belong_to_a_project(tmp_path):
    for name in (
        "streamkap/a.yaml",
        "deploy/sources/b.yml",
        "c.pipeline.json",
        "x/d.destination.toml",
        "ci/workflow.yaml",
        "sources/readme.md",
        ".hidden/sources/e.yaml",
        "nested/sources/f.yaml",
    ):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("name: x\n")
    (tmp_path / "nested" / "streamkap-schemas.lock").write_text("{}")  # a project of its own
    assert [os.path.relpath(p, tmp_path) for p in project_files(tmp_path)] == [
        "c.pipeline.json",
        "deploy/sources/b.yml",
        "streamkap/a.yaml",
        "x/d.destination.toml",
    ]
    assert not is_streamkap_file(tmp_path / "ci" / "workflow.yaml", tmp_path)


# --- payloads ------------------------------------------------------------------------------


def test_a_pipeline_payload_takes_ids_and_connectors_from_its_project():
    root = EXAMPLES / "project"
    result = validate_project(project_files(root), root=root)
    pipeline = next(
        d for r in result.project for d, res in r.documents if d.name == "orders-to-snowflake"
    )
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(pipeline, project=result)
    assert [(i.code, i.pointer) for i in caught.value.issues] == [
        ("envelope", "/source"),
        ("envelope", "/destination"),
        ("envelope", "/transforms/0"),
    ]
    assert "--id source/orders-postgres=ID" in caught.value.issues[0].hint
    ids = {
        "source/orders-postgres": "src-1",
        "destination/snowflake-prod": "dst-1",
        "transform/mask-pii": "tr-1",
    }
    body = build_payload(pipeline, project=result, ids=ids)
    assert body.model_dump(mode="json", exclude_none=True) == {
        "name": "orders-to-snowflake",
        "source": {
            "id": "src-1",
            "name": "orders-postgres",
            "connector": "postgresql",
            "topics": ["public.orders", "public.customers", "public.order_items_2026"],
        },
        "destination": {"id": "dst-1", "name": "snowflake-prod", "connector": "snowflake"},
        # One entry per (transform, topic), the topic id the source's own (not deployed).
        "transforms": [
            {
                "id": "tr-1",
                "name": "mask-pii",
                "topic_id": "source_src-1.public.customers",
                "topic": "public.customers",
            }
        ],
        "topic_auto_discovery_transforms": [],
        "snapshot_new_tables": True,
    }


def test_a_pipeline_payload_through_the_cli(tmp_path):
    pipeline = str(EXAMPLES / "project" / "pipelines" / "inventory-to-lake.yaml")
    env = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(tmp_path / "c")}
    cmd = [str(BIN / "streamkap-config"), "payload", pipeline]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert out.returncode == 1 and "has no id" in out.stderr
    ids = ["--id", "source/inventory-dynamodb=s9", "--id", "destination/lake-s3=d9"]
    out = subprocess.run([*cmd, *ids], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["source"] == {
        "id": "s9",
        "name": "inventory-dynamodb",
        "connector": "dynamodb",
        "topics": ["default.products", "default.stock"],
    }
    assert body["snapshot_new_tables"] is False and body["transforms"] == []
    out = subprocess.run([*cmd, "--id", "nonsense"], capture_output=True, text=True, env=env)
    assert out.returncode == 2 and "KIND/NAME=ID" in out.stderr


def test_references_by_id_need_no_document_in_the_project():
    doc = {
        "kind": "pipeline",
        "name": "p",
        "source": {"id": "s1", "name": "elsewhere", "connector": "postgresql", "topics": ["t"]},
        "destination": {"id": "d1", "name": "far", "connector": "snowflake"},
    }
    result = validate_project([doc])
    assert result.ok
    body = build_payload(doc)
    assert body.source.connector == "postgresql" and body.destination.id == "d1"


@pytest.mark.parametrize(
    ("change", "pointer", "says"),
    [
        ({"bogus": 1}, "/bogus", "unknown field"),
        ({"source": "orders"}, "/source", "expected a mapping"),
        ({"source": {"name": "s"}}, "/source", "missing required field topics"),
        ({"source": {"topics": ["t"]}}, "/source", "needs a name or an id"),
        ({"source": {"name": "s", "topics": [], "nam": 1}}, "/source/nam", "unknown field"),
        ({"transforms": "mask"}, "/transforms", "expected a list"),
        ({"snapshot_new_tables": "yes"}, "/snapshot_new_tables", "true or false"),
        ({"tags": "t"}, "/tags", "list of tag ids"),
        ({"name": ""}, "/name", "non-empty string"),
        ({"name": None}, "/name", "non-empty string"),
        ({"destination": {"name": 5}}, "/destination/name", "non-empty string"),
        ({"source": {"name": "s", "topics": ["t", 3]}}, "/source/topics/1", "expected a topic"),
        ({"transforms": ["mask"]}, "/transforms/0", "expected a mapping"),
    ],
)
def test_a_pipeline_document_alone(change, pointer, says):
    from streamkap_config import validate_pipeline

    doc = {
        "name": "p",
        "source": {"name": "s", "topics": ["t"]},
        "destination": {"name": "d"},
        **change,
    }
    result = validate_pipeline(doc)
    assert any(i.pointer == pointer and says in i.message for i in result.issues), result.issues


# --- include lists, read as Debezium reads them -------------------------------------------

# Identifiers with regex metacharacters too ($ + - are legal in some databases' names).
IDENT = st.text("abcdefgh_0123456789$+-", min_size=1, max_size=8)


@given(
    st.lists(st.tuples(IDENT, IDENT), min_size=1, max_size=5), st.sampled_from([",", ", ", " , "])
)
def test_an_include_list_of_escaped_names_captures_exactly_those_names(tables, separator):
    names = [f"{schema}.{table}" for schema, table in tables]
    listed = separator.join(re.escape(n) for n in names)
    include = IncludeList.parse(listed)
    for name in names:
        assert include.matches(name) and include.matches(name.upper())  # case is ignored
        assert not include.matches(name + "x")  # the whole identifier must match
        assert not include.matches("x" + name)
    for schema, table in tables:
        if f"{schema}x{table}" not in names:
            assert not include.matches(f"{schema}x{table}")  # an escaped dot is a dot


def test_include_list_syntax():
    assert split_list(r"a\,b, c ,, d") == ["a,b", "c", "d"]
    assert IncludeList.parse(r"public\.orders_\d+").matches("public.orders_2026")
    assert IncludeList.parse("public.*").matches("public.anything")
    assert not IncludeList.parse("[unclosed").checkable
    assert captured_by("postgresql", {"table.include.list": "[unclosed"}) is None
    assert captured_by("postgresql", {}) is None
    found = captured_by("dynamodb", {"table.include.list.user.defined": "stock"})
    assert found is not None and found[1] == "default."


# --- generated projects -------------------------------------------------------------------

PG_CONFIG = {
    "database.hostname": "db",
    "database.user": "u",
    "database.password": "${env:P}",
    "database.dbname": "d",
    "schema.include.list": "public",
}
SF_CONFIG = {
    "snowflake.url.name": "u",
    "snowflake.user.name": "n",
    "snowflake.private.key": "${env:K}",
    "snowflake.database.name": "d",
    "snowflake.schema.name": "s",
}


@st.composite
def projects(draw):
    docs = []
    tables_of = {}
    for n in range(draw(st.integers(1, 3))):
        tables = draw(
            st.lists(
                st.text("abcdefg", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
            )
        )
        tables_of[f"src{n}"] = tables
        spaced = draw(st.sampled_from([",", ", ", " ,  "]))
        listed = spaced.join(re.escape(f"public.{t}") for t in tables)
        docs.append(
            {
                "kind": "source",
                "name": f"src{n}",
                "connector": "postgresql",
                "config": {**PG_CONFIG, "table.include.list": listed},
            }
        )
    for n in range(draw(st.integers(1, 2))):
        docs.append(
            {
                "kind": "destination",
                "name": f"dst{n}",
                "connector": "snowflake",
                "config": SF_CONFIG,
            }
        )
    docs.append({"kind": "transform", "name": "tr0", "transform": "map_filter", "config": {}})
    for n in range(draw(st.integers(1, 3))):
        source = draw(st.sampled_from(sorted(tables_of)))
        topics = [
            f"public.{t}"
            for t in draw(st.lists(st.sampled_from(tables_of[source]), min_size=1, unique=True))
        ]
        pipeline = {
            "kind": "pipeline",
            "name": f"pipe{n}",
            "source": {"name": source, "topics": topics},
            "destination": {
                "name": draw(
                    st.sampled_from([d["name"] for d in docs if d["kind"] == "destination"])
                )
            },
            "transforms": [{"name": "tr0", "topics": topics[:1]}],
        }
        docs.append(pipeline)
    return docs


def issues_of(docs):
    result = validate_project(docs)
    return sorted(
        (res.kind, d.name, i.code, i.pointer)
        for r in result.reports
        for d, res in r.documents
        for i in res.issues
    )


@settings(max_examples=40)
@given(projects())
def test_generated_projects_are_clean(docs):
    assert issues_of(docs) == []


MUTATIONS = ("rename", "uncaptured", "duplicate", "destination-is-a-source", "transform-topic")


@settings(max_examples=60)
@given(projects(), st.sampled_from(MUTATIONS), st.randoms())
def test_a_single_mutation_gives_exactly_its_code_at_its_pointer(docs, mutation, rnd):
    pipelines = [d for d in docs if d["kind"] == "pipeline"]
    pipe = rnd.choice(pipelines)
    if mutation == "rename":
        pipe["source"]["name"] += "zz"
        expected = [("pipeline", pipe["name"], "unknown-reference", "/source/name")]
    elif mutation == "uncaptured":
        pipe["source"]["topics"].append("public.never_captured")
        n = len(pipe["source"]["topics"]) - 1
        expected = [("pipeline", pipe["name"], "topic-not-captured", f"/source/topics/{n}")]
    elif mutation == "duplicate":
        first = next(d for d in docs if d["kind"] == "source")
        docs.append({**first, "config": dict(first["config"])})
        expected = [("source", first["name"], "duplicate-name", "/name")] * 2
    elif mutation == "destination-is-a-source":
        pipe["destination"]["name"] = next(d["name"] for d in docs if d["kind"] == "source")
        expected = [("pipeline", pipe["name"], "kind-mismatch", "/destination/name")]
    else:
        pipe["transforms"][0]["topics"] = ["public.outside_the_pipeline"]
        expected = [("pipeline", pipe["name"], "transform-topic", "/transforms/0/topics/0")]
    assert issues_of(docs) == sorted(expected)


@settings(max_examples=30)
@given(projects(), st.sampled_from(MUTATIONS[:3]), st.randoms())
def test_the_order_of_the_documents_never_changes_the_issues(docs, mutation, rnd):
    pipe = next(d for d in docs if d["kind"] == "pipeline")
    if mutation == "rename":
        pipe["source"]["name"] += "zz"
    elif mutation == "duplicate":
        docs.append(dict(next(d for d in docs if d["kind"] == "source")))
    before = issues_of(docs)
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    assert issues_of(shuffled) == before


def test_a_pipeline_without_its_required_fields():
    from streamkap_config import validate_pipeline

    result = validate_pipeline({"kind": "pipeline"})
    assert [i.message for i in result.issues] == [
        "(document): missing required field name",
        "(document): missing required field source",
        "(document): missing required field destination",
    ]


def test_topics_are_checked_while_the_source_has_other_errors(tmp_path):
    # Every problem at once: a wrong port in the source does not hide the pipeline's
    # topic that its (readable) include list does not capture.
    shutil.copytree(EXAMPLES / "project", tmp_path / "project")
    root = tmp_path / "project"
    source = root / "sources" / "orders-postgres.yaml"
    source.write_text(source.read_text().replace("port: 5432", "port: not-a-port"))
    pipeline = root / "pipelines" / "orders-to-snowflake.yaml"
    pipeline.write_text(
        pipeline.read_text().replace("orders, public.customers", "orders, public.payments")
    )
    result = validate_project(project_files(root), root=root)
    codes = sorted(
        (os.path.basename(r.path), i.code) for r in result.reports for i in r.all_issues()
    )
    assert ("orders-postgres.yaml", "type") in codes
    assert ("orders-to-snowflake.yaml", "topic-not-captured") in codes


def test_a_topic_hint_names_the_include_list_as_the_source_spells_it(tmp_path):
    shutil.copytree(EXAMPLES / "project", tmp_path / "project")
    root = tmp_path / "project"
    pipeline = root / "pipelines" / "orders-to-snowflake.yaml"
    pipeline.write_text(pipeline.read_text().replace("orders, public.customers", "orders, x.y"))
    result = validate_project(project_files(root), root=root)
    (hint,) = [i.hint for i in result.issues if i.code == "topic-not-captured"]
    assert hint is not None and hint.startswith("table.include.list is public")
    source = root / "sources" / "orders-postgres.yaml"  # nested, as some write it
    text = source.read_text().replace("  table.include.list:", "  table:\n    include.list:")
    source.write_text(text)
    result = validate_project(project_files(root), root=root)
    (hint,) = [i.hint for i in result.issues if i.code == "topic-not-captured"]
    assert hint is not None and hint.startswith("table.include.list is public")
    assert ".user.defined" not in hint
