"""The command line: ``streamkap-config`` and ``streamkap-validate``.

Thin: parses arguments, calls the layers, picks an exit code.

Exit codes: 0 valid (warnings allowed), 1 invalid (a file that does not parse
is invalid too), 2 usage error or unreadable file, 3 schema unavailable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__
from .errors import LoadError, SchemaUnavailableError, StreamkapConfigError

if TYPE_CHECKING:
    from .cache import SchemaCache
    from .loaders import Limits, LoadedFile
    from .report import FileReport

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_SCHEMA = 0, 1, 2, 3
KIND_CHOICES = ("source", "destination", "transform")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted before or after the subcommand (none of them reaches the network)."""
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        default=default,
        help="schema cache directory (default: $STREAMKAP_CONFIG_CACHE or the user cache dir)",
    )
    parser.add_argument(
        "--lock",
        metavar="FILE",
        default=default,
        help="lock file pinning schema versions (default: streamkap-schemas.lock found upward)",
    )


def _api_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="Streamkap API base URL (default: $STREAMKAP_API_URL or https://api.streamkap.com)",
    )


def _check_options(parser: argparse.ArgumentParser, formats_help: str) -> None:
    """What validate and payload share: how strictly to check, and how to report."""
    parser.add_argument(
        "--format",
        choices=("text", "json", "github"),
        default="text",
        help=formats_help,
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help='no lenient normalisation: "5432", "true" and comma-separated lists are errors',
    )
    parser.add_argument(
        "--no-plaintext-secrets",
        action="store_true",
        help="a secret written in plain text is an error, not a warning",
    )
    parser.add_argument(
        "--mode",
        choices=("create", "update"),
        default="create",
        help="create: a POST body (required keys needed); update: a PUT body (default: create)",
    )
    parser.add_argument(
        "--connector",
        metavar="CODE",
        help="the connector (transform type) of files holding a bare config mapping; "
        "a document naming another is an error",
    )
    parser.add_argument(
        "--kind",
        choices=KIND_CHOICES,
        help="the kind of bare config mappings and of documents outside a list "
        "(default: a document's own kind:, else source); a document of another kind "
        "is kind-mismatch",
    )


def _kind_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--kind", choices=KIND_CHOICES, help=help_text)


