"""What the commands share: exit codes, output streams, schema caches per lock file."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.errors import LoadError

if TYPE_CHECKING:
    from pathlib import Path

    from ..loaders import Limits, LoadedFile
    from ..project.settings import ProjectFile
    from ..schemas.cache import SchemaCache
    from ..validation.report import FileReport

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_SCHEMA = 0, 1, 2, 3
KIND_CHOICES = ("source", "destination", "transform")
DOCUMENT_KINDS = (*KIND_CHOICES, "pipeline")  # what --kind of validate and payload take


def err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


#: --color as given (main sets it once the arguments are read): auto, always or never.
COLOR = {"mode": "auto"}


def use_color(stream: Any) -> bool:
    """Colour on ``stream``: ``--color always``/``never``, else on a terminal unless
    ``NO_COLOR`` is set or the terminal is dumb."""
    mode = COLOR["mode"]
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class SchemaSources:
    """One SchemaCache per lock file in effect."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.cache_dir = getattr(args, "cache_dir", None)
        self.api_url = getattr(args, "api_url", None)
        self.lock_arg = getattr(args, "lock", None)
        self._by_lock: dict[str, SchemaCache] = {}
        self._lock_of_dir: dict[str, str | None] = {}

    def for_path(self, path: str | None) -> SchemaCache:
        from ..schemas.cache import SchemaCache, find_lock

        lock = self.lock_arg
        if lock is None and path is not None:
            # One look-up per directory: a run over many files in one tree searches once
            # (keyed by the name as given, so that a file costs no system call here).
            key = os.path.dirname(path)
            if key not in self._lock_of_dir:
                folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
                found = find_lock(folder)
                self._lock_of_dir[key] = str(found) if found else None
            lock = self._lock_of_dir[key]
        key = lock or ""
        cache = self._by_lock.get(key)
        if cache is None:
            cache = SchemaCache(self.cache_dir, lock=lock, api_url=self.api_url)
            self._by_lock[key] = cache
        return cache

    def notices(self) -> list[str]:
        seen: list[str] = []
        for cache in self._by_lock.values():
            seen.extend(n for n in cache.notices if n not in seen)
        return seen


def read_limits(args: argparse.Namespace) -> Limits:
    from ..loaders import Limits

    kwargs = {}
    if args.max_bytes is not None:
        kwargs["max_bytes"] = args.max_bytes
    if args.max_depth is not None:
        kwargs["max_depth"] = args.max_depth
    return Limits(**kwargs)


def load_one(
    path: str, limits: Limits | None, connector: str | None, kind: str | None
) -> LoadedFile:
    """A file, or standard input for ``-`` (JSON when it starts with { or [, else YAML)."""
    from ..loaders import Limits, load_file, load_text

    limits = limits or Limits()
    if path != "-":
        return load_file(path, limits=limits, connector=connector, kind=kind)
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise LoadError("<stdin>", f"input is over the limit of {limits.max_bytes:,} bytes")
    fmt = "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"
    return load_text(data, "<stdin>", limits=limits, connector=connector, fmt=fmt, kind=kind)


def unreadable_report(path: str, exc: LoadError) -> FileReport:
    from ..core.issues import Issue
    from ..validation.report import FileReport

    issue = Issue("parse-error", "error", f"cannot read the file: {exc.reason}")
    return FileReport(path, [issue], unreadable=True)


def render(reports: Sequence[FileReport], args: argparse.Namespace, stream: Any) -> None:
    from ..validation.report import render_github, render_json, render_text

    if args.format == "json":
        stream.write(render_json(reports))
    elif args.format == "github":
        stream.write(render_github(reports))
    elif args.format == "sarif":
        from ..validation.report import render_sarif

        stream.write(render_sarif(reports))
    elif args.format == "junit":
        from ..validation.report import render_junit

        stream.write(render_junit(reports))
    else:
        quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
        stream.write(render_text(reports, color=use_color(stream), quiet=quiet, verbose=verbose))


def exit_code(reports: Sequence[FileReport]) -> int:
    if any(r.unreadable for r in reports):
        return EXIT_USAGE
    issues = [i for r in reports for i in r.all_issues()]
    if any(i.code == "schema-unavailable" for i in issues):
        return EXIT_SCHEMA
    if any(i.severity == "error" for i in issues):
        return EXIT_INVALID
    return EXIT_OK


def report_stream(args: argparse.Namespace) -> Any:
    # Text is for people (stderr, beside a body on stdout); json and github are for tools.
    return sys.stderr if args.format == "text" else sys.stdout


def names_of(loaded: LoadedFile) -> str:
    names = [d.name or f"#{n + 1} (no name)" for n, d in enumerate(loaded.documents)]
    return "documents: " + ", ".join(names) if names else "no documents"


def by_project(files: Sequence[str], explicit: str | None) -> list[tuple[Path | None, list[str]]]:
    """The files grouped by the project each belongs to (one group with ``--project``),
    in the order first met: a commit touching two environments checks each in its own."""
    from ..project.validate import project_root

    if explicit is not None:
        return [(project_root([], explicit), list(files))]
    groups: dict[Path | None, list[str]] = {}
    root_of_dir: dict[str, Path | None] = {}
    for path in files:
        folder = os.path.dirname(path) if path != "-" else ""
        if folder not in root_of_dir:
            root_of_dir[folder] = project_root([path] if path != "-" else [])
        groups.setdefault(root_of_dir[folder], []).append(path)
    return list(groups.items()) or [(project_root([]), [])]


def environment_of(
    args: argparse.Namespace,
    project_file: ProjectFile | None,
    files: Sequence[str],
    required: bool,
) -> str | None:
    """The environment a run is for: ``--env``, else ``$STREAMKAP_ENV`` (where the project
    declares environments). With ``required`` (payload, plan, apply), else the only one
    declared, else the one every file given belongs to alone; none of these is an error."""
    given = getattr(args, "env", None)
    declared = project_file is not None and bool(project_file.environments)
    if given is not None:
        return str(given)
    from_env = os.environ.get("STREAMKAP_ENV") or None
    if from_env is not None and declared:
        return from_env
    if not required or not declared:
        return None
    assert project_file is not None
    names = sorted(project_file.environments)
    if len(names) == 1:
        return names[0]
    own = {project_file.environments_of(f) for f in files if f != "-"}
    if len(own) == 1:
        (envs,) = own
        if len(envs) == 1:
            return envs[0]
    from ..core.errors import StreamkapConfigError

    raise StreamkapConfigError(
        f"{project_file.path.name} declares environments {', '.join(names)}: pick one with "
        "--env NAME (or STREAMKAP_ENV)"
    )


def parse_duration(text: str) -> float:
    """``10m``, ``90s``, ``1h`` or plain seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 10m)") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"a duration must be positive, got {text!r}")
    return seconds
