"""``validate`` and ``payload``: documents checked alone and as a project."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import LoadError

if TYPE_CHECKING:
    from ..validation.report import FileReport

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    SchemaSources,
    by_project,
    environment_of,
    err,
    exit_code,
    load_one,
    names_of,
    read_limits,
    render,
    report_stream,
    unreadable_report,
)


def run_validate(args: argparse.Namespace) -> int:
    from ..core.parallel import default_jobs
    from ..loaders import iter_files
    from ..project.validate import project_file_of, validate_project

    try:
        limits = read_limits(args)
    except ValueError as exc:
        err(f"error: {str(exc).replace('max_', '--max-').replace('_', '-')}")
        return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        err(f"error: --jobs must be at least 1, got {args.jobs}")
        return EXIT_USAGE
    schemas = SchemaSources(args)
    reports: list[FileReport] = []

    def unreadable_directory(path: str, reason: str) -> None:
        reports.append(unreadable_report(path, LoadError(path, reason)))

    files = list(iter_files(args.paths, on_error=unreadable_directory))
    if not files:
        err("warning: no YAML, JSON or TOML files found in " + ", ".join(args.paths))
    items: list[Any] = []
    for path in files:
        if path != "-":
            items.append(path)
            continue
        try:
            items.append(load_one(path, limits, args.connector, args.kind))
        except LoadError as exc:
            reports.append(unreadable_report(path, exc))
    named_files = set(files)  # a path given and found as it is names a file, not a folder
    dirs = [p for p in args.paths if p != "-" and p not in named_files and os.path.isdir(p)]
    # Without a directory every file was named (None: no second set of real paths).
    named = [p for p in args.paths if p != "-" and p not in dirs] if dirs else None
    given = [p for p in files if p != "-"]
    if args.no_project:
        groups: list[tuple[Path | None, list[str]]] = [(None, given)]
    else:
        groups = by_project(given, args.project)
    warnings: list[str] = []
    stdin = [item for item in items if not isinstance(item, str)]  # read with the first
    for n, (root, group) in enumerate(groups):
        project_file = project_file_of(root)
        result = validate_project(
            [*group, *(stdin if n == 0 else [])],
            report_for=group,
            root=root,
            limits=limits,
            mode=args.mode,
            strict=args.strict,
            schemas=lambda path: schemas.for_path(path),
            connector=args.connector,
            kind=args.kind,
            no_plaintext_secrets=args.no_plaintext_secrets,
            validate_all=False,
            jobs=args.jobs or default_jobs(),
            environment=environment_of(args, project_file, group, required=False),
            named=named,
            project_file=project_file,
        )
        reports.extend(result.reports)
        warnings.extend(result.warnings)
    for notice in schemas.notices():
        err(notice)
    from ..core.text import printable

    for warning in warnings:
        err(f"warning: {printable(warning)}")
    render(reports, args, sys.stdout)
    _KEPT[:] = [reports]
    return exit_code(reports)


#: The last run's reports, held until the process ends: the console scripts end with
#: ``os._exit``, and freeing every document, position and result of 500 files on the
#: way out cost 2 ms of a 130 ms run. Only the last run is held.
_KEPT: list[Any] = []


def run_payload(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigValidationError
    from ..deploy.payload import build_payload
    from ..validation.report import FileReport
    from ..validation.validate import ValidationResult

    try:
        loaded = load_one(args.path, None, args.connector, args.kind)
    except LoadError as exc:
        render([unreadable_report(args.path, exc)], args, report_stream(args))
        return EXIT_USAGE
    docs = loaded.documents
    report = FileReport(loaded.path, list(loaded.issues))
    if any(i.severity == "error" for i in loaded.issues):
        render([report], args, report_stream(args))
        return EXIT_INVALID
    from ..core.kinds import KINDS

    for doc in docs:
        if doc.bare:
            code_field = KINDS[doc.kind or "source"].code_field
            doc.data = {
                "name": args.name or Path(args.path).stem,
                code_field: args.connector,
                "config": doc.data,
            }
            doc.base, doc.bare = (), False
    if args.name is not None:  # a bare config was given that name just above
        docs = [d for d in docs if d.name == args.name]
        if not docs:
            err(f"error: {args.path}: no document named {args.name!r}; {names_of(loaded)}")
            return EXIT_USAGE
    if len(docs) > 1 and not args.jsonl:
        err(
            f"error: {args.path} holds {len(docs)} documents ({names_of(loaded)}): "
            "pick one with --name NAME, or print one body per line with --jsonl"
        )
        return EXIT_USAGE
    schemas = SchemaSources(args)
    cache = schemas.for_path(None if args.path == "-" else args.path)
    allow = None if args.allow_env is None else args.allow_env.split(",")
    project = None
    from ..core.errors import StreamkapConfigError
    from ..project.validate import project_file_of, project_root, validate_project

    root = project_root([] if args.path == "-" else [args.path], args.project)
    project_file = project_file_of(root)
    try:
        environment = environment_of(args, project_file, [args.path], required=True)
    except StreamkapConfigError:
        environment = None  # only ${var:NAME} needs one, and says so
    if environment is not None and project_file is None:
        raise StreamkapConfigError(f"--env {environment}: there is no streamkap.toml here")
    variables = (
        project_file.environment(environment).variables if project_file and environment else None
    )
    if any(d.declared_kind == "pipeline" for d in docs):
        # A pipeline names documents of its project: read them for ids and connectors.
        project = validate_project(
            [loaded],
            root=None if args.path == "-" else root,
            schemas=lambda path: schemas.for_path(path),
            environment=environment,
            project_file=project_file,
        )
        docs = [d for r in project.reports for d, _ in r.documents if any(d is x for x in docs)]
    try:
        ids = _ids(args.id)
    except ValueError as exc:
        err(f"error: {exc}")
        return EXIT_USAGE
    bodies = []
    failed = False
    for doc in docs:
        try:
            body = build_payload(
                doc,
                mode=args.mode,
                strict=args.strict,
                schemas=cache,
                connector=args.connector,
                no_plaintext_secrets=args.no_plaintext_secrets,
                include_defaults=args.include_defaults,
                allow_env=allow,
                project=project,
                ids=ids,
                variables=variables,
            )
        except ConfigValidationError as exc:
            failed = True
            kind = doc.declared_kind
            field = KINDS[kind].code_field if kind in KINDS else "connector"
            code = doc.data.get(field) if isinstance(doc.data, dict) else None
            connector = code if isinstance(code, str) else None
            result = ValidationResult(False, exc.issues, connector, None, kind)
            report.documents.append((doc, result))
            continue
        bodies.append(
            body.model_dump(mode="json", exclude_none=True)
            if args.reveal_secrets
            else body.masked_dump()
        )
    for notice in cache.notices:
        err(notice)
    if failed:
        render([report], args, report_stream(args))
        return exit_code([report])
    if args.jsonl:
        for out in bodies:
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(json.dumps(bodies[0], indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def _ids(given: Sequence[str] | None) -> dict[str, str]:
    """``--id source/NAME=ID`` options as ``{"source/NAME": ID}``."""
    ids: dict[str, str] = {}
    for item in given or ():
        key, sep, value = item.partition("=")
        kind, slash, name = key.partition("/")
        if (
            not sep
            or not slash
            or not name
            or not value
            or kind
            not in (
                "source",
                "destination",
                "transform",
            )
        ):
            raise ValueError(f"--id {item!r}: expected KIND/NAME=ID, e.g. source/orders=abc123")
        ids[key] = value
    return ids
