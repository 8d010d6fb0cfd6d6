"""``streamkap.toml``: the file that marks a project's root and says what it holds.

Every key is optional; an empty file only marks the root::

    # Which files are Streamkap's (globs relative to this folder). Default: files
    # under a streamkap/, sources/, destinations/, transforms/ or pipelines/
    # folder, and *.source.yaml (or destination, transform, pipeline).
    files = ["config/**/*.yaml"]
    exclude = ["config/experiments/**"]

    [environments.prod]
    paths = ["envs/prod"]          # documents of this environment only (optional)
    api_url = "https://api.streamkap.com"
    token_env = "PROD_STREAMKAP_TOKEN"     # the variables holding its credentials
    client_id_env = "PROD_STREAMKAP_CLIENT_ID"
    secret_env = "PROD_STREAMKAP_SECRET"

    [environments.prod.variables]   # what ${var:NAME} gives in this environment
    pg_host = "db.prod.internal"

    # What ``plan --prune`` may delete: live objects no document describes, and only
    # those this project owns. Every key given must hold (without a [prune] table,
    # --prune refuses). An environment's own [environments.<name>.prune] replaces it.
    [prune]
    prefix = "orders-"               # names that start with this
    tag = "670e5ca40afe1d3983ce0c22" # objects that carry this tag id
    kinds = ["pipeline", "transform"]  # of these kinds (default: every kind)

A document under an environment's ``paths`` belongs to that environment only;
every other document belongs to every environment (one set of files with
per-environment variables). Names are unique per environment: two documents
may share a name when no environment holds both.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "streamkap.toml").write_text(
...     '[environments.prod]\\npaths = ["envs/prod"]\\n[environments.prod.variables]\\nx = 1\\n'
...     '[environments.dev.variables]\\nx = 2\\n')
>>> project = read_project_file(folder / "streamkap.toml")
>>> project.environments_of(folder / "envs/prod/s.yaml"), project.environments_of(folder / "a.yaml")
(('prod',), ('dev', 'prod'))
>>> project.environment("prod").variables("x")
'1'
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..core.errors import StreamkapConfigError
from ..core.records import field, record
from ..core.refs import Variables

__all__ = [
    "PROJECT_FILE",
    "Environment",
    "Ownership",
    "ProjectFile",
    "ProjectFileError",
    "find_project_file",
    "glob_pattern",
    "read_project_file",
]

PROJECT_FILE = "streamkap.toml"

_TOP = ("files", "exclude", "environments", "prune")
_ENVIRONMENT = (
    "paths",
    "api_url",
    "token_env",
    "client_id_env",
    "secret_env",
    "variables",
    "prune",
)
_PRUNE = ("prefix", "tag", "kinds")
_KINDS = ("source", "destination", "transform", "pipeline")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_EMPTY = ("the file is empty", "the file holds no document")
_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")


class ProjectFileError(StreamkapConfigError):
    """``streamkap.toml`` cannot be used: every problem, each with its line and column."""

    def __init__(self, path: str, problems: Iterable[str]) -> None:
        self.path = path
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{path} is not a valid project file:\n{lines}")


@record(frozen=True)
class Ownership:
    """What a project owns in its account, so that ``--prune`` may delete it: every
    criterion given must hold (a name prefix, a tag id, the kinds)."""

    prefix: str | None = None
    tag: str | None = None
    kinds: tuple[str, ...] = _KINDS

    def owns(self, kind: str, name: str, tags: Iterable[str] = ()) -> bool:
        """Whether a live object of ``kind`` named ``name`` carrying ``tags`` is this
        project's.

        >>> Ownership(prefix="orders-").owns("source", "orders-pg"), Ownership(
        ...     prefix="orders-").owns("source", "billing-pg")
        (True, False)
        >>> Ownership(tag="t1", kinds=("pipeline",)).owns("pipeline", "p", ["t1"])
        True
        >>> Ownership(tag="t1", kinds=("pipeline",)).owns("source", "p", ["t1"])
        False
        """
        if kind not in self.kinds:
            return False
        if self.prefix is not None and not name.startswith(self.prefix):
            return False
        return self.tag is None or self.tag in tags

    def describe(self) -> str:
        """In words, for messages: ``pipelines and transforms named orders-*``."""
        kinds = " and ".join(f"{k}s" for k in self.kinds) if self.kinds != _KINDS else "objects"
        named = f" named {self.prefix}*" if self.prefix is not None else ""
        tagged = f" tagged {self.tag}" if self.tag is not None else ""
        return f"{kinds}{named}{tagged}"


@record(frozen=True)
class Environment:
    """One environment: its account, its documents' folders and its variables."""

    name: str
    paths: tuple[str, ...] = ()
    api_url: str | None = None
    token_env: str = "STREAMKAP_TOKEN"
    client_id_env: str = "STREAMKAP_CLIENT_ID"
    secret_env: str = "STREAMKAP_SECRET"
    variables: Variables = field(default_factory=lambda: Variables({}), compare=False)
    prune: Ownership | None = None  # its own [prune] table, if it has one

    def credentials(self, environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
        """The ``token``, ``client_id`` and ``secret`` of its account, from ``environ``."""
        env = os.environ if environ is None else environ
        return {
            "token": env.get(self.token_env) or None,
            "client_id": env.get(self.client_id_env) or None,
            "secret": env.get(self.secret_env) or None,
        }


@record(frozen=True)
class ProjectFile:
    """What ``streamkap.toml`` says (see the module docstring)."""

    path: Path
    files: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    environments: Mapping[str, Environment] = field(default_factory=dict)
    prune: Ownership | None = None

    @property
    def root(self) -> Path:
        return self.path.parent

    def ownership(self, environment: str | None = None) -> Ownership | None:
        """What ``--prune`` may delete in ``environment`` (its own ``[prune]`` table, else
        the project's); None when nothing says so."""
        if environment is not None:
            own = self.environment(environment).prune
            if own is not None:
                return own
        return self.prune

    def _relative(self, path: str | os.PathLike[str]) -> str | None:
        full = os.path.abspath(os.fspath(path))
        root = os.path.abspath(self.root)
        if full == root or not full.startswith(root.rstrip(os.sep) + os.sep):
            return None
        return Path(os.path.relpath(full, root)).as_posix()

    def holds(self, path: str | os.PathLike[str]) -> bool | None:
        """Whether ``files``/``exclude`` take ``path``: None when ``files`` is not set (the
        folder rule decides), False for a file outside the root or excluded."""
        rel = self._relative(path)
        if rel is None:
            return False
        if any(glob_pattern(g).match(rel) for g in self.exclude):
            return False
        if self.files is None:
            return None
        return any(glob_pattern(g).match(rel) for g in self.files)

    def environments_of(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        """The environments a file's documents belong to (sorted; all when shared)."""
        rel = self._relative(path)
        if rel is not None:
            own = [e.name for e in self.environments.values() if _under(rel, e.paths)]
            if own:
                return tuple(sorted(own))
        return tuple(sorted(self.environments))

    def environment(self, name: str) -> Environment:
        """The environment ``name``, or an error naming the ones there are."""
        found = self.environments.get(name)
        if found is not None:
            return found
        from ..core.hints import near_value

        known = ", ".join(sorted(self.environments)) or "none"
        near = near_value(name, self.environments)
        hint = f' (did you mean "{near}"?)' if near else ""
        raise StreamkapConfigError(
            f"no environment {name!r} in {self.path.name}{hint}; it declares: {known}"
        )


def _under(rel: str, paths: Iterable[str]) -> bool:
    for given in paths:
        folder = given.strip("/")
        if folder in ("", ".") or rel.startswith(folder + "/") or glob_pattern(given).match(rel):
            return True
    return False


_GLOBS: dict[str, re.Pattern[str]] = {}


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A path glob as a regular expression over ``/``-separated relative paths.

    ``*`` and ``?`` stay within one folder, ``**`` spans any number of them
    (``**/`` also none), ``[abc]`` is a class.

    >>> paths = ("envs/a.yaml", "envs/p/q/b.yaml", "x/envs/a.yaml")
    >>> [bool(glob_pattern("envs/**/*.yaml").match(p)) for p in paths]
    [True, True, False]
    >>> bool(glob_pattern("*.yaml").match("sub/a.yaml"))
    False
    """
    found = _GLOBS.get(glob)
    if found is not None:
        return found
    out, i, text = [], 0, glob.strip("/")
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] == "*":
            out.append("[^/]*")
            i += 1
        elif text[i] == "?":
            out.append("[^/]")
            i += 1
        elif text[i] == "[" and "]" in text[i + 2 :]:
            end = text.index("]", i + 2)
            body = text[i + 1 : end]
            out.append(
                "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"
            )
            i = end + 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    found = re.compile("".join(out) + r"\Z")
    _GLOBS[glob] = found
    return found


def find_project_file(start: str | os.PathLike[str]) -> Path | None:
    """The nearest ``streamkap.toml`` in ``start`` (a folder) or above it."""
    here = Path(os.path.abspath(start))
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def read_project_file(path: str | os.PathLike[str]) -> ProjectFile:
    """Read and check ``streamkap.toml``; raises :class:`ProjectFileError` with every problem."""
    from ..core.errors import LoadError
    from ..loaders import load_file

    name = os.fspath(path)
    shown = _shown(name)
    try:
        loaded = load_file(name, kind="source")
    except LoadError as exc:
        raise ProjectFileError(shown, [exc.reason]) from None
    parse = [i for i in loaded.issues if i.severity == "error"]
    if not loaded.documents and all(i.message in _EMPTY for i in parse):
        return ProjectFile(Path(os.path.abspath(name)))  # it only marks the root
    if parse or not loaded.documents:
        raise ProjectFileError(shown, [f"{shown}:{i.line}:{i.column}: {i.message}" for i in parse])
    doc = loaded.documents[0]
    problems: list[str] = []

    def problem(tokens: tuple[str, ...], text: str, at_key: bool = True) -> None:
        where = None
        if doc.positions is not None:
            where = doc.positions.of_key(tokens) if at_key else doc.positions.of_value(tokens)
        line, column = where or (1, 1)
        problems.append(f"{shown}:{line}:{column}: {text}")

    data = doc.data if isinstance(doc.data, dict) else {}
    _unknown(data, _TOP, (), problem)
    files = _globs(data, "files", problem)
    exclude = _globs(data, "exclude", problem) or ()
    environments: dict[str, Environment] = {}
    table = data.get("environments", {})
    if not isinstance(table, dict):
        problem(("environments",), "environments: expected a table of environments")
        table = {}
    for env_name, settings in table.items():
        tokens = ("environments", env_name)
        if not _ENV_NAME.match(env_name):
            problem(tokens, f"environment name {env_name!r}: letters, digits, '_', '.', '-'")
            continue
        if not isinstance(settings, dict):
            problem(tokens, f"environments.{env_name}: expected a table")
            continue
        environments[env_name] = _environment(env_name, settings, tokens, problem)
    prune = _prune(data, (), problem)
    if problems:
        raise ProjectFileError(shown, problems)
    return ProjectFile(Path(os.path.abspath(name)), files, exclude, environments, prune)


def _prune(data: dict[str, Any], tokens: tuple[str, ...], problem: Any) -> Ownership | None:
    """A ``[prune]`` table: what the project owns (None when there is no table)."""
    if "prune" not in data:
        return None
    where = (*tokens, "prune")
    table = data["prune"]
    if not isinstance(table, dict):
        problem(where, "prune: expected a table with prefix, tag or kinds")
        return None
    _unknown(table, _PRUNE, where, problem)
    if not any(key in table for key in _PRUNE):
        problem(
            where,
            "prune: say what this project owns (prefix, tag or kinds): an empty table "
            "would let --prune delete every object of the account",
        )
        return None
    kwargs: dict[str, Any] = {}
    for key in ("prefix", "tag"):
        if key in table:
            value = table[key]
            if not isinstance(value, str) or not value.strip():
                problem((*where, key), f"prune.{key}: expected a non-empty string", at_key=False)
            else:
                kwargs[key] = value
    if "kinds" in table:
        kinds = table["kinds"]
        if isinstance(kinds, str):
            kinds = [kinds]
        if not isinstance(kinds, list) or not kinds:
            problem((*where, "kinds"), "prune.kinds: expected a list of kinds", at_key=False)
        else:
            bad = [k for k in kinds if k not in _KINDS]
            for k in bad:
                problem(
                    (*where, "kinds"),
                    f"prune.kinds: {k!r} is not a kind ({', '.join(_KINDS)})",
                    at_key=False,
                )
            if not bad:
                kwargs["kinds"] = tuple(k for k in _KINDS if k in kinds)
    return Ownership(**kwargs)


def _environment(
    name: str, settings: dict[str, Any], tokens: tuple[str, ...], problem: Any
) -> Environment:
    _unknown(settings, _ENVIRONMENT, tokens, problem)
    kwargs: dict[str, Any] = {}
    for key in ("api_url", "token_env", "client_id_env", "secret_env"):
        if key not in settings:
            continue
        value = settings[key]
        if not isinstance(value, str) or not value:
            problem((*tokens, key), f"{key}: expected a non-empty string", at_key=False)
        elif key != "api_url" and not _NAME.match(value):
            problem((*tokens, key), f"{key}: {value!r} is not a variable name", at_key=False)
        elif key == "api_url" and not value.startswith(("https://", "http://")):
            problem(
                (*tokens, key), f"api_url: expected an http(s) URL, got {value!r}", at_key=False
            )
        else:
            kwargs[key] = value
    paths = _globs(settings, "paths", problem, tokens)
    values: dict[str, Any] = {}
    variables = settings.get("variables", {})
    if not isinstance(variables, dict):
        problem((*tokens, "variables"), "variables: expected a table of NAME = value")
        variables = {}
    for key, value in variables.items():
        where = (*tokens, "variables", key)
        if not _NAME.match(key):
            problem(where, f"variable name {key!r}: letters, digits and '_', not first a digit")
        elif isinstance(value, (dict, list)) or value is None:
            problem(where, f"variable {key}: expected a string, number or boolean", at_key=False)
        else:
            values[key] = value
    prune = _prune(settings, tokens, problem)
    return Environment(name, paths or (), variables=Variables(values, name), prune=prune, **kwargs)


def _globs(
    data: dict[str, Any], key: str, problem: Any, tokens: tuple[str, ...] = ()
) -> tuple[str, ...] | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problem((*tokens, key), f"{key}: expected a list of path globs", at_key=False)
        return None
    bad = [v for v in value if v.startswith("/") or ".." in Path(v).parts]
    for v in bad:
        problem(
            (*tokens, key), f"{key}: {v!r} must be relative to the project, inside it", at_key=False
        )
    return tuple(v for v in value if v not in bad)


def _unknown(
    data: dict[str, Any], allowed: tuple[str, ...], tokens: tuple[str, ...], problem: Any
) -> None:
    from ..core.hints import near_value

    for key in data:
        if key in allowed:
            continue
        near = near_value(str(key), allowed)
        hint = f'did you mean "{near}"?' if near else f"it holds {', '.join(allowed)}"
        where = ".".join((*tokens, str(key)))
        problem((*tokens, key), f"unknown key {where!r}: {hint}")


def _shown(path: str) -> str:
    from ..core.paths import relative

    return relative(path)