def _validate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files, directories (searched for .yaml, .yml, .json and .toml) or - for stdin",
    )
    _check_options(parser, "report format: text lines, a JSON report, or GitHub annotations")
    parser.add_argument(
        "--max-bytes", type=int, metavar="N", help="file size limit in bytes (default: 5 MiB)"
    )
    parser.add_argument(
        "--max-depth",
        type=int,
        metavar="N",
        help="nesting limit of a file, 1 to 256 (default: 64)",
    )
    project = parser.add_mutually_exclusive_group()
    project.add_argument(
        "--project",
        metavar="DIR",
        help="the project whose documents pipelines may name (default: the nearest "
        "directory upward holding streamkap-schemas.lock, else the git work tree)",
    )
    project.add_argument(
        "--no-project",
        action="store_true",
        help="check only the files given, not the rest of their project",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    group.add_argument("-v", "--verbose", action="store_true", help="also list valid documents")


def _root_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog,
        description=description,
        epilog="Exit codes: 0 valid, 1 invalid, 2 usage error or unreadable file, "
        "3 schema unavailable.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, suppress=False)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _root_parser(
        "streamkap-config",
        "Validate Streamkap sources, destinations and transforms, and build their request bodies.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="validate source, destination and transform files")
    _common(p, suppress=True)
    _validate_options(p)

    p = sub.add_parser("payload", help="print the request body (JSON) of a valid file")
    _common(p, suppress=True)
    p.add_argument("path", metavar="FILE", help="a YAML, JSON or TOML file, or - for stdin")
    _check_options(
        p, "how problems are reported when the file is invalid (json and github on stdout)"
    )
    p.add_argument(
        "--name",
        metavar="NAME",
        help="the document to print when the file holds several; "
        "the source name of a bare config mapping",
    )
    p.add_argument(
        "--jsonl", action="store_true", help="print every document's body, one JSON line each"
    )
    p.add_argument(
        "--include-defaults", action="store_true", help="add every default the file leaves out"
    )
    p.add_argument(
        "--reveal-secrets",
        action="store_true",
        help="print secrets and values from the environment instead of ********",
    )
    p.add_argument(
        "--id",
        action="append",
        metavar="KIND/NAME=ID",
        help="the id of a document a pipeline names (repeatable), e.g. source/orders=abc123",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        help="the project a pipeline's references are read from (default: as validate)",
    )
    p.add_argument(
        "--allow-env",
        metavar="PATTERNS",
        default=os.environ.get("STREAMKAP_ALLOW_ENV"),
        help="comma-separated globs of the variables ${env:NAME} may read "
        "(default: $STREAMKAP_ALLOW_ENV, else all)",
    )

    schemas = sub.add_parser("schemas", help="list, show, pull, lock, diff and export schemas")
    _common(schemas, suppress=True)
    ssub = schemas.add_subparsers(dest="schemas_command", required=True, parser_class=_Parser)
    fmt_help = "text for people, json for scripts"
    s = ssub.add_parser("list", help="connectors with their schema versions")
    _common(s, suppress=True)
    _kind_option(s, "list only this kind (default: every kind)")
    s.add_argument("--format", choices=("text", "json"), default="text", help=fmt_help)
    s = ssub.add_parser("show", help="the keys of one connector")
    _common(s, suppress=True)
    s.add_argument("code", metavar="CODE", help="connector code, e.g. postgresql")
    _kind_option(s, "the kind of CODE (default: source, else the one kind that has CODE)")
    s.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: every key with its description; json: the JSON Schema",
    )
    s = ssub.add_parser("pull", help="fetch schemas from the API into the cache")
    _common(s, suppress=True)
    _api_option(s)
    s.add_argument("codes", nargs="*", metavar="CODE", help="connector codes (default: all)")
    _kind_option(s, "the kind to pull (default: sources and destinations; with codes: source)")
    s.add_argument(
        "--concurrency", type=int, default=16, metavar="N", help="requests at a time (16)"
    )
    s.add_argument(
        "--retries",
        type=int,
        default=3,
        metavar="N",
        help="retries of a failed request, with backoff (3)",
    )
    s = ssub.add_parser("lock", help="write streamkap-schemas.lock here")
    _common(s, suppress=True)
    s.add_argument("codes", nargs="*", metavar="CODE", help="connector codes (default: all)")
    _kind_option(s, "pin only this kind (default: every kind; with codes: source)")
    s.add_argument(
        "--output", "-o", metavar="FILE", default=None, help="lock file path (default: ./)"
    )
    s = ssub.add_parser("diff", help="what changed between two schema versions")
    _common(s, suppress=True)
    s.add_argument("code", metavar="CODE", help="connector code")
    _kind_option(s, "the kind of CODE (default: source, else the one kind that has CODE)")
    s.add_argument(
        "old",
        nargs="?",
        metavar="OLD",
        help="version id or prefix, 'bundled' or 'current' "
        "(default: the lock pin, else the previous cached version, else bundled)",
    )
    s.add_argument(
        "new", nargs="?", metavar="NEW", help="as OLD (default: the newest cached version)"
    )
    s.add_argument("--fail-on-breaking", action="store_true", help="exit 1 on a breaking change")
    s.add_argument("--format", choices=("text", "json"), default="text", help=fmt_help)
    s = ssub.add_parser("export", help="write JSON Schemas for editors")
    _common(s, suppress=True)
    s.add_argument("--editor", metavar="DIR", required=True, help="output directory")
    s.add_argument("codes", nargs="*", metavar="CODE", help="connector codes (default: all)")
    _kind_option(s, "export only this kind (default: every kind; with codes: source)")
    return parser


def _validate_parser() -> argparse.ArgumentParser:
    parser = _root_parser(
        "streamkap-validate",
        "Validate Streamkap source configurations, and destinations and transforms "
        "(YAML, JSON, TOML).",
    )
    _validate_options(parser)
    return parser


# ---------------------------------------------------------------------------------------


def _err(text: str) -> None:
    sys.stderr.write(text.rstrip("\n") + "\n")


