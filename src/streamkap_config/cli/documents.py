"""``validate`` and ``payload``: documents checked alone and as a project."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import LoadError

if TYPE_CHECKING:
    from ..report import FileReport

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    _by_project,
    _environment_of,
    _err,
    _exit_code,
    _limits,
    _load,
    _names,
    _render,
    _report_stream,
    _Schemas,
    _unreadable,
)


def _run_validate(args: argparse.Namespace) -> int:
    from ..loaders import iter_files
    from ..parallel import default_jobs
    from ..project import project_file_of, validate_project

    try:
        limits = _limits(args)
    except ValueError as exc:
        _err(f"error: {str(exc).replace('max_', '--max-').replace('_', '-')}")
        return EXIT_USAGE
    if args.jobs is not None and args.jobs < 1:
        _err(f"error: --jobs must be at least 1, got {args.jobs}")
        return EXIT_USAGE
    schemas = _Schemas(args)
    reports: list[FileReport] = []

    def unreadable_directory(path: str, reason: str) -> None:
        reports.append(_unreadable(path, LoadError(path, reason)))

    files = list(iter_files(args.paths, on_error=unreadable_directory))
    if not files:
        _err("warning: no YAML, JSON or TOML files found in " + ", ".join(args.paths))
    items: list[Any] = []
    for path in files:
        if path != "-":
            items.append(path)
            continue
        try:
            items.append(_load(path, limits, args.connector, args.kind))
        except LoadError as exc:
            reports.append(_unreadable(path, exc))
    dirs = [p for p in args.paths if p != "-" and os.path.isdir(p)]
    # Without a directory every file was named (None: no second set of real paths).
    named = [p for p in args.paths if p != "-" and p not in dirs] if dirs else None
    given = [p for p in files if p != "-"]
    if args.no_project:
        groups: list[tuple[Path | None, list[str]]] = [(None, given)]
    else:
        groups = _by_project(given, args.project)
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
            environment=_environment_of(args, project_file, group, required=False),
            named=named,
            project_file=project_file,
        )
        reports.extend(result.reports)
        warnings.extend(result.warnings)
    for notice in schemas.notices():
        _err(notice)
    from ..text import printable

    for warning in warnings:
        _err(f"warning: {printable(warning)}")
    _render(reports, args, sys.stdout)
    return _exit_code(reports)


def _run_payload(args: argparse.Namespace) -> int:
    from ..errors import ConfigValidationError
    from ..payload import build_payload
    from ..report import FileReport
    from ..validate import ValidationResult

    try:
        loaded = _load(args.path, None, args.connector, args.kind)
    except LoadError as exc:
        _render([_unreadable(args.path, exc)], args, _report_stream(args))
        return EXIT_USAGE
    docs = loaded.documents
    report = FileReport(loaded.path, list(loaded.issues))
    if any(i.severity == "error" for i in loaded.issues):
        _render([report], args, _report_stream(args))
        return EXIT_INVALID
    from ..kinds import KINDS

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
            _err(f"error: {args.path}: no document named {args.name!r}; {_names(loaded)}")
            return EXIT_USAGE
    if len(docs) > 1 and not args.jsonl:
        _err(
            f"error: {args.path} holds {len(docs)} documents ({_names(loaded)}): "
            "pick one with --name NAME, or print one body per line with --jsonl"
        )
        return EXIT_USAGE
    schemas = _Schemas(args)
    cache = schemas.for_path(None if args.path == "-" else args.path)
    allow = None if args.allow_env is None else args.allow_env.split(",")
    project = None
    from ..errors import StreamkapConfigError
    from ..project import project_file_of, project_root, validate_project

    root = project_root([] if args.path == "-" else [args.path], args.project)
    project_file = project_file_of(root)
    try:
        environment = _environment_of(args, project_file, [args.path], required=True)
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
        _err(f"error: {exc}")
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
        _err(notice)
    if failed:
        _render([report], args, _report_stream(args))
        return _exit_code([report])
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
