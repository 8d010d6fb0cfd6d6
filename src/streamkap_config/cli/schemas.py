"""``schemas list|show|pull|lock|diff|export``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import SchemaUnavailableError

if TYPE_CHECKING:
    from ..schemas.cache import SchemaCache

from .common import EXIT_INVALID, EXIT_OK, EXIT_SCHEMA, KIND_CHOICES, SchemaSources, err, use_color


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


def run_schemas(args: argparse.Namespace) -> int:
    schemas = SchemaSources(args)
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
        from ..schemas.editor import combined_schema, editor_schema

        target = Path(args.editor)
        target.mkdir(parents=True, exist_ok=True)
        written = 0
        every: dict[str, list[Any]] = {}
        for kind in _kinds_of(args):
            kind_cache = cache.for_kind(kind)
            for code in args.codes or list(kind_cache):
                found = kind_cache.get(code)
                if found is None:
                    raise _unknown_connector(kind_cache, code)
                every.setdefault(kind, []).append(found.definition)
                text = json.dumps(editor_schema(found.definition), indent=2, ensure_ascii=False)
                name = code if kind == "source" else f"{kind}-{code}"
                (target / f"{name}.json").write_text(text + "\n", encoding="utf-8")
                written += 1
        # One schema for every file: map it to the whole repository once.
        combined = json.dumps(combined_schema(every), separators=(",", ":"), ensure_ascii=False)
        (target / "streamkap.json").write_text(combined + "\n", encoding="utf-8")
        sys.stdout.write(
            f"wrote {written} editor schemas and streamkap.json ({len(combined):,} bytes) "
            f"to {target}\n"
        )
    for notice in schemas.notices():
        err(notice)
    return EXIT_OK


def _unknown_connector(cache: SchemaCache, code: str) -> SchemaUnavailableError:
    from ..core.kinds import KINDS
    from ..validation.validate import suggest_connectors

    near = suggest_connectors(code, cache)
    label = KINDS[cache.kind].label
    reason = f"unknown {label}" + (f" (did you mean {', '.join(near)}?)" if near else "")
    return SchemaUnavailableError(code, reason)


def _show(cache: SchemaCache, args: argparse.Namespace) -> int:
    import textwrap

    from ..schemas.definitions import strip_suffix

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
            from ..core.text import plain_text

            described = plain_text(p.description)
            out.extend(textwrap.wrap(described, 88, initial_indent="  ", subsequent_indent="  "))
    sys.stdout.write("\n".join(out) + "\n")
    return EXIT_OK


def _pull(cache: SchemaCache, args: argparse.Namespace) -> bool:
    """Pull one kind; True when something failed."""
    from ..schemas.cache import PullResult

    tty = use_color(sys.stderr)
    done = [0]
    total = len(args.codes) if args.codes else None
    prefix = "" if cache.kind == "source" else f"{cache.kind} "

    def progress(result: PullResult) -> None:
        done[0] += 1
        if tty:
            count = f"{done[0]}/{total}" if total else str(done[0])
            sys.stderr.write(f"\r\033[Kpulling {prefix}schemas: {count} ({result.connector})")
            sys.stderr.flush()

    from ..remote.client import StreamkapClient

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
            err(f"error: {prefix}{r.connector}: {r.message}")
        else:
            sys.stdout.write(f"{prefix}{r.connector}: {r.status} {(r.version or '')[:12]}\n")
    return failed


def run_new(args: argparse.Namespace) -> int:
    """``new KIND CONNECTOR``: a commented starting file, on stdout or ``--output``."""
    from ..core.errors import StreamkapConfigError
    from ..schemas.starter import starter

    cache = SchemaSources(args).for_path(os.getcwd()).for_kind(args.kind)
    found = cache.get(args.connector)
    if found is None:
        raise StreamkapConfigError(str(_unknown_connector(cache, args.connector)))
    text = starter(args.kind, args.connector, found.definition)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(args.output, "x", encoding="utf-8") as handle:  # never over a file
            handle.write(text)
    except FileExistsError:
        raise StreamkapConfigError(
            f"{args.output} exists: not overwritten (remove it, or name another file)"
        ) from None
    err(f"wrote {args.output}: replace every <...>, then streamkap-validate {args.output}")
    return EXIT_OK