def _color(stream: Any) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class _Schemas:
    """One SchemaCache per lock file in effect."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.cache_dir = getattr(args, "cache_dir", None)
        self.api_url = getattr(args, "api_url", None)
        self.lock_arg = getattr(args, "lock", None)
        self._by_lock: dict[str, SchemaCache] = {}
        self._lock_of_dir: dict[str, str | None] = {}

    def for_path(self, path: str | None) -> SchemaCache:
        from .cache import SchemaCache, find_lock

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


def _limits(args: argparse.Namespace) -> Limits:
    from .loaders import Limits

    kwargs = {}
    if args.max_bytes is not None:
        kwargs["max_bytes"] = args.max_bytes
    if args.max_depth is not None:
        kwargs["max_depth"] = args.max_depth
    return Limits(**kwargs)


def _load(path: str, limits: Limits | None, connector: str | None, kind: str | None) -> LoadedFile:
    """A file, or standard input for ``-`` (JSON when it starts with { or [, else YAML)."""
    from .loaders import Limits, load_file, load_text

    limits = limits or Limits()
    if path != "-":
        return load_file(path, limits=limits, connector=connector, kind=kind)
    data = sys.stdin.buffer.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise LoadError("<stdin>", f"input is over the limit of {limits.max_bytes:,} bytes")
    fmt = "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"
    return load_text(data, "<stdin>", limits=limits, connector=connector, fmt=fmt, kind=kind)


def _unreadable(path: str, exc: LoadError) -> FileReport:
    from .issues import Issue
    from .report import FileReport

    issue = Issue("parse-error", "error", f"cannot read the file: {exc.reason}")
    return FileReport(path, [issue], unreadable=True)


def _render(reports: Sequence[FileReport], args: argparse.Namespace, stream: Any) -> None:
    from .report import render_github, render_json, render_text

    if args.format == "json":
        stream.write(render_json(reports))
    elif args.format == "github":
        stream.write(render_github(reports))
    else:
        quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
        stream.write(render_text(reports, color=_color(stream), quiet=quiet, verbose=verbose))


def _run_validate(args: argparse.Namespace) -> int:
    from .loaders import iter_files
    from .project import project_root, validate_project

    try:
        limits = _limits(args)
    except ValueError as exc:
        _err(f"error: {str(exc).replace('max_', '--max-').replace('_', '-')}")
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
    root = None if args.no_project else project_root(args.paths, args.project)
    result = validate_project(
        items,
        report_for=[p for p in files if p != "-"],
        root=root,
        limits=limits,
        mode=args.mode,
        strict=args.strict,
        schemas=lambda path: schemas.for_path(path),
        connector=args.connector,
        kind=args.kind,
        no_plaintext_secrets=args.no_plaintext_secrets,
    )
    reports = [*reports, *result.reports]
    for notice in schemas.notices():
        _err(notice)
    _render(reports, args, sys.stdout)
    return _exit_code(reports)


def _exit_code(reports: Sequence[FileReport]) -> int:
    if any(r.unreadable for r in reports):
        return EXIT_USAGE
    issues = [i for r in reports for i in r.all_issues()]
    if any(i.code == "schema-unavailable" for i in issues):
        return EXIT_SCHEMA
    if any(i.severity == "error" for i in issues):
        return EXIT_INVALID
    return EXIT_OK


def _run_payload(args: argparse.Namespace) -> int:
    from .errors import ConfigValidationError
    from .payload import build_payload
    from .report import FileReport
    from .validate import ValidationResult

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
    from .kinds import KINDS

    for doc in docs:
        if doc.bare:
            code_field = KINDS[doc.kind or "source"].code_field
            doc.data = {
                "name": args.name or Path(args.path).stem,
                code_field: args.connector,
                "config": doc.data,
            }
            doc.base, doc.bare = (), False
    if args.name is not None and len(docs) > 1:
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
    if any(d.declared_kind == "pipeline" for d in docs):
        # A pipeline names documents of its project: read them for ids and connectors.
        from .project import project_root, validate_project

        root = None if args.path == "-" else project_root([args.path], args.project)
        project = validate_project([loaded], root=root, schemas=lambda path: schemas.for_path(path))
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


def _report_stream(args: argparse.Namespace) -> Any:
    # Text is for people (stderr, beside a body on stdout); json and github are for tools.
    return sys.stderr if args.format == "text" else sys.stdout


def _names(loaded: LoadedFile) -> str:
    names = [d.name or f"#{n + 1} (no name)" for n, d in enumerate(loaded.documents)]
    return "documents: " + ", ".join(names) if names else "no documents"


def _age(fetched_at: str | None) -> str:
    if not fetched_at:
        return "-"
    import datetime as dt

    try:
        then = dt.datetime.fromisoformat(fetched_at)
    except ValueError:
        return "?"
    seconds = (dt.datetime.now(dt.timezone.utc) - then).total_seconds()
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _kinds_of(args: argparse.Namespace) -> list[str]:
    """The kinds a schemas command covers: --kind, else every kind (sources with codes)."""
    if args.kind:
        return [args.kind]
    return ["source"] if getattr(args, "codes", None) else list(KIND_CHOICES)


def _cache_for_code(cache: SchemaCache, args: argparse.Namespace) -> SchemaCache:
    """The cache of CODE's kind: --kind, else source, else the only kind that has it."""
    if args.kind:
        return cache.for_kind(args.kind)
    if cache.get(args.code) is None:
        having = [k for k in KIND_CHOICES if cache.for_kind(k).get(args.code) is not None]
        if len(having) == 1:
            return cache.for_kind(having[0])
    return cache


def _run_schemas(args: argparse.Namespace) -> int:
    schemas = _Schemas(args)
    cache = schemas.for_path(os.getcwd())
    command = args.schemas_command
    if command == "list":
        rows = []
        for kind in _kinds_of(args):
            kind_cache = cache.for_kind(kind)
            for code in kind_cache:
                found = kind_cache.get(code)
                if found is None:
                    continue
                rows.append(
                    {
                        "kind": kind,
                        "connector": code,
                        "display_name": found.display_name,
                        "version": found.version,
                        "origin": found.origin,
                        "age": _age(found.fetched_at),
                    }
                )
        if args.format == "json":
            sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        else:
            table = [["KIND", "CONNECTOR", "DISPLAY NAME", "VERSION", "ORIGIN", "AGE"]]
            table += [
                [
                    r["kind"],
                    r["connector"],
                    r["display_name"],
                    r["version"][:12],
                    r["origin"],
                    r["age"],
                ]
                for r in rows
            ]
            sys.stdout.write(_table(table) + "\n")
    elif command == "show":
        return _show(_cache_for_code(cache, args), args)
    elif command == "pull":
        kinds = (
            [args.kind] if args.kind else (["source"] if args.codes else ["source", "destination"])
        )
        failed = False
        for kind in kinds:
            failed = _pull(cache.for_kind(kind), args) or failed
        return EXIT_SCHEMA if failed else EXIT_OK
    elif command == "lock":
        out = args.output or os.path.join(os.getcwd(), "streamkap-schemas.lock")
        lock = cache.write_lock(out, args.codes or None, _kinds_of(args))
        sys.stdout.write(f"wrote {out} ({len(lock)} connectors pinned)\n")
    elif command == "diff":
        diff = _cache_for_code(cache, args).diff(args.code, args.old, args.new)
        if args.format == "json":
            sys.stdout.write(json.dumps(diff.as_dict(), indent=2) + "\n")
        else:
            head = f"{diff.connector}: {diff.old_version[:12]} -> {diff.new_version[:12]}"
            lines = [head] + ["  " + c.format() for c in diff.changes]
            if not diff.changes:
                lines.append("  no changes")
            sys.stdout.write("\n".join(lines) + "\n")
        if args.fail_on_breaking and diff.breaking:
            return EXIT_INVALID
    elif command == "export":
        from .jsonschema_gen import editor_schema

        target = Path(args.editor)
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        for kind in _kinds_of(args):
            kind_cache = cache.for_kind(kind)
            for code in args.codes or list(kind_cache):
                found = kind_cache.get(code)
                if found is None:
                    raise _unknown_connector(kind_cache, code)
                text = json.dumps(editor_schema(found.definition), indent=2, ensure_ascii=False)
                name = code if kind == "source" else f"{kind}-{code}"
                (target / f"{name}.json").write_text(text + "\n", encoding="utf-8")
                written += 1
        sys.stdout.write(f"wrote {written} editor schemas to {target}\n")
    for notice in schemas.notices():
        _err(notice)
    return EXIT_OK


def _unknown_connector(cache: SchemaCache, code: str) -> SchemaUnavailableError:
    from .kinds import KINDS
    from .validate import suggest_connectors

    near = suggest_connectors(code, cache)
    label = KINDS[cache.kind].label
    reason = f"unknown {label}" + (f" (did you mean {', '.join(near)}?)" if near else "")
    return SchemaUnavailableError(code, reason)


def _show(cache: SchemaCache, args: argparse.Namespace) -> int:
    import textwrap

    from .definitions import strip_suffix

    found = cache.get(args.code)
    if found is None:
        raise _unknown_connector(cache, args.code)
    if args.format == "json":
        sys.stdout.write(json.dumps(dict(found.schema), indent=2) + "\n")
        return EXIT_OK
    out = [f"{found.display_name} ({found.connector}) {found.version[:12]} [{found.origin}]"]
    for p in found.definition.properties:
        if not p.user_defined:
            continue
        facts = [p.kind + (", secret" if p.secret else "")]
        if p.required:
            facts.append("required")
        if p.has_default and not p.secret:
            facts.append(f"default {json.dumps(p.default)}")
        if p.minimum is not None or p.maximum is not None:
            lo = "" if p.minimum is None else p.minimum
            hi = "" if p.maximum is None else p.maximum
            facts.append(f"range {lo}..{hi}")
        if p.set_once:
            facts.append("set once")
        out.append("")
        out.append(f"{p.name}  ({'; '.join(facts)})")
        also = [a for a in (strip_suffix(p.name), p.terraform_attribute, *p.aliases) if a]
        also = [a for a in dict.fromkeys(also) if a != p.name]
        if also:
            out.append(f"  also written: {', '.join(also)}")
        if p.raw_values:
            out.append(f"  allowed: {', '.join(map(str, p.raw_values))}")
        if p.conditions:
            out.append(f"  applies when: {' and '.join(c.describe() for c in p.conditions)}")
        if p.description:
            out.extend(
                textwrap.wrap(p.description, 88, initial_indent="  ", subsequent_indent="  ")
            )
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK


def _pull(cache: SchemaCache, args: argparse.Namespace) -> bool:
    """Pull one kind; True when something failed."""
    from .cache import PullResult

    tty = _color(sys.stderr)
    done = [0]
    total = len(args.codes) if args.codes else None
    prefix = "" if cache.kind == "source" else f"{cache.kind} "

    def progress(result: PullResult) -> None:
        done[0] += 1
        if tty:
            count = f"{done[0]}/{total}" if total else str(done[0])
            sys.stderr.write(f"\r\033[Kpulling {prefix}schemas: {count} ({result.connector})")
            sys.stderr.flush()

    from .client import StreamkapClient

    with StreamkapClient.from_env(base_url=cache.api_url, retries=max(0, args.retries)) as client:
        results = cache.pull(
            args.codes or None, client=client, concurrency=args.concurrency, progress=progress
        )
    if tty:
        sys.stderr.write("\r\033[K")
    failed = False
    for r in results:
        if r.status == "error":
            failed = True
            _err(f"error: {prefix}{r.connector}: {r.message}")
        else:
            sys.stdout.write(f"{prefix}{r.connector}: {r.status} {(r.version or '')[:12]}\n")
    return failed


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "validate":
        return _run_validate(args)
    if args.command == "payload":
        return _run_payload(args)
    return _run_schemas(args)


def _guarded(run: Any, args: argparse.Namespace, prog: str) -> int:
    try:
        return int(run(args))
    except SchemaUnavailableError as exc:
        _err(f"{prog}: error: {exc}")
        return EXIT_SCHEMA
    except LoadError as exc:
        _err(f"{prog}: error: {exc}")
        return EXIT_USAGE
    except StreamkapConfigError as exc:
        from .errors import ApiError

        _err(f"{prog}: error: {exc}")
        return EXIT_SCHEMA if isinstance(exc, ApiError) else EXIT_USAGE
    except KeyboardInterrupt:
        _err(f"{prog}: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        _err(f"{prog}: error: {exc}")
        return EXIT_USAGE


def _tolerant_streams() -> None:
    # A file name that is not UTF-8, or a lone surrogate read from JSON, is printed
    # escaped rather than crashing the writer.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """``streamkap-config``: validate, payload and schemas commands."""
    _tolerant_streams()
    args = _build_parser().parse_args(argv)
    return _guarded(_dispatch, args, "streamkap-config")


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``streamkap-validate``: the standalone validator (the pre-commit entry point)."""
    _tolerant_streams()
    args = _validate_parser().parse_args(argv)
    return _guarded(_run_validate, args, "streamkap-validate")


if __name__ == "__main__":
    sys.exit(main())
