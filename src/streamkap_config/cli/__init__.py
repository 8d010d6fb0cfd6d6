"""The command line: ``streamkap-config`` and ``streamkap-validate``.

Thin: parses arguments, calls the layers, picks an exit code.

Exit codes: 0 valid (warnings allowed), 1 invalid (a file that does not parse
is invalid too), 2 usage error or unreadable file, 3 schema unavailable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..core.errors import LoadError, SchemaUnavailableError, StreamkapConfigError
from .common import EXIT_OK, EXIT_SCHEMA, EXIT_USAGE, KIND_CHOICES, err
from .parser import build_parser, validate_parser

__all__ = ["KIND_CHOICES", "console_main", "console_validate", "main", "validate_main"]


def _dispatch(args: argparse.Namespace) -> int:
    from .deploy import run_apply, run_import, run_plan, run_status
    from .documents import run_payload, run_validate
    from .schemas import run_new, run_schemas

    if args.command == "plan":
        return run_plan(args)
    if args.command == "apply":
        return run_apply(args)
    if args.command == "status":
        return run_status(args)
    if args.command == "import":
        return run_import(args)

    if args.command == "validate":
        return run_validate(args)
    if args.command == "payload":
        return run_payload(args)
    if args.command == "new":
        return run_new(args)
    if args.command == "completion":
        from argcomplete.shell_integration import shellcode

        names = ["streamkap-config", "streamkap-validate"]
        sys.stdout.write(shellcode(names, shell=args.shell))
        return EXIT_OK
    return run_schemas(args)


def _guarded(run: Any, args: argparse.Namespace, prog: str) -> int:
    from .common import COLOR

    COLOR["mode"] = getattr(args, "color", None) or "auto"
    try:
        return int(run(args))
    except SchemaUnavailableError as exc:
        err(f"{prog}: error: {exc}")
        return EXIT_SCHEMA
    except LoadError as exc:
        err(f"{prog}: error: {exc}")
        return EXIT_USAGE
    except StreamkapConfigError as exc:
        from ..core.errors import ApiError

        err(f"{prog}: error: {exc}")
        return EXIT_SCHEMA if isinstance(exc, ApiError) else EXIT_USAGE
    except KeyboardInterrupt:
        err(f"{prog}: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:
        err(f"{prog}: error: {exc}")
        return EXIT_USAGE


def _tolerant_streams() -> None:
    # A file name that is not UTF-8, or a lone surrogate read from JSON, is printed
    # escaped rather than crashing the writer.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion (argcomplete): only when a shell asks, so it costs no import."""
    import os

    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """``streamkap-config``: validate, payload, plan, apply, new and schemas commands."""
    _tolerant_streams()
    parser = build_parser()
    _complete(parser)
    args = parser.parse_args(argv)
    return _guarded(_dispatch, args, "streamkap-config")


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``streamkap-validate``: the standalone validator (the pre-commit entry point)."""
    from .documents import run_validate

    _tolerant_streams()
    parser = validate_parser()
    _complete(parser)
    args = parser.parse_args(argv)
    return _guarded(run_validate, args, "streamkap-validate")


def console_main() -> None:
    """The ``streamkap-config`` console script: :func:`main`, then :func:`_leave`."""
    _fewer_collections()
    _leave(main())


def console_validate() -> None:
    """The ``streamkap-validate`` console script: :func:`validate_main`, then :func:`_leave`."""
    _fewer_collections()
    _leave(validate_main())


#: Allocations between two collections of the youngest generation (Python's default: 700).
GC_THRESHOLD = 100_000


def _fewer_collections() -> None:
    """Look for reference cycles a hundred times less often than Python's default.

    Reading and checking files builds no cycle (tests/test_parallel.py), yet the
    collector scans the growing set of results every 700 allocations: 4 to 5 % of a
    run over 500 files (tools/bench_ab.py). Cycles are still collected, every
    :data:`GC_THRESHOLD` allocations, so memory stays bounded. Only the console
    scripts do this; the library leaves its caller's collector alone.
    """
    import gc

    gc.set_threshold(GC_THRESHOLD, 50, 100)


def _leave(code: int) -> None:
    """End the process with ``code`` once the output is out, without tearing down the
    interpreter: freeing every module and object costs about 8 ms of a 70 ms run, and
    the command runs on every commit. Everything the commands write is closed by the
    time they return (files are written whole and renamed; clients are closed), and
    nothing they leave to ``atexit`` matters once the streams are flushed."""
    import contextlib
    import os

    # A reader that left (`| head`) has no use for the rest.
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
