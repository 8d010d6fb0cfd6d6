"""What the hand-written records save on every command-line run, against dataclasses.

    python3 tools/bench_records.py [--runs 21]

Three copies of the package, each compiled to bytecode first: as it is
(``core/records.py``), with ``record`` as ``dataclasses.dataclass``, and with
``dataclasses.dataclass(slots=True)`` (for every class that has no
``cached_property``, which needs an instance ``__dict__``). Each run is a fresh
``python -m streamkap_config.cli validate`` of one example file; the copies
alternate run by run, and the medians are printed. The records are kept only
while they save more than 5 ms a run (issue 23).
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "postgresql.source.yaml"
CALL = "import sys; from streamkap_config.cli import console_main; sys.exit(console_main())"

SHIM = '''"""Records as dataclasses: the variant measured by tools/bench_records.py."""
import dataclasses
from dataclasses import FrozenInstanceError, field, replace
from functools import cached_property

__all__ = ["FrozenInstanceError", "field", "record", "replace"]
SLOTS = {slots}


def record(cls=None, /, *, frozen=False):
    def wrap(c):
        slots = SLOTS and not any(isinstance(v, cached_property) for v in vars(c).values())
        return dataclasses.dataclass(c, frozen=frozen, slots=slots)

    return wrap(cls) if cls is not None else wrap
'''


def copy(work: Path, name: str, records: str | None) -> Path:
    target = work / name
    shutil.copytree(ROOT / "src", target, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "schemas", target / "streamkap_config" / "_schemas")  # as installed
    if records is not None:
        (target / "streamkap_config" / "core" / "records.py").write_text(records)
    compileall.compile_dir(str(target), quiet=1)
    return target


def once(path: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(path), "NO_COLOR": "1"}
    env["STREAMKAP_CONFIG_CACHE"] = str(path / ".cache")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CALL, "validate", str(EXAMPLE)],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"{path.name}: exit {out.returncode}\n{out.stdout}{out.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    try:
        variants = {
            "records (as shipped)": copy(work, "records", None),
            "dataclasses": copy(work, "dataclasses", SHIM.format(slots=False)),
            "dataclasses, slots=True": copy(work, "slots", SHIM.format(slots=True)),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for path in variants.values():
            once(path)  # warm the disk cache
        for _ in range(args.runs):
            for name, path in variants.items():
                times[name].append(once(path))
    finally:
        shutil.rmtree(work)
    base = statistics.median(times["records (as shipped)"])
    print(f"validate one file, fresh process, {args.runs} runs each, alternating; medians:")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:26} {median * 1000:7.1f} ms  ({(median - base) * 1000:+.1f} ms)")


if __name__ == "__main__":
    main()
