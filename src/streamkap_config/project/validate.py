"""The project: every Streamkap file of a repository, and the checks across them.

Each document is validated alone first; the project view then checks what joins
the files (codes in the README): ``duplicate-name``, ``unknown-reference``,
``kind-mismatch`` of a reference, ``topic-not-captured``, ``transform-topic``,
``unresolved-variable`` (a ``${var:NAME}`` an environment does not define), and
``envelope`` for a reference whose ``connector`` differs from the document's.

The project root is ``--project DIR``, else the nearest directory upward (to the
git work tree root) that holds ``streamkap.toml`` (:mod:`.projectfile`), else
the nearest that holds ``streamkap-schemas.lock``, else the git work tree root,
else there is no project beyond the files given. Its files are those that
``files``/``exclude`` of ``streamkap.toml`` name, else those under a directory
named ``streamkap``, ``sources``, ``destinations``, ``transforms`` or
``pipelines``, and ``*.source.yaml`` (or ``destination``, ``transform``,
``pipeline``; ``.yml``, ``.json``, ``.toml``); of these, only the ones that hold
Streamkap documents (:func:`~.loaders.is_streamkap_shaped`) count: a Helm
chart, a Kubernetes manifest or a compose file in such a folder is left alone.
A directory holding its own ``streamkap.toml`` (or, in a project without one,
its own lock file), a Helm chart or a kustomization is not walked into.

With environments (``[environments.<name>]`` in ``streamkap.toml``), names are
unique per environment and a pipeline's references resolve within each
environment it belongs to.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..core.capture import captured_by
from ..core.errors import StreamkapConfigError
from ..core.issues import Collector, Issue
from ..core.kinds import PIPELINE
from ..core.paths import relative
from ..core.records import field, record
from ..loaders.common import real_path as _real
from ..schemas.lockfile import LOCK_FILE
from ..validation.pipelines import Reference, references
from .settings import PROJECT_FILE, ProjectFile, read_project_file

if TYPE_CHECKING:
    from ..core.document import Document
    from ..core.refs import Variables
    from ..loaders import Limits, LoadedFile
    from ..validation.report import FileReport
    from ..validation.validate import Mode, SchemaSource, ValidationResult

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


def project_root(paths: Sequence[str], explicit: str | None = None) -> Path | None:
    """The root of the project the first file given belongs to (see the module docstring)."""
    if explicit is not None:
        return Path(explicit)
    start = next((p for p in paths if p != "-"), None)
    here = Path(os.path.abspath(start if start is not None else os.getcwd()))
    if not here.is_dir():
        here = here.parent
    lock_root = None
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
        if lock_root is None and (folder / LOCK_FILE).is_file():
            lock_root = folder
        if (folder / ".git").exists():
            return lock_root or folder
    return lock_root


def project_file_of(root: str | os.PathLike[str] | None) -> ProjectFile | None:
    """The ``streamkap.toml`` of a project root, read and checked, if it has one."""
    if root is None:
        return None
    path = Path(root) / PROJECT_FILE
    return read_project_file(path) if path.is_file() else None


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


def project_files(
    root: Path,
    on_error: Callable[[str, str], None] | None = None,
    project_file: ProjectFile | None = None,
) -> list[str]:
    """Every candidate Streamkap file under ``root`` by its path, sorted; nested projects,
    Helm charts and kustomizations are left out (what the files hold is checked later).

    A folder that cannot be read (another user's database volume) or that is
    nested too deeply is skipped and passed to ``on_error(path, reason)``.
    """
    from ..loaders import keep_folder
    from ..loaders.common import walk

    if project_file is None and (root / PROJECT_FILE).is_file():
        project_file = read_project_file(root / PROJECT_FILE)
    markers = (PROJECT_FILE,) if project_file is not None else (PROJECT_FILE, LOCK_FILE)

    def keep(folder: str, name: str) -> bool:
        if not keep_folder(folder, name):
            return False
        below = os.path.join(folder, name)
        return not any(os.path.isfile(os.path.join(below, m)) for m in markers)

    found = []
    for path in walk(str(root), on_error or (lambda path, reason: None), keep):
        name = os.path.basename(path)
        if name.startswith(".") or name == PROJECT_FILE:
            continue
        held = project_file.holds(path) if project_file is not None else None
        by_files = held and os.path.splitext(name)[1].lower() in _EXTENSIONS
        if by_files or (held is None and is_streamkap_file(Path(path), root)):
            found.append(path)
    return sorted(found)


@record
class ProjectResult:
    """What a project run found: a report per file given, and every file of the project."""

    reports: list[FileReport]
    project: list[FileReport] = field(default_factory=list)
    root: Path | None = None
    # Folders of the project (outside the files given) that could not be read, files
    # of another environment than the one asked for.
    warnings: list[str] = field(default_factory=list)
    project_file: ProjectFile | None = None
    environment: str | None = None  # the one asked for (None: every one)

    @property
    def variables(self) -> Variables | None:
        """The ``${var:NAME}`` values of the environment asked for, if one was."""
        if self.project_file is None or self.environment is None:
            return None
        return self.project_file.environment(self.environment).variables

    def environments_of(self, path: str) -> tuple[str, ...]:
        """The environments a file of the project belongs to (``("",)`` without any)."""
        return _environments(self.project_file, path)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for r in self.reports for i in r.all_issues())

    @property
    def issues(self) -> list[Issue]:
        return [i for r in self.reports for i in r.all_issues()]

    def find(self, kind: str, name: str) -> ValidationResult | None:
        """The result of the project's document of ``kind`` named ``name``, if any (in the
        environment asked for, when there is one)."""
        for report in self.project:
            envs = self.environments_of(report.path)
            if self.environment is not None and self.environment not in envs:
                continue
            for doc, result in report.documents:
                if result.kind == kind and doc.name == name:
                    return result
        return None


def _environments(project_file: ProjectFile | None, path: str) -> tuple[str, ...]:
    if project_file is None or not project_file.environments:
        return ("",)
    return project_file.environments_of(path)


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
    environment: str | None = None,
    named: Iterable[str] | None = None,
    project_file: ProjectFile | None = None,
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
    (:mod:`streamkap_config.core.parallel`): the same results, in less time for
    many files.

    A file that holds no Streamkap document (a Helm chart's, a Kubernetes
    manifest, a compose file) is left out silently, unless it is one of
    ``named`` (default: every file of ``report_for``, as given by name rather
    than found in a directory): then it gets a ``not-streamkap`` warning.
    ``project_file`` (default: the ``streamkap.toml`` of ``root``, if any) gives
    the environments; ``environment`` keeps only the files of that one (a named
    file of another gets a warning) and checks its ``${var:NAME}`` references.
    """
    from ..core.errors import LoadError
    from ..core.parallel import forked_map
    from ..loaders import DEFAULT_LIMITS, LoadedFile, is_streamkap_shaped, load_file
    from ..validation.report import FileReport
    from ..validation.validate import validate_document

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
        given = path is None or _real(path) in wanted
        for doc in loaded.documents:
            result = validate_document(
                doc,
                mode=mode,
                strict=strict,
                schemas=source,
                connector=connector if given else None,
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
    explicit = wanted if named is None else {_real(p) for p in named}
    skipped: list[str] = []

    def skip(path: str, reason: str) -> None:
        skipped.append(f"skipped {relative(path)}: {reason}")

    if project_file is None:
        project_file = project_file_of(root)
    if environment is not None:
        if project_file is None:
            raise StreamkapConfigError(
                f"--env {environment}: there is no {PROJECT_FILE} declaring environments"
                + (f" at the project root {relative(str(root))}" if root is not None else "")
            )
        project_file.environment(environment)  # an unknown one is an error, with the known
    # Paths as messages show them: relative to the current directory when below it.
    in_root = (
        [relative(p) for p in project_files(Path(root), skip, project_file)]
        if root is not None
        else []
    )
    context: list[_Entry] = []  # documents of files read only for the checks across files
    foreign = _ForeignFolders(Path(root) if root is not None else None)

    def not_ours(path: str, why: str, chart: bool = False) -> FileReport:
        hint = (
            "a Helm chart's or a kustomization's files are never Streamkap's"
            if chart
            else "a Streamkap document has a name, a connector (or transform) and a config; "
            "a bare config needs --connector"
        )
        text = f"not a Streamkap file ({why}): not checked"
        return FileReport(path, [Issue("not-streamkap", "warning", text, hint=hint)])

    def read(path: str) -> FileReport | LoadedFile | None:
        real = _real(path)
        chart = foreign.marker(path)
        if chart is not None:
            if real not in explicit:
                return None
            return not_ours(path, f"part of the chart at {relative(chart)}", chart=True)
        envs = _environments(project_file, path)
        if environment is not None and environment not in envs:
            if real not in explicit:
                return None
            issue = Issue(
                "not-streamkap",
                "warning",
                f"belongs to environment {', '.join(envs)}, not {environment}: not checked",
            )
            return FileReport(path, [issue])
        try:
            # --connector and --kind speak of the files given, not of the rest of the project.
            given = real in wanted
            loaded = load_file(
                path,
                limits=limits or DEFAULT_LIMITS,
                connector=connector if given else None,
                kind=kind if given else None,
            )
        except LoadError as exc:
            if real not in wanted:
                return None
            issue = Issue("parse-error", "error", f"cannot read the file: {exc.reason}")
            return FileReport(path, [issue], unreadable=True)
        said = given and (kind is not None or connector is not None)  # --kind, --connector
        if loaded.documents and not said and not is_streamkap_shaped(loaded):
            if real in explicit:
                return not_ours(path, "it holds no source, destination, transform or pipeline")
            return None
        walked = real in wanted and real not in explicit
        if not loaded.documents and walked:
            base = Path(root) if root is not None else Path(path).parent
            if not is_streamkap_file(Path(path), base):
                return None  # found in a directory walk, does not parse, not in a Streamkap folder
        if validate_all or real in wanted:
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
    check_project(reports, context, project_file, environment)
    shown = [r for r in reports if _real(r.path) in wanted]
    validated_later = {id(e.report): e.report for e in context if e.report.documents}
    built = [*reports, *validated_later.values()]  # a file's entries share its report
    return ProjectResult(
        shown,
        built,
        Path(root) if root is not None else None,
        skipped,
        project_file,
        environment,
    )


class _ForeignFolders:
    """Finds the Helm chart (or kustomization) a file sits in, below the project root."""

    def __init__(self, root: Path | None) -> None:
        self.root = os.path.abspath(root) if root is not None else None
        self._seen: dict[str, str | None] = {}

    def marker(self, path: str) -> str | None:
        from ..loaders import FOREIGN_MARKERS

        folder = os.path.dirname(os.path.abspath(path))
        passed: list[str] = []
        found: str | None = None
        while True:
            if folder in self._seen:
                found = self._seen[folder]
                break
            passed.append(folder)
            if any(os.path.isfile(os.path.join(folder, m)) for m in FOREIGN_MARKERS):
                found = folder
                break
            parent = os.path.dirname(folder)
            if folder == self.root or parent == folder or self.root is None:
                break
            folder = parent
        for each in passed:
            self._seen[each] = found
        return found


def _notices(used: dict[int, tuple[str, Any]]) -> list[tuple[str, list[str]]]:
    """The notices of each schema source asked (a forked worker sends them back)."""
    return [(path, list(getattr(source, "notices", ()))) for path, source in used.values()]


def _in_memory(item: Any) -> FileReport:
    from ..core.document import Document
    from ..validation.report import FileReport
    from ..validation.validate import validate_document

    doc = item if isinstance(item, Document) else Document(data=item)
    path = doc.path or f"<document {id(doc):x}>"
    report = FileReport(path)
    report.documents.append((doc, validate_document(doc)))
    return report


# --- the checks across documents ---------------------------------------------------------


class _Entry:
    """A document in the project, with its result (made when first asked for, if lazy)."""

    __slots__ = ("_result", "_validate", "doc", "envs", "index", "kind", "report")

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
        self.envs: tuple[str, ...] = ("",)  # the environments it belongs to

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


def check_project(
    reports: Sequence[FileReport],
    context: Sequence[_Entry] = (),
    project_file: ProjectFile | None = None,
    environment: str | None = None,
) -> None:
    """Add the cross-document issues to the results of ``reports`` (in place).

    ``context`` holds documents that are checked against but not reported on.
    With ``project_file``, names are unique and references resolve per
    environment, and ``${var:NAME}`` references are checked against each
    environment a document belongs to (only ``environment``, when given).
    """
    entries = [
        _Entry(report, n, doc, result)
        for report in reports
        for n, (doc, result) in enumerate(report.documents)
    ]
    by_name: dict[tuple[str, str], list[_Entry]] = {}
    for entry in [*entries, *context]:
        entry.envs = _environments(project_file, entry.report.path)
        if environment is not None:
            entry.envs = tuple(e for e in entry.envs if e == environment)
        if entry.doc.name is not None:
            by_name.setdefault((entry.kind, entry.doc.name), []).append(entry)
    found: dict[int, list[Issue]] = {}
    declared = project_file is not None and bool(project_file.environments)

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
            other = next((e for e in ordered if e is not entry and _shared(e, entry)), None)
            if other is None:
                continue  # same name, other environments: two accounts
            shared = _shared(other, entry)
            where = f" in environment {shared[0]}" if declared else ""
            hint = (
                f"{kind} names are unique per environment: rename one, or put each under "
                "its own environment's paths in streamkap.toml"
                if declared
                else f"{kind} names are unique per account: rename one; if these are two "
                "environments, declare them in streamkap.toml (README: Projects and "
                "environments)"
            )
            add(
                entry,
                "duplicate-name",
                ("name",),
                f'another {kind} is also named "{name}"{where} ({other.where()})',
                hint,
            )
    for entry in entries:
        if entry.kind == PIPELINE and isinstance(entry.doc.data, dict):
            _check_pipeline(entry, by_name, add, declared)
        _check_variables(entry, project_file, add)
    for entry in entries:
        extra = found.get(id(entry))
        if extra:
            entry.report.documents[entry.index] = (entry.doc, entry.result.with_issues(extra))


def _shared(one: _Entry, other: _Entry) -> tuple[str, ...]:
    return tuple(e for e in one.envs if e in other.envs)


def _holds_variable(value: Any) -> bool:
    """Whether any string in ``value`` (at any depth) holds ``${var:``."""
    stack = [value]  # a loop, not a recursion through any(): every document passes here
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "${var:" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _check_variables(
    entry: _Entry, project_file: ProjectFile | None, add: Callable[..., None]
) -> None:
    """Every ``${var:NAME}`` of a document is defined in each environment it belongs to."""
    from ..core.refs import variable_names

    if not _holds_variable(entry.doc.data):
        return  # most documents: one cheap walk, no paths built
    envs = [e for e in entry.envs if e]
    stack: list[tuple[tuple[str, ...], Any]] = [((), entry.doc.data)]
    while stack:
        tokens, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*tokens, str(k)), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*tokens, str(n)), v) for n, v in enumerate(value))
        elif isinstance(value, str) and "${var:" in value:
            for name in dict.fromkeys(variable_names(value)):
                if project_file is None or not envs:
                    add(
                        entry,
                        "unresolved-variable",
                        tokens,
                        f"variable {name} has no value: no environment declares variables",
                        f"declare [environments.<name>.variables] in {PROJECT_FILE}",
                    )
                    continue
                lacking = [e for e in envs if name not in project_file.environment(e).variables]
                if lacking:
                    add(
                        entry,
                        "unresolved-variable",
                        tokens,
                        f"variable {name} is not defined for environment {', '.join(lacking)}",
                        f"add {name} under [environments.{lacking[0]}.variables] in {PROJECT_FILE}",
                    )


