"""Plan and apply at scale against the strict emulator with a latency per request.

    python3 tools/bench_deploy.py [--latency 0.05] [--sizes 100,1000] [--runs 1]

For each size N it writes an estate of N documents (45 % PostgreSQL sources, 5 %
S3 destinations, 50 % pipelines, one per source), then measures, against
``tests/emulator.py`` answering each request after ``--latency`` seconds:

- the first apply with ``--parallelism 1`` and with the default 8 (each on a fresh
  emulator): requests sent, wall time, the most requests in flight at once;
- plan of the applied estate (N documents against an account of N objects):
  requests and wall time.

Times are medians over ``--runs``; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emulator import TOKEN, running  # noqa: E402
from streamkap_config import validate_project  # noqa: E402
from streamkap_config.deploy.plan import DEFAULT_PARALLELISM, apply, plan  # noqa: E402
from streamkap_config.project.validate import project_files  # noqa: E402
from streamkap_config.remote.client import StreamkapClient  # noqa: E402

ENV = {
    "PG_PASSWORD": "pg",
    "AWS_ACCESS_KEY_ID": "AKIA",
    "AWS_SECRET_ACCESS_KEY": "aws",
}


def estate(root: Path, size: int) -> Path:
    example = ROOT / "examples" / "project"
    sources, destinations = size * 45 // 100, max(1, size * 5 // 100)
    for folder in ("sources", "destinations", "pipelines"):
        (root / folder).mkdir(parents=True)
    source = (example / "sources" / "orders-postgres.yaml").read_text()
    lake = (example / "destinations" / "lake-s3.yaml").read_text()
    for n in range(destinations):
        (root / "destinations" / f"d{n}.yaml").write_text(
            lake.replace("name: lake-s3", f"name: lake-{n:04}")
        )
    for n in range(sources):
        (root / "sources" / f"s{n}.yaml").write_text(
            source.replace("name: orders-postgres", f"name: src-{n:04}")
        )
    for n in range(size - sources - destinations):
        (root / "pipelines" / f"p{n}.yaml").write_text(
            f"kind: pipeline\nname: pipe-{n:04}\nsource:\n  name: src-{n % sources:04}\n"
            f"  topics: [public.orders]\ndestination:\n  name: lake-{n % destinations:04}\n"
        )
    return root


def measure(root: Path, parallelism: int, latency: float) -> dict[str, float]:
    project = validate_project(project_files(root), root=root)
    with running() as emulator:
        client = StreamkapClient(emulator.url, token=TOKEN, timeout=30, deadline=600)
        the_plan = plan(project, client, environ=ENV)
        emulator.latency = latency
        emulator.requests.clear()
        start = time.perf_counter()
        result = apply(the_plan, client, environ=ENV, parallelism=parallelism)
        applied = time.perf_counter() - start
        assert result.ok, result.format()
        sent, in_flight = len(emulator.requests), emulator.max_in_flight
        emulator.requests.clear()
        start = time.perf_counter()
        again = plan(project, client, environ=ENV)
        planned = time.perf_counter() - start
        assert not again.has_changes
        client.close()
        return {
            "apply_s": applied,
            "apply_requests": sent,
            "in_flight": in_flight,
            "plan_s": planned,
            "plan_requests": len(emulator.requests),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms a request; medians of {args.runs} run(s)")
    header = "| documents | parallelism | apply requests | apply s | most in flight |"
    print(header + " plan requests | plan s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            root = estate(Path(tmp) / "estate", size)
            walls: dict[int, float] = {}
            for parallelism in (1, DEFAULT_PARALLELISM):
                runs = [measure(root, parallelism, args.latency) for _ in range(args.runs)]
                row = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                walls[parallelism] = row["apply_s"]
                print(
                    f"| {size} | {parallelism} | {row['apply_requests']:.0f} | "
                    f"{row['apply_s']:.1f} | {row['in_flight']:.0f} | "
                    f"{row['plan_requests']:.0f} | {row['plan_s']:.2f} |"
                )
            ratio = walls[1] / walls[DEFAULT_PARALLELISM]
            print(f"|  | apply speed-up | {ratio:.1f}x |  |  |  |  |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
