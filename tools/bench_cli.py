"""Benchmark: wall time of `streamkap-validate` next to `check-jsonschema` on the same files.

    pip install '.[bench]'
    python tools/bench_cli.py [--runs 7]

Both tools get the same bare PostgreSQL configs written with the API's dotted
keys (so both validate the same thing): check-jsonschema with
``--schemafile`` pointing at our generated JSON Schema for PostgreSQL,
streamkap-validate with ``--connector postgresql``. Two cases: 1 file, and 500
files of which 10 % are invalid. Each command runs ``--runs`` times,
alternating; the table gives medians and the ratio. Both run from the same
Python, through their installed console scripts, with bytecode compiled.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import streamkap_config
from streamkap_config import bundled_schemas

BIN = Path(sys.executable).parent


def write_corpus(folder: Path, count: int, rng: random.Random) -> list[str]:
    version = bundled_schemas()["postgresql"]
    required = {p.name: p for p in version.definition.properties if p.required}
    optional = [
        p
        for p in version.definition.properties
        if not p.required and not p.conditions and p.has_default
    ]
    paths = []
    for n in range(count):
        config: dict[str, object] = {
            "database.hostname.user.defined": f"db{n}.internal.example.com",
            "database.port.user.defined": 5432,
            "database.user": "streamkap",
            "database.password": "${env:PG_PASSWORD}",
            "database.dbname": f"db{n}",
            "schema.include.list": "public",
            "table.include.list.user.defined": "public.orders,public.customers",
        }
        assert set(required) <= set(config)
        for p in rng.sample(optional, 12):
            config[p.name] = p.default
        if count > 1 and n % 10 == 0:  # 10 % invalid
            config["database.port.user.defined"] = "not-a-port"
            config["database.sslmode"] = "requir"
        path = folder / f"source{n:03d}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        paths.append(str(path))
    return paths


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    checker = BIN / "check-jsonschema"
    if not checker.exists():
        raise SystemExit("check-jsonschema is not installed: pip install '.[bench]'")
    compileall.compile_dir(Path(streamkap_config.__file__).parent, quiet=1)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        schema = root / "postgresql.schema.json"
        schema.write_text(json.dumps(dict(bundled_schemas()["postgresql"].schema)))
        env = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(root / "cache"), "NO_COLOR": "1"}
        print(f"median of {args.runs} runs, seconds (lower is better)")
        print(f"{'case':<22} {'check-jsonschema':>17} {'streamkap-validate':>19} {'ratio':>7}")
        for label, count in (("1 file", 1), ("500 files, 10% bad", 500)):
            folder = root / f"n{count}"
            folder.mkdir()
            files = write_corpus(folder, count, rng)
            theirs_cmd = [str(checker), "--schemafile", str(schema), *files]
            ours_cmd = [str(BIN / "streamkap-validate"), "--connector", "postgresql", "-q", *files]
            timed(theirs_cmd, env), timed(ours_cmd, env)  # warm the page cache
            theirs, ours = [], []
            for _ in range(args.runs):
                theirs.append(timed(theirs_cmd, env))
                ours.append(timed(ours_cmd, env))
            t, o = statistics.median(theirs), statistics.median(ours)
            print(f"{label:<22} {t:>17.3f} {o:>19.3f} {t / o:>6.1f}x")


if __name__ == "__main__":
    main()
