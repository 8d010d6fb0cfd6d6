from __future__ import annotations

import json

from streamkap_config import validate_document
from streamkap_config.core.issues import Issue
from streamkap_config.loaders import load_text
from streamkap_config.validation.report import FileReport, render_github, render_json, render_text


def report_of(text: str, path: str = "dir/a, b.yaml") -> FileReport:
    loaded = load_text(text, path)
    report = FileReport(path, list(loaded.issues))
    for doc in loaded.documents:
        report.documents.append((doc, validate_document(doc)))
    return report


BAD = "name: n\nconnector: s3\nconfig:\n  format: x\n  nope: 1\n"


def test_text_is_sorted_and_summarised():
    out = render_text([report_of(BAD)])
    assert out.splitlines() == [
        'dir/a, b.yaml:4:11: error[enum] config.format: "x" is not one of json, csv, avro'
        " (hint: write one of json, csv, avro)",
        "dir/a, b.yaml:5:3: error[unknown-key] config.nope: unknown key",
        "1 file, 1 source: 2 errors, 0 warnings",
    ]


def test_text_colour_and_quiet():
    coloured = render_text([report_of(BAD)], color=True)
    assert "\x1b[31merror[enum]\x1b[0m" in coloured
    assert render_text([report_of("name: n\nconnector: s3\nconfig: {}\n")], quiet=True) == ""


def test_json_shape():
    body = json.loads(render_json([report_of(BAD), report_of("[unclosed", "b.yaml")]))
    assert body["summary"] == {
        "files": 2,
        "documents": 1,
        "sources": 1,
        "destinations": 0,
        "transforms": 0,
        "pipelines": 0,
        "errors": 3,
        "warnings": 0,
    }
    assert body["files"][1]["issues"][0]["code"] == "parse-error"
    (document,) = body["files"][0]["documents"]
    assert document["kind"] == "source"
    assert document["issues"][1]["pointer"] == "/config/nope"


MIXED = """\
sources:
  - name: n
    connector: s3
    config: {format: json}
destinations:
  - name: w
    connector: snowflake
    config: {}
  - name: x
    connector: s3
    config: {}
"""


def test_reports_name_the_kind_and_count_each():
    report = report_of(MIXED)
    text = render_text([report], verbose=True)
    assert text.splitlines()[-1] == "1 file, 1 source, 2 destinations: 8 errors, 0 warnings"
    assert "dir/a, b.yaml: ok source n (s3 " in text
    body = json.loads(render_json([report]))
    assert [d["kind"] for d in body["files"][0]["documents"]] == [
        "source",
        "destination",
        "destination",
    ]
    assert render_github([report]).splitlines()[-1] == text.splitlines()[-1]


def test_github_escapes_properties_and_data():
    report = FileReport(
        "a,b:c.yaml", [Issue("parse-error", "error", "bad\nthing 100%", line=1, column=2)]
    )
    line = render_github([report]).splitlines()[0]
    assert line == (
        "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=streamkap parse-error::bad%0Athing 100%25"
    )


def test_the_readme_json_example_has_the_fields_the_report_has():
    import json
    import re
    import subprocess
    import sys
    from pathlib import Path

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    shown = json.loads(re.search(r"- `--format json`.*?```json\n(.*?)```", readme, re.S)[1])
    out = subprocess.run(
        [
            str(Path(sys.executable).parent / "streamkap-validate"),
            "--format",
            "json",
            "examples/postgresql-invalid.source.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    real = json.loads(out.stdout)

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__ if value is not None else None

    assert shape(shown)["summary"] == shape(real)["summary"]
    assert shown["summary"] == real["summary"]
    doc, real_doc = shown["files"][0]["documents"][0], real["files"][0]["documents"][0]
    assert list(doc) == list(real_doc)
    assert list(doc["issues"][0]) == list(real_doc["issues"][0])
    assert doc["issues"][0] in real_doc["issues"]
    assert list(shown["files"][0]) == list(real["files"][0])