def _check_pipeline(
    entry: _Entry,
    by_name: dict[tuple[str, str], list[_Entry]],
    add: Callable[..., None],
    declared: bool = False,
) -> None:
    refs = references(entry.doc.data)
    carried: tuple[str, ...] = ()
    for ref in refs:
        targets = _resolve(entry, ref, by_name, add, declared)
        if ref.kind == "source":
            carried = ref.topics
            for target in targets:
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
    declared: bool = False,
) -> list[_Entry]:
    """The documents a reference names: one per environment of the pipeline (distinct)."""
    if ref.name is None:
        return []
    candidates = by_name.get((ref.kind, ref.name), [])
    chosen: list[_Entry] = []
    lacking: list[str] = []
    for env in entry.envs:
        target = next((t for t in candidates if env in t.envs), None)
        if target is None:
            lacking.append(env)
        elif all(target is not c for c in chosen):
            chosen.append(target)
    for target in chosen:
        actual = target.result.connector
        if ref.connector is not None and actual is not None and ref.connector != actual:
            add(
                entry,
                "envelope",
                (*ref.tokens, "connector"),
                f'{ref.kind} "{ref.name}" uses connector "{actual}", not "{ref.connector}"',
                f"write connector: {actual}, or leave it out",
            )
    if not lacking or ref.id is not None:
        return chosen  # a reference with an id may name what the project does not hold
    where = f" in environment {', '.join(lacking)}" if declared else " in the project"
    others = [k for (k, n) in by_name if n == ref.name and k != ref.kind]
    if others and not candidates:
        add(
            entry,
            "kind-mismatch",
            (*ref.tokens, "name"),
            f'"{ref.name}" is a {others[0]}, not a {ref.kind}',
            f"name a {ref.kind} here",
        )
    else:
        names = sorted(n for (k, n) in by_name if k == ref.kind)
        import difflib  # only for a name not found

        near = difflib.get_close_matches(ref.name, names, n=3, cutoff=0.5)
        near = [n for n in near if n != ref.name]
        hint = (
            f"did you mean {', '.join(near)}?"
            if near
            else (f"add the {ref.kind} to the project, or give its id:")
        )
        add(
            entry,
            "unknown-reference",
            (*ref.tokens, "name"),
            f'no {ref.kind} named "{ref.name}"{where}',
            hint,
        )
    return chosen


def _check_topics(
    entry: _Entry,
    ref: Reference,
    target: _Entry,
    add: Callable[..., None],
) -> None:
    # Also when the source has errors elsewhere: every problem at once, as long as the
    # include list itself could be read.
    config = target.result.readable_config
    if config is None or target.result.connector is None:
        return
    captured = captured_by(target.result.connector, config)
    if captured is None:
        return
    include, prefix = captured
    # The key as the source's file spells it (table.include.list), not the API's name.
    written = target.result._where.get(include.key)
    spelled = ".".join(written[1:]) if written and written[0] == "config" else include.key
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
                f"{note}{spelled} is {', '.join(include.entries)}",
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
            f"{spelled} has a pattern that backtracks without end",
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
