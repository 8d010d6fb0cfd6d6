"""The command line of two versions side by side: a commit against the working tree.

    python3 tools/bench_ab.py                      # HEAD against the working tree
    python3 tools/bench_ab.py --base HEAD~3 --runs 21 --jobs 1

Each version's package goes on ``PYTHONPATH`` (the commit's ``src/`` from
``git archive``, bytecode compiled), and each runs ``streamkap-validate -q
--no-project`` over the same 500 whole documents of ``tools/bench_cli.py``
(PostgreSQL sources, 10 % invalid; ``--bare``: its bare configs with
``--connector postgresql``), alternating, each first every other time, so that a
change in the machine's load falls on both. Medians; the ratio is base / working tree, so
above 1 the working tree is faster. A change worth less than the spread of
one run on a shared machine (a few per cent) shows as about 1.00.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = (
    "import sys\n"
    "from streamkap_config.cli import console_validate\n"
    "sys.argv[0] = 'streamkap-validate'\n"
    "console_validate()\n"
)


def export(rev: str, target: Path) -> Path:
    """The ``src/`` of commit ``rev`` under ``target``, with its ``schemas/`` beside it
    (where a source checkout's package finds its bundled snapshot)."""
    data = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src", "schemas"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        try:
            tar.extractall(target, filter="data")
        except TypeError:  # a Python without extraction filters (before 3.10.12)
            tar.extractall(target)  # our own repository's archive
    return target / "src"


def run(src: Path, args: list[str]) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", RUN, *args], env=env, capture_output=True)


def timed(src: Path, args: list[str]) -> float:
    start = time.perf_counter()
    run(src, args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="HEAD", help="the commit to compare against")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--jobs", type=int, help="streamkap-validate --jobs")
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument(
        "--bare", action="store_true", help="bare PostgreSQL configs (--connector postgresql)"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tools"))
    from bench_cli import write_corpus, write_documents

    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp:
        work = Path(tmp)
        base = export(args.base, work / "base")
        here = ROOT / "src"
        for src in (base, here):
            compileall.compile_dir(src, quiet=1)
        corpus = work / "corpus"
        corpus.mkdir()
        if args.bare:
            files = write_corpus(corpus, args.files, random.Random(7))
            cli = ["-q", "--connector", "postgresql"]
        else:
            pair = ("source", "postgresql")
            written = write_documents(corpus, args.files, (pair,), random.Random(7))
            files = [f for paths in written.values() for f in paths]
            cli = ["-q", "--no-project"]
        cli += [*(["--jobs", str(args.jobs)] if args.jobs else []), *files]
        times: dict[str, list[float]] = {"base": [], "here": []}
        # One warm-up run each, which must do the same work: a version that cannot find
        # its schemas, say, would be timed skipping the checks.
        first, second = (run(src, cli) for src in (base, here))
        if first.returncode != second.returncode or first.returncode not in (0, 1):
            raise SystemExit(
                f"the two versions do not do the same work: exit codes {first.returncode} "
                f"and {second.returncode}\n{first.stderr.decode()[-500:]}"
            )
        pair = (("base", base), ("here", here))
        for n in range(args.runs):  # each goes first every other time: no bias to an order
            for name, src in pair if n % 2 == 0 else pair[::-1]:
                times[name].append(timed(src, cli))
    a, b = (statistics.median(times[k]) for k in ("base", "here"))
    shape = "bare configs" if args.bare else "whole documents"
    print(f"{args.files} {shape}, {args.runs} runs each, medians")
    print(f"base ({args.base}): {a:.3f} s   working tree: {b:.3f} s   base / tree: {a / b:.2f}")


if __name__ == "__main__":
    main()
