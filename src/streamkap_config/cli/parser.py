"""The argument parsers of both commands: every option with its help text."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from ..core.version import __version__

if TYPE_CHECKING:
    from collections.abc import Iterator

from .common import DOCUMENT_KINDS, EXIT_USAGE, KIND_CHOICES, parse_duration


class _Parser(argparse.ArgumentParser):
    #: True while :func:`build_parser` or :func:`validate_parser` builds the parsers.
    #: argparse makes a help formatter for every option it adds (only to check the
    #: option's metavar), and each asks the terminal its width, importing shutil: 2 to
    #: 3 ms of a 55 ms run. Help printed later, when a parser runs, still asks.
    building = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        if _Parser.building:
            return argparse.HelpFormatter(self.prog, width=80)  # checks a metavar, no more
        return super()._get_formatter()

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


@contextlib.contextmanager
def _building() -> Iterator[None]:
    _Parser.building = True
    try:
        yield
    finally:
        _Parser.building = False


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
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=default,
        help="colour the output: auto (on a terminal, unless NO_COLOR is set; the default), "
        "always, or never",
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
        choices=("text", "json", "github", "sarif", "junit"),
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
        choices=DOCUMENT_KINDS,
        help="the kind of bare config mappings and of documents outside a list "
        "(default: a document's own kind:, else source); a document of another kind "
        "is kind-mismatch",
    )


def _kind_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--kind", choices=KIND_CHOICES, help=help_text)


def _env_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument(
        "--env",
        metavar="NAME",
        help=f"{text} (an environment of streamkap.toml; default: $STREAMKAP_ENV)",
    )


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
    parser.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="processes that read and validate many files at once (default: one per CPU; "
        "1: a single process)",
    )
    _env_option(parser, "check only this environment's documents, with its variables")
    project = parser.add_mutually_exclusive_group()
    project.add_argument(
        "--project",
        metavar="DIR",
        help="the project whose documents pipelines may name (default: the nearest "
        "directory upward holding streamkap.toml, else streamkap-schemas.lock, else the "
        "git work tree; each file's own)",
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
        epilog="Exit codes: 0 valid; 1 invalid (also an apply refused before any request: "
        "blocked, or a reference unset); 2 usage error or unreadable file; 3 schema "
        "unavailable, or an apply stopped by a failed request; 4 plan --detailed-exitcode: "
        "something would change.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _common(parser, suppress=False)
    return parser


def build_parser() -> argparse.ArgumentParser:
    with _building():
        return _build_parser()


def validate_parser() -> argparse.ArgumentParser:
    with _building():
        return _validate_parser()


def _build_parser() -> argparse.ArgumentParser:
    parser = _root_parser(
        "streamkap-config",
        "Validate Streamkap sources, destinations, transforms and pipelines, build their "
        "request bodies, and plan and apply them against the live account.",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "validate", help="validate source, destination, transform and pipeline files"
    )
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
    _env_option(p, "resolve ${var:NAME} from this environment")
    p.add_argument(
        "--allow-env",
        metavar="PATTERNS",
        default=os.environ.get("STREAMKAP_ALLOW_ENV"),
        help="comma-separated globs of the variables ${env:NAME} may read "
        "(default: $STREAMKAP_ALLOW_ENV, else all)",
    )

    for name, text in (
        ("plan", "what applying the files would change in the live account"),
        ("apply", "create and update what the files describe (never deletes)"),
        ("status", "each document's live object: its status, desired state and tasks"),
    ):
        p = sub.add_parser(name, help=text)
        _common(p, suppress=True)
        _api_option(p)
        p.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help=f"files or directories whose documents to {name}"
            + " (default: the whole project, or environment)",
        )
        scope = p.add_mutually_exclusive_group()
        scope.add_argument(
            "--project",
            metavar="DIR",
            help="the project whose documents pipelines may name (default: as validate)",
        )
        scope.add_argument(
            "--no-project",
            action="store_true",
            help="read only the files given: pipelines name what they join by id",
        )
        _env_option(p, "the environment whose account and variables to use")
        if name == "status":
            p.add_argument(
                "--format",
                choices=("text", "json"),
                default="text",
                help="text: a line per document; json: for scripts",
            )
            continue
        p.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="also name each document's secrets (never compared) when nothing changes",
        )
        p.add_argument(
            "--allow-env",
            metavar="PATTERNS",
            default=os.environ.get("STREAMKAP_ALLOW_ENV"),
            help="comma-separated globs of the variables ${env:NAME} may read",
        )
        p.add_argument(
            "--update-secrets",
            action="store_true",
            help="update every live object that holds a secret, even when nothing else "
            "differs (rotation: secrets cannot be compared; every update sends them)",
        )
        p.add_argument(
            "--prune",
            action="store_true",
            help="also delete live objects this project owns ([prune] in streamkap.toml) "
            "that no document describes"
            + ("" if name == "plan" else "; asks again on a terminal, naming them"),
        )
        if name == "plan":
            p.add_argument(
                "--format",
                choices=("text", "json"),
                default="text",
                help="text: a diff for people; json: for scripts",
            )
            p.add_argument(
                "--detailed-exitcode",
                action="store_true",
                help="exit 0 when nothing would change, 4 when something would",
            )
        else:
            p.add_argument("--yes", action="store_true", help="apply without asking")
            p.add_argument(
                "--wait",
                action="store_true",
                help="then poll each connector written until it is Active (or Broken: exit 3)",
            )
            p.add_argument(
                "--timeout",
                type=parse_duration,
                default=600.0,
                metavar="DURATION",
                help="how long --wait waits: 90s, 10m, 1h (default: 10m; past it: exit 3)",
            )
            p.add_argument(
                "--poll",
                type=parse_duration,
                default=5.0,
                metavar="DURATION",
                help=argparse.SUPPRESS,
            )
            p.add_argument(
                "--parallelism",
                type=int,
                default=8,
                metavar="N",
                help="requests in flight at most, within each dependency level (default: 8)",
            )
            p.add_argument(
                "--skip-blocked",
                action="store_true",
                help="leave out changes that cannot be made (a set-once key differs, a "
                "pipeline needs what is not live, a delete is still used)",
            )

    p = sub.add_parser("import", help="write the live account's objects as files")
    _common(p, suppress=True)
    _api_option(p)
    p.add_argument("dir", metavar="DIR", help="where the files go (<kind>s/<name>.yaml)")
    p.add_argument(
        "--kind",
        action="append",
        choices=(*KIND_CHOICES, "pipeline"),
        help="only this kind (repeatable; default: all)",
    )
    p.add_argument("--name", metavar="GLOB", help="only objects whose name matches")
    p.add_argument("--project", metavar="DIR", help="the project DIR belongs to (default: found)")
    _env_option(p, "the environment whose account to read")
    p.add_argument("--nested", action="store_true", help="nest keys on their first dot")
    p.add_argument("--force", action="store_true", help="write over files in the way")

    p = sub.add_parser("completion", help="print the shell completion script of both commands")
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell to complete in")

    p = sub.add_parser("new", help="write a commented starting file for one connector")
    _common(p, suppress=True)
    p.add_argument("kind", choices=KIND_CHOICES, help="the kind of document")
    p.add_argument("connector", metavar="CONNECTOR", help="its connector code (transform type)")
    p.add_argument(
        "--output", "-o", metavar="FILE", help="write it there (never over a file; default: stdout)"
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
        "--output",
        "-o",
        metavar="FILE",
        default=None,
        help="lock file path (default: ./streamkap-schemas.lock)",
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
