"""``plan`` and ``apply``: the files against the live account."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import ConfigValidationError, StreamkapConfigError
from .common import EXIT_INVALID, EXIT_OK, EXIT_SCHEMA, EXIT_USAGE, _err, _render, _Schemas

if TYPE_CHECKING:
    from ..client import StreamkapClient
    from ..plan import Plan
    from ..project import ProjectResult

EXIT_CHANGES = 4  # plan --detailed-exitcode: something would change


def _project(args: argparse.Namespace) -> ProjectResult | None:
    """The valid project of the paths given, or None after printing why it is not."""
    from ..loaders import iter_files
    from ..project import project_root, validate_project

    schemas = _Schemas(args)
    files = list(iter_files(args.paths))
    root = project_root(args.paths, args.project)
    result = validate_project(
        files, report_for=files, root=root, schemas=lambda path: schemas.for_path(path)
    )
    broken = [r for r in result.project if any(i.severity == "error" for i in r.all_issues())]
    if broken or not files:
        if not files:
            _err("error: no YAML, JSON or TOML files found in " + ", ".join(args.paths))
        _render(broken, argparse.Namespace(format="text", quiet=True), sys.stderr)
        return None
    return result


def _planned(args: argparse.Namespace, client: StreamkapClient) -> Plan | None:
    """The plan of the paths given, or None after saying why there is none."""
    from ..plan import plan

    project = _project(args)
    if project is None:
        return None  # no request was made
    try:
        return plan(project, client, allow_env=_allow(args), update_secrets=args.update_secrets)
    except ConfigValidationError as exc:
        _err(str(exc))
        return None


def _run_plan(args: argparse.Namespace) -> int:
    from ..client import StreamkapClient

    with StreamkapClient.from_env(base_url=args.api_url) as client:
        the_plan = _planned(args, client)
    if the_plan is None:
        return EXIT_INVALID
    if args.format == "json":
        sys.stdout.write(json.dumps(the_plan.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(the_plan.format())
    if args.detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def _run_apply(args: argparse.Namespace) -> int:
    from ..client import StreamkapClient
    from ..plan import apply

    if args.parallelism < 1:
        _err(f"error: --parallelism must be at least 1, got {args.parallelism}")
        return EXIT_USAGE
    with StreamkapClient.from_env(base_url=args.api_url) as client:
        the_plan = _planned(args, client)
        if the_plan is None:
            return EXIT_INVALID
        sys.stdout.write(the_plan.format())
        if not the_plan.has_changes:
            return EXIT_OK
        if not args.yes:
            if not sys.stdin.isatty():
                _err("error: not applying without --yes when no terminal can confirm it")
                return EXIT_USAGE
            sys.stdout.write("Apply these changes? [y/N] ")
            sys.stdout.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                _err("not applied")
                return EXIT_OK
        try:
            result = apply(
                the_plan,
                client,
                allow_env=_allow(args),
                skip_blocked=args.skip_blocked,
                parallelism=args.parallelism,
            )
        except StreamkapConfigError as exc:  # blocked changes, or a reference left unset
            _err(f"error: {exc}")
            return EXIT_INVALID
    sys.stdout.write(result.format())
    return EXIT_OK if result.ok else EXIT_SCHEMA


def _allow(args: argparse.Namespace) -> Any:
    return None if args.allow_env is None else args.allow_env.split(",")
