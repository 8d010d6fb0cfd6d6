"""Formatters for validation results: text, JSON and GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..core.document import Document
from ..core.issues import Issue
from ..core.kinds import KIND_NAMES
from ..core.records import field, record
from ..core.text import printable
from .validate import ValidationResult

__all__ = ["FileReport", "Summary", "render_github", "render_json", "render_text", "summarise"]


@record
class FileReport:
    """Everything found in one file."""

    path: str
    issues: list[Issue] = field(default_factory=list)  # file-level (parse-error)
    documents: list[tuple[Document, ValidationResult]] = field(default_factory=list)
    unreadable: bool = False  # the file could not be read at all (exit code 2)

    def all_issues(self) -> list[Issue]:
        found = list(self.issues)
        for _, result in self.documents:
            found.extend(result.issues)
        return sorted(found, key=lambda i: (i.line is None, i.line or 0, i.column or 0, i.pointer))


@record(frozen=True)
class Summary:
    files: int
    documents: int
    kinds: dict[str, int]  # kind -> documents of that kind
    errors: int
    warnings: int

    def text(self) -> str:
        """``2 files, 1 source, 2 destinations: 1 error, 0 warnings`` (sources always named)."""
        counts = [
            _plural(self.kinds.get(kind, 0), kind)
            for kind in KIND_NAMES
            if kind == "source" or self.kinds.get(kind)
        ]
        return (
            f"{_plural(self.files, 'file')}, {', '.join(counts)}: "
            f"{_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"
        )


def summarise(reports: Sequence[FileReport]) -> Summary:
    issues = [i for r in reports for i in r.all_issues()]
    kinds: dict[str, int] = {}
    for r in reports:
        for _, result in r.documents:
            kinds[result.kind] = kinds.get(result.kind, 0) + 1
    return Summary(
        files=len(reports),
        documents=sum(kinds.values()),
        kinds=kinds,
        errors=sum(i.severity == "error" for i in issues),
        warnings=sum(i.severity == "warning" for i in issues),
    )


_RED, _YELLOW, _GREEN, _DIM, _RESET = "\033[31m", "\033[33m", "\033[32m", "\033[2m", "\033[0m"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render_text(
    reports: Sequence[FileReport],
    *,
    color: bool = False,
    quiet: bool = False,
    verbose: bool = False,
) -> str:
    """``path:line:col: error[code] message (hint: ...)`` lines, then a summary line."""
    lines: list[str] = []
    for report in reports:
        for issue in report.all_issues():
            if quiet and issue.severity != "error":
                continue
            where = printable(report.path)
            if issue.line is not None:
                where += f":{issue.line}:{issue.column}"
            label = f"{issue.severity}[{issue.code}]"
            if color:
                tint = _RED if issue.severity == "error" else _YELLOW
                label = f"{tint}{label}{_RESET}"
            hint = f" (hint: {printable(issue.hint)})" if issue.hint else ""
            if color and hint:
                hint = f"{_DIM}{hint}{_RESET}"
            lines.append(f"{where}: {label} {printable(issue.message)}{hint}")
        if verbose:
            for doc, result in report.documents:
                if result.ok:
                    version = (result.schema_version or "")[:12]
                    name = printable(doc.name or "(config)")
                    ok = f"{_GREEN}ok{_RESET}" if color else "ok"
                    about = " ".join(p for p in (result.connector, version) if p)
                    about = f" ({about})" if about else ""  # a pipeline has no connector
                    lines.append(f"{report.path}: {ok} {result.kind} {name}{about}")
    if not quiet:
        s = summarise(reports)
        text = s.text()
        if color:
            text = f"{_RED if s.errors else _GREEN}{text}{_RESET}"
        lines.append(text)
    return "\n".join(lines) + ("\n" if lines else "")


def render_json(reports: Sequence[FileReport]) -> str:
    """The documented JSON report (see the README)."""
    s = summarise(reports)
    body: dict[str, Any] = {
        "files": [
            {
                "path": r.path,
                "issues": [i.as_dict() for i in r.issues],
                "documents": [
                    {
                        "kind": result.kind,
                        "name": doc.name,
                        "connector": result.connector,
                        "schema_version": result.schema_version,
                        "ok": result.ok,
                        "issues": [i.as_dict() for i in result.issues],
                    }
                    for doc, result in r.documents
                ],
            }
            for r in reports
        ],
        "summary": {
            "files": s.files,
            "documents": s.documents,
            **{f"{kind}s": s.kinds.get(kind, 0) for kind in KIND_NAMES},
            "errors": s.errors,
            "warnings": s.warnings,
        },
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    # %0A is GitHub's line break inside one annotation; other controls are escaped.
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(text)


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: Sequence[FileReport]) -> str:
    """``::error file=...,line=...,col=...,title=...::message`` workflow commands."""
    lines = []
    for report in reports:
        for issue in report.all_issues():
            props = [f"file={_escape_property(report.path)}"]
            if issue.line is not None:
                props += [f"line={issue.line}", f"col={issue.column}"]
            props.append(f"title={_escape_property('streamkap ' + issue.code)}")
            hint = f" (hint: {issue.hint})" if issue.hint else ""
            lines.append(
                f"::{issue.severity} {','.join(props)}::{_escape_data(issue.message + hint)}"
            )
    lines.append(summarise(reports).text())
    return "\n".join(lines) + "\n"


def _issues_of(reports: Sequence[FileReport]) -> list[tuple[FileReport, Issue]]:
    return [(r, i) for r in reports for i in r.all_issues()]


def render_sarif(reports: Sequence[FileReport]) -> str:
    """A SARIF 2.1.0 log (GitHub code scanning): one rule per issue code, one result per
    issue with its file, line and column."""
    from urllib.parse import quote

    from ..core.issues import CODES
    from ..core.version import __version__

    rules = [{"id": code, "shortDescription": {"text": code}} for code in CODES]
    index = {code: n for n, code in enumerate(CODES)}
    results = []
    for report, issue in _issues_of(reports):
        text = issue.message + (f" (hint: {issue.hint})" if issue.hint else "")
        location: dict[str, Any] = {
            "artifactLocation": {"uri": quote(report.path.replace("\\", "/"))}
        }
        if issue.line is not None:
            location["region"] = {"startLine": issue.line, "startColumn": issue.column or 1}
        results.append(
            {
                "ruleId": issue.code,
                "ruleIndex": index.get(issue.code, 0),
                "level": "error" if issue.severity == "error" else "warning",
                "message": {"text": text},
                "locations": [{"physicalLocation": location}],
            }
        )
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "streamkap-config",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def render_junit(reports: Sequence[FileReport]) -> str:
    """JUnit XML: a test case per document (and one per file for file-level issues),
    failed by its errors; warnings go to its system-out."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="streamkap-validate")
    suite = ET.SubElement(suites, "testsuite", name="streamkap-validate")
    cases = failures = 0

    def case(path: str, name: str, issues: Sequence[Issue]) -> None:
        nonlocal cases, failures
        cases += 1
        element = ET.SubElement(suite, "testcase", classname=path, name=name)
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            failures += 1
            failure = ET.SubElement(
                element, "failure", message=errors[0].message, type=errors[0].code
            )
            failure.text = "\n".join(f"{path}:{i.format()}" for i in errors)
        warnings = [i for i in issues if i.severity != "error"]
        if warnings:
            out = ET.SubElement(element, "system-out")
            out.text = "\n".join(f"{path}:{i.format()}" for i in warnings)

    for report in reports:
        if report.issues or not report.documents:
            case(report.path, "(file)", report.issues)
        for n, (doc, result) in enumerate(report.documents):
            case(report.path, f"{result.kind} {doc.name or f'#{n + 1}'}", result.issues)
    suite.set("tests", str(cases))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suites.set("tests", str(cases))
    suites.set("failures", str(failures))
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
