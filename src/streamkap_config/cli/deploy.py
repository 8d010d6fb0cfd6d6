"""``plan`` and ``apply``: the files against the live account."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ..core.errors import ConfigValidationError, StreamkapConfigError
from .common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_SCHEMA,
    EXIT_USAGE,
    SchemaSources,
    by_project,
    environment_of,
    err,
    render,
)

if TYPE_CHECKING:
    from pathlib import Path

    from ..deploy.plan import Plan
    from ..project.validate import ProjectResult
    from ..remote.client import StreamkapClient

EXIT_CHANGES = 4  # plan --detailed-exitcode: something would change


def _project(args: argparse.Namespace) -> ProjectResult | None:
    """The valid project of the paths given, or None after printing why it is not.

    The documents of the files given are planned (all of the project's, or of the
    environment's, when no path is given); the rest of the project is read for what
    their pipelines name.
    """
    from ..core.paths import relative
    from ..loaders import iter_files
    from ..project.validate import project_file_of, project_files, project_root, validate_project

    schemas = SchemaSources(args)
    root: Path | None = None
    if args.paths and args.no_project:
        files = list(iter_files(args.paths))
    elif args.paths:
        files = list(iter_files(args.paths))
        groups = by_project(files, args.project)
        if len(groups) > 1:
            roots = ", ".join(relative(str(root)) if root else "(none)" for root, _ in groups)
            raise StreamkapConfigError(
                f"the files given belong to {len(groups)} projects ({roots}): "
                f"{args.command} one at a time, or name the project with --project"
            )
        root = groups[0][0] if groups else project_root([], args.project)
    elif args.no_project:
        raise StreamkapConfigError(f"{args.command} --no-project needs the files to read")
    else:
        root = project_root([], args.project)
        if root is None:
            raise StreamkapConfigError(
                "no project here (no streamkap.toml, lock file or git work tree): "
                "name the files to plan, or the project with --project"
            )
        files = [relative(p) for p in project_files(root)]
    project_file = project_file_of(root)
    environment = environment_of(args, project_file, files, required=True)
    named = [p for p in args.paths if not os.path.isdir(p)]
    result = validate_project(
        files,
        report_for=files,
        root=root,
        schemas=lambda path: schemas.for_path(path),
        environment=environment,
        named=named,
        project_file=project_file,
    )
    args.environment = (
        project_file.environment(environment) if project_file and environment else None
    )
    broken = [r for r in result.project if any(i.severity == "error" for i in r.all_issues())]
    if broken or not result.reports:
        if not result.reports:
            where = ", ".join(args.paths) if args.paths else relative(str(root))
            err("error: no Streamkap files found in " + where)
        render(broken, argparse.Namespace(format="text", quiet=True), sys.stderr)
        return None
    return result


def _client(args: argparse.Namespace) -> StreamkapClient:
    """A client for the account of the run's environment (its URL and credentials), else
    from ``--api-url`` and the ``STREAMKAP_*`` variables."""
    from ..remote.client import StreamkapClient

    environment = getattr(args, "environment", None)
    if environment is None:
        return StreamkapClient.from_env(base_url=args.api_url)
    url = args.api_url or environment.api_url or os.environ.get("STREAMKAP_API_URL")
    from ..remote.client import DEFAULT_API_URL

    return StreamkapClient(url or DEFAULT_API_URL, **environment.credentials())


def _planned(
    args: argparse.Namespace, project: ProjectResult, client: StreamkapClient
) -> Plan | None:
    """The plan of the project's files given, or None after saying why there is none."""
    from ..deploy.plan import plan

    try:
        return plan(
            project,
            client,
            allow_env=_allow(args),
            update_secrets=args.update_secrets,
            prune=args.prune,
        )
    except ConfigValidationError as exc:
        err(str(exc))
        return None


def run_plan(args: argparse.Namespace) -> int:
    project = _project(args)
    if project is None:
        return EXIT_INVALID  # no request was made
    with _client(args) as client:
        the_plan = _planned(args, project, client)
    if the_plan is None:
        return EXIT_INVALID
    if args.format == "json":
        sys.stdout.write(json.dumps(the_plan.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_formatted(the_plan, args))
    if args.detailed_exitcode and the_plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK


def run_apply(args: argparse.Namespace) -> int:
    from ..deploy.plan import apply

    if args.parallelism < 1:
        err(f"error: --parallelism must be at least 1, got {args.parallelism}")
        return EXIT_USAGE
    project = _project(args)
    if project is None:
        return EXIT_INVALID  # no request was made
    with _client(args) as client:
        the_plan = _planned(args, project, client)
        if the_plan is None:
            return EXIT_INVALID
        sys.stdout.write(_formatted(the_plan, args))
        if not the_plan.has_changes:
            return EXIT_OK
        if not args.yes:
            if not sys.stdin.isatty():
                err("error: not applying without --yes when no terminal can confirm it")
                return EXIT_USAGE
            sys.stdout.write("Apply these changes? [y/N] ")
            sys.stdout.flush()
            if sys.stdin.readline().strip().lower() not in ("y", "yes"):
                err("not applied")
                return EXIT_OK
            if not _deletes_confirmed(the_plan):
                err("not applied")
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
            err(f"error: {exc}")
            return EXIT_INVALID
        sys.stdout.write(result.format())
        if not result.ok:
            return EXIT_SCHEMA
        if args.wait:
            written = [(c.kind, c.name, ident) for c, ident in result.done if c.action != "delete"]
            return _waited(args, client, written)
    return EXIT_OK


def _deletes_confirmed(the_plan: Plan) -> bool:
    """On a terminal, a second question for deletes, naming each: they cannot be undone."""
    from ..deploy.plan import printable

    deletes = the_plan.deletes
    if not deletes:
        return True
    sys.stdout.write(f"This deletes {len(deletes)} live object(s), for good:\n")
    for c in deletes:
        sys.stdout.write(f"  - {c.kind} {printable(c.name)} ({printable(c.id or '')})\n")
    sys.stdout.write("Type 'delete' to delete them: ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() == "delete"


def _waited(args: argparse.Namespace, client: StreamkapClient, written: list[Any]) -> int:
    """``apply --wait``: poll what was written until it settles; 0 when all run."""
    from ..deploy.status import wait

    terminal = sys.stderr.isatty()
    said: set[str] = set()

    def progress(rows: list[Any]) -> None:
        if terminal:
            done = sum(r.settled for r in rows)
            sys.stderr.write(f"\rwaiting: {done} of {len(rows)} settled ")
            sys.stderr.flush()
            return
        for row in rows:  # in CI: a line per connector, once it has settled
            if row.settled and row.id not in said:
                said.add(row.id)
                sys.stdout.write(row.format() + "\n")

    rows, settled = wait(client, written, timeout=args.timeout, poll=args.poll, progress=progress)
    if terminal:
        sys.stderr.write("\n")
        sys.stdout.write("".join(row.format() + "\n" for row in rows))
    failed = [r for r in rows if not r.ok]
    for row in failed:
        for trace in row.traces:
            err(f"  {row.kind} {row.name}: {trace}")
    if not settled:
        waiting = ", ".join(f"{r.kind} {r.name}" for r in rows if not r.settled)
        err(f"error: still not settled after {args.timeout:g} s: {waiting}")
        return EXIT_SCHEMA
    if failed:
        err("error: not running: " + ", ".join(f"{r.kind} {r.name} ({r.status})" for r in failed))
        return EXIT_SCHEMA
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    """``status [PATH...]``: each document's live object; 0 when every one runs as asked."""
    from ..deploy.status import status

    project = _project(args)
    if project is None:
        return EXIT_INVALID
    with _client(args) as client:
        rows = status(project, client)
    if args.format == "json":
        body = {"objects": [r.as_dict() for r in rows], "ok": all(r.ok for r in rows)}
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write("".join(r.format() + "\n" for r in rows))
        ok = sum(r.ok for r in rows)
        sys.stdout.write(f"{ok} of {len(rows)} running as asked\n")
    return EXIT_OK if all(r.ok for r in rows) else EXIT_INVALID


def _formatted(the_plan: Plan, args: argparse.Namespace) -> str:
    from .common import use_color

    return the_plan.format(color=use_color(sys.stdout), verbose=getattr(args, "verbose", False))


def _allow(args: argparse.Namespace) -> Any:
    return None if args.allow_env is None else args.allow_env.split(",")


def run_import(args: argparse.Namespace) -> int:
    """``import DIR``: the live account written as files; plan is then no-op."""
    from ..core.paths import relative
    from ..deploy.importer import ORDER, import_account
    from ..project.validate import project_file_of, project_files, project_root

    folder = args.dir
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise StreamkapConfigError(f"{folder} is not a directory")
    root = project_root([folder], args.project) if os.path.isdir(folder) else None
    project_file = project_file_of(root)
    environment = environment_of(args, project_file, [], required=True)
    args.environment = (
        project_file.environment(environment) if project_file and environment else None
    )
    described: dict[tuple[str, str], str] = {}
    if root is not None:  # what the project already describes is left to its files
        from ..loaders import load_file

        for path in project_files(root, project_file=project_file):
            try:
                loaded = load_file(path)
            except StreamkapConfigError:
                continue
            for doc in loaded.documents:
                if doc.name is not None:
                    described[(doc.declared_kind, doc.name)] = relative(path)
    kinds = list(args.kind) if args.kind else list(ORDER)
    with _client(args) as client:
        result = import_account(
            client,
            folder,
            kinds=kinds,
            name_glob=args.name,
            described=described,
            force=args.force,
            nested=args.nested,
        )
    for path in result.written:
        sys.stdout.write(f"wrote {relative(path)}\n")
    for why in result.skipped:
        sys.stdout.write(f"skipped {why}\n")
    if result.variables:
        sys.stdout.write("set these variables before apply (the secrets are not read back):\n")
        sys.stdout.write("".join(f"  {name}\n" for name in result.variables))
    sys.stdout.write(
        f"{len(result.written)} written, {len(result.skipped)} skipped; "
        f"now: streamkap-config plan {folder}\n"
    )
    return EXIT_OK
