"""The project: every Streamkap file of a repository, and the checks across them.

Each document is validated alone first; the project view then checks what joins
the files (codes in the README): ``duplicate-name``, ``unknown-reference``,
``kind-mismatch`` of a reference, ``topic-not-captured``, ``transform-topic``,
and ``envelope`` for a reference whose ``connector`` differs from the document's.

The project root is ``--project DIR``, else the nearest directory upward that
holds ``streamkap-schemas.lock``, else the git work tree root, else there is no
project beyond the files given. Streamkap files are those under a directory
named ``streamkap``, ``sources``, ``destinations``, ``transforms`` or
``pipelines``, and ``*.source.yaml`` (or ``destination``, ``transform``,
``pipeline``; ``.yml``, ``.json``, ``.toml``). A directory holding its own lock
file is a project of its own and is not walked into.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .capture import captured_by
from .issues import Collector, Issue
from .kinds import PIPELINE
from .loaders.common import real_path as _real
from .lockfile import LOCK_FILE
from .pipelines import Reference, references
from .records import field, record

if TYPE_CHECKING:
    from .document import Document
    from .loaders import Limits
    from .report import FileReport
    from .validate import Mode, SchemaSource, ValidationResult

__all__ = [
    "ProjectResult",
    "check_project",
    "is_streamkap_file",
    "project_files",
    "project_root",
    "validate_project",
]

_FOLDERS = frozenset({"streamkap", "sources", "destinations", "transforms", "pipelines"})
_NAMED = re.compile(r".*\.(source|destination|transform|pipeline)\.(ya?ml|json|toml)$")
_EXTENSIONS = (".yaml", ".yml", ".json", ".toml")
_SKIP = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", ".tox"})


def project_root(paths: Sequence[str], explicit: str | None = None) -> Path | None:
    """The root of the project the files given belong to (see the module docstring)."""
    if explicit is not None:
        return Path(explicit)
    start = next((p for p in paths if p != "-"), None)
    here = Path(os.path.abspath(start if start is not None else os.getcwd()))
    if not here.is_dir():
        here = here.parent
    git_root = None
    for folder in (here, *here.parents):
        if (folder / LOCK_FILE).is_file():
            return folder
        if git_root is None and (folder / ".git").exists():
            git_root = folder
    return git_root


def is_streamkap_file(path: Path, root: Path) -> bool:
    """Under a Streamkap folder (below ``root``), or named ``*.<kind>.<ext>``."""
    if path.suffix.lower() not in _EXTENSIONS:
        return False
    if _NAMED.match(path.name.lower()):
        return True
    try:
        parts = path.relative_to(root).parts[:-1]
    except ValueError:
        parts = path.parts[:-1]
    return any(part in _FOLDERS for part in parts)


def relative(path: str) -> str:
    """``path`` relative to the current directory when below it, else as it is."""
    try:
        here = os.getcwd()
        full = os.path.abspath(path)
    except OSError:
        return path
    if full == here or not full.startswith(here.rstrip(os.sep) + os.sep):
        return path
    return os.path.relpath(full, here)


def project_files(root: Path, on_error: Callable[[str, str], None] | None = None) -> list[str]:
    """Every Streamkap file under ``root``, sorted; nested projects are left out.

    A folder that cannot be read (another user's database volume) or that is
    nested too deeply is skipped and passed to ``on_error(path, reason)``.
    """
    from .loaders.common import walk

    def keep(folder: str, name: str) -> bool:
        if name.startswith(".") or name in _SKIP:
            return False
        try:
            return not os.path.isfile(os.path.join(folder, name, LOCK_FILE))
        except OSError:
            return True

    found = [
        path
        for path in walk(str(root), on_error or (lambda path, reason: None), keep)
        if not os.path.basename(path).startswith(".") and is_streamkap_file(Path(path), root)
    ]
    return sorted(found)


@record
class ProjectResult:
    """What a project run found: a report per file given, and every file of the project."""

    reports: list[FileReport]
    project: list[FileReport] = field(default_factory=list)
    root: Path | None = None
    # Folders of the project (outside the files given) that could not be read.
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for r in self.reports for i in r.all_issues())

    @property
    def issues(self) -> list[Issue]:
        return [i for r in self.reports for i in r.all_issues()]

    def find(self, kind: str, name: str) -> ValidationResult | None:
        """The result of the project's document of ``kind`` named ``name``, if any."""
        for report in self.project:
            for doc, result in report.documents:
                if result.kind == kind and doc.name == name:
                    return result
        return None


def validate_project(
    items: Iterable[Any],
    *,
    report_for: Iterable[str] | None = None,
    root: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
    mode: Mode = "create",
    strict: bool = False,
    schemas: SchemaSource | Callable[[str | None], SchemaSource] | None = None,
    connector: str | None = None,
    kind: str | None = None,
    no_plaintext_secrets: bool = False,
    validate_all: bool = True,
    jobs: int = 1,
) -> ProjectResult:
    """Validate files (paths) or documents (mappings, :class:`Document`) as one project.

    Every item is validated alone, then the cross-document checks run over all
    of them; issues are kept for the files in ``report_for`` (default: every
    item). ``root`` adds every Streamkap file under that directory to the
    project (read once, even when also given). ``schemas`` is a schema source,
    or a function of a file's path giving one (the CLI's lock-file look-up).

    With ``validate_all=False`` the files not in ``report_for`` are read for
    their documents' kinds and names, and validated only when a check of a
    reported file needs their result (the source a pipeline reads); the
    reports of the others are not built, so ``project`` holds the reported
    files and the ones validated for them. The issues of the reported files
    are the same either way; ``validate`` on the command line runs so.

    ``jobs`` above 1 reads and validates the files on that many processes
    (:mod:`streamkap_config.parallel`): the same results, in less time for
    many files.
    """
    from .errors import LoadError
    from .loaders import DEFAULT_LIMITS, LoadedFile, load_file
    from .parallel import forked_map
    from .report import FileReport
    from .validate import validate_document

    used: dict[int, tuple[str, Any]] = {}  # the schema sources asked, by the first path

    def source_for(path: str | None) -> Any:
        if not callable(schemas):
            return schemas
        source = schemas(path)
        if path is not None and id(source) not in used:
            used[id(source)] = (path, source)
        return source

    def add_notices(found: list[tuple[str, list[str]]]) -> None:
        for path, notices in found:
            known = getattr(source_for(path), "notices", None)
            if isinstance(known, list):
                known.extend(n for n in dict.fromkeys(notices) if n not in known)

    def validated(loaded: LoadedFile, path: str | None) -> FileReport:
        report = FileReport(loaded.path, list(loaded.issues))
        source = source_for(path)
        for doc in loaded.documents:
            result = validate_document(
                doc,
                mode=mode,
                strict=strict,
                schemas=source,
                connector=connector,
                no_plaintext_secrets=no_plaintext_secrets,
            )
            report.documents.append((doc, result))
        return report

    paths: list[str] = []
    reports: list[FileReport] = []
    seen: set[str] = set()  # each file is read once, however often it is given or reached
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            if _real(path) not in seen:
                seen.add(_real(path))
                paths.append(path)
        elif isinstance(item, LoadedFile):
            seen.add(_real(item.path))
            reports.append(validated(item, None))
        else:
            reports.append(_in_memory(item))
    wanted = {_real(p) for p in (report_for if report_for is not None else paths)}
    wanted |= {_real(r.path) for r in reports}
    skipped: list[str] = []

    def skip(path: str, reason: str) -> None:
        skipped.append(f"skipped {relative(path)}: {reason}")

    in_root = project_files(Path(root), skip) if root is not None else []
    context: list[_Entry] = []  # documents of files read only for the checks across files

    def read(path: str) -> FileReport | LoadedFile | None:
        try:
            loaded = load_file(
                path, limits=limits or DEFAULT_LIMITS, connector=connector, kind=kind
            )
        except LoadError as exc:
            if _real(path) not in wanted:
                return None
            issue = Issue("parse-error", "error", f"cannot read the file: {exc.reason}")
            return FileReport(path, [issue], unreadable=True)
        if validate_all or _real(path) in wanted:
            return validated(loaded, path)
        return loaded  # validated later, if a check needs it

    todo = [*paths, *(p for p in in_root if _real(p) not in seen)]
    for path, outcome in zip(
        todo,
        forked_map(read, todo, jobs, report=lambda: _notices(used), merge=add_notices),
        strict=True,
    ):
        if isinstance(outcome, LoadedFile):
            later = functools.partial(validated, outcome, path)
            report = FileReport(outcome.path, list(outcome.issues))
            context.extend(_Entry(report, n, d, later) for n, d in enumerate(outcome.documents))
        elif outcome is not None:
            reports.append(outcome)
    check_project(reports, context)
    shown = [r for r in reports if _real(r.path) in wanted]
    validated_later = {id(e.report): e.report for e in context if e.report.documents}
    built = [*reports, *validated_later.values()]  # a file's entries share its report
    return ProjectResult(shown, built, Path(root) if root is not None else None, skipped)


def _notices(used: dict[int, tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """The notices of each schema source asked (a forked worker sends them back)."""
    return [(path, list(getattr(source, "notices", ()))) for path, source in used.values()]


def _in_memory(item: Any) -> FileReport:
    from .document import Document
    from .report import FileReport
    from .validate import validate_document

    doc = item if isinstance(item, Document) else Document(data=item)
    path = doc.path or f"<document {id(doc):x}>"
    report = FileReport(path)
    report.documents.append((doc, validate_document(doc)))
    return report


# --- the checks across documents ---------------------------------------------------------


class _Entry:
    """A document in the project, with its result (made when first asked for, if lazy)."""

    __slots__ = ("_result", "_validate", "doc", "index", "kind", "report")

    def __init__(
        self,
        report: FileReport,
        index: int,
        doc: Document,
        validate: ValidationResult | Callable[[], FileReport],
    ) -> None:
        self.report, self.index, self.doc = report, index, doc
        self._result: ValidationResult | None = None
        self._validate: Callable[[], FileReport] | None = None
        if callable(validate):
            self._validate = validate
        else:
            self._result = validate
        self.kind = doc.declared_kind if self._result is None else self._result.kind

    @property
    def result(self) -> ValidationResult:
        if self._result is None:
            assert self._validate is not None
            if not self.report.documents:  # the whole file at once, for all its entries
                self.report.documents[:] = self._validate().documents
            self._result = self.report.documents[self.index][1]
        return self._result

    def where(self, tokens: tuple[str, ...] = ("name",)) -> str:
        position = None
        if self.doc.positions is not None:
            position = self.doc.positions.of_value((*self.doc.base, *tokens))
        return (
            self.report.path
            if position is None
            else f"{self.report.path}:{position[0]}:{position[1]}"
        )


def check_project(reports: Sequence[FileReport], context: Sequence[_Entry] = ()) -> None:
    """Add the cross-document issues to the results of ``reports`` (in place).

    ``context`` holds documents that are checked against but not reported on.
    """
    entries = [
        _Entry(report, n, doc, result)
        for report in reports
        for n, (doc, result) in enumerate(report.documents)
    ]
    by_name: dict[tuple[str, str], list[_Entry]] = {}
    for entry in [*entries, *context]:
        if entry.doc.name is not None:
            by_name.setdefault((entry.kind, entry.doc.name), []).append(entry)
    found: dict[int, list[Issue]] = {}

    def add(
        entry: _Entry,
        code: str,
        tokens: tuple[str, ...],
        text: str,
        hint: str | None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        run = Collector(entry.doc)
        run.add(code, severity, tokens, text, hint=clip(hint))
        found.setdefault(id(entry), []).extend(run.issues)

    for (kind, name), group in by_name.items():
        if len(group) < 2:
            continue
        ordered = sorted(group, key=lambda e: (e.report.path, e.where()))
        for entry in ordered:
            other = next(e for e in ordered if e is not entry)
            add(
                entry,
                "duplicate-name",
                ("name",),
                f'another {kind} is also named "{name}" ({other.where()})',
                f"{kind} names are unique per account: rename one",
            )
    for entry in entries:
        if entry.kind == PIPELINE and isinstance(entry.doc.data, dict):
            _check_pipeline(entry, by_name, add)
    for entry in entries:
        extra = found.get(id(entry))
        if extra:
            entry.report.documents[entry.index] = (entry.doc, entry.result.with_issues(extra))


def _check_pipeline(
    entry: _Entry,
    by_name: dict[tuple[str, str], list[_Entry]],
    add: Callable[..., None],
) -> None:
    refs = references(entry.doc.data)
    carried: tuple[str, ...] = ()
    for ref in refs:
        target = _resolve(entry, ref, by_name, add)
        if ref.kind == "source":
            carried = ref.topics
            if target is not None:
                _check_topics(entry, ref, target, add)
    for ref in refs:
        if ref.kind != "transform" or not ref.topics or not carried:
            continue
        for n, topic in enumerate(ref.topics):
            if topic not in carried:
                add(
                    entry,
                    "transform-topic",
                    (*ref.tokens, "topics", str(n)),
                    f'transform topic "{topic}" is not among the pipeline\'s topics',
                    f"the pipeline carries: {', '.join(carried)}",
                )


def _resolve(
    entry: _Entry,
    ref: Reference,
    by_name: dict[tuple[str, str], list[_Entry]],
    add: Callable[..., None],
) -> _Entry | None:
    if ref.name is None:
        return None
    targets = by_name.get((ref.kind, ref.name))
    if targets:
        target = targets[0]
        actual = target.result.connector
        if ref.connector is not None and actual is not None and ref.connector != actual:
            add(
                entry,
                "envelope",
                (*ref.tokens, "connector"),
                f'{ref.kind} "{ref.name}" uses connector "{actual}", not "{ref.connector}"',
                f"write connector: {actual}, or leave it out",
            )
        return target
    others = [k for (k, n) in by_name if n == ref.name and k != ref.kind]
    if others:
        add(
            entry,
            "kind-mismatch",
            (*ref.tokens, "name"),
            f'"{ref.name}" is a {others[0]}, not a {ref.kind}',
            f"name a {ref.kind} here",
        )
    elif ref.id is None:
        names = sorted(n for (k, n) in by_name if k == ref.kind)
        import difflib  # only for a name not found

        near = difflib.get_close_matches(ref.name, names, n=3, cutoff=0.5)
        hint = (
            f"did you mean {', '.join(near)}?"
            if near
            else (f"add the {ref.kind} to the project, or give its id:")
        )
        add(
            entry,
            "unknown-reference",
            (*ref.tokens, "name"),
            f'no {ref.kind} named "{ref.name}" in the project',
            hint,
        )
    return None


def _check_topics(
    entry: _Entry,
    ref: Reference,
    target: _Entry,
    add: Callable[..., None],
) -> None:
    body = target.result.checked_body
    if body is None or target.result.connector is None:
        return  # the source has errors of its own; its include list cannot be trusted
    captured = captured_by(target.result.connector, body["config"])
    if captured is None:
        return
    include, prefix = captured
    missed = 0
    unsure: list[str] = []
    for n, topic in enumerate(ref.topics):
        name = topic[len(prefix) :] if prefix and topic.startswith(prefix) else None
        if prefix and name is None:
            ok, note = False, f"{target.result.connector} topics are written {prefix}<table>; "
        else:
            got = include.match(name if name is not None else topic)
            if got is None:
                unsure.append(topic)
                continue
            ok, note = got, ""
        if ok:
            continue
        missed += 1
        if missed <= MAX_TOPIC_ISSUES:
            add(
                entry,
                "topic-not-captured",
                (*ref.tokens, "topics", str(n)),
                f'source "{ref.name}" does not capture topic "{topic}"',
                f"{note}{include.key} is {', '.join(include.entries)}",
            )
    if missed > MAX_TOPIC_ISSUES:
        add(
            entry,
            "topic-not-captured",
            (*ref.tokens, "topics"),
            f"{missed - MAX_TOPIC_ISSUES} more topics are not captured by source "
            f'"{ref.name}" (left out here)',
            None,
        )
    if unsure:
        add(
            entry,
            "topic-not-captured",
            (*ref.tokens, "topics"),
            f'{len(unsure)} topic(s) could not be checked against source "{ref.name}": its '
            f"{include.key} has a pattern that backtracks without end",
            "simplify the pattern (no repeat inside a repeat)",
            "warning",
        )


#: The most topic-not-captured issues one reference gets; the rest are counted.
MAX_TOPIC_ISSUES = 20
#: The longest hint a cross-document issue quotes.
MAX_HINT = 300


def clip(text: str | None, limit: int = MAX_HINT) -> str | None:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if text is None or len(text) <= limit:
        return text
    return f"{text[: limit - 40]}... ({len(text) - limit + 40:,} more characters)"
