"""Benchmark: `schemas pull` against a local API that answers after 100 ms, and a warm
`SchemaCache.get()` plus a ready validator in a fresh process.

    python tools/bench_pull.py [--runs 5]

1. One connector, one request (the baseline), then all 25 connectors one
   request each, 16 at a time (the default): the wall time should stay within 3x a
   single request.
2. In fresh processes: the import of streamkap_config.schemas.cache, then
   ``SchemaCache.get("postgresql")`` on a warm cache plus the compiled
   validator (``Checker.for_definition``), timed separately. Medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from apiserver import ApiServer  # noqa: E402
from streamkap_config import SchemaCache, bundled_schemas  # noqa: E402
from streamkap_config.remote.client import StreamkapClient  # noqa: E402

WARM = """
import json, sys, time
t0 = time.perf_counter()
from streamkap_config.schemas.cache import SchemaCache
from streamkap_config.validation.validate import Checker
t1 = time.perf_counter()
version = SchemaCache(sys.argv[1]).get("postgresql")
assert version.origin == "cache"
Checker.for_definition(version.definition)
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "get": t2 - t1}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    codes = sorted(bundled_schemas())
    with ApiServer(delay=0.1) as server, tempfile.TemporaryDirectory() as tmp:
        client = StreamkapClient(server.url, token="static-token", timeout=10)
        singles, alls = [], []
        for run in range(args.runs):
            cache = SchemaCache(Path(tmp) / f"single{run}")
            start = time.perf_counter()
            cache.pull(["postgresql"], client=client)
            singles.append(time.perf_counter() - start)
            cache = SchemaCache(Path(tmp) / f"all{run}")
            start = time.perf_counter()
            results = cache.pull(codes, client=client, concurrency=16)
            alls.append(time.perf_counter() - start)
            assert all(r.status == "updated" for r in results), results
        single, every = statistics.median(singles), statistics.median(alls)
        print(f"server delay 100 ms; median of {args.runs} runs")
        print(f"  pull 1 connector:                  {single * 1000:7.1f} ms")
        print(
            f"  pull {len(codes)} connectors, 16 at a time: {every * 1000:7.1f} ms"
            f"  ({every / single:.2f}x one request)"
        )

        warm_dir = str(Path(tmp) / "all0")
        env = {**os.environ}
        imports, gets = [], []
        for _ in range(max(args.runs, 7)):
            out = subprocess.run(
                [sys.executable, "-c", WARM, warm_dir],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            timing = json.loads(out.stdout)
            imports.append(timing["import"])
            gets.append(timing["get"])
        print(f"fresh process, median of {len(gets)}:")
        imported, got = statistics.median(imports) * 1000, statistics.median(gets) * 1000
        print(f"  import streamkap_config.schemas.cache + validate: {imported:6.1f} ms")
        print(f"  warm SchemaCache.get + ready validator:   {got:6.1f} ms")


if __name__ == "__main__":
    main()
