"""Benchmark: wall time of `streamkap-validate` next to `check-jsonschema` and the floor.

    pip install '.[bench]'          # check-jsonschema and ruamel.yaml.clib
    python tools/bench_cli.py [--runs 7] [--big 10000]

Both tools get the same bare PostgreSQL configs written with the API's dotted
keys (so both validate the same thing): check-jsonschema with
``--schemafile`` pointing at our generated JSON Schema for PostgreSQL,
streamkap-validate with ``--connector postgresql``; both with ``-q``.
streamkap-validate runs as installed: from 32 files on it shares the work with
forked workers, one per CPU; check-jsonschema runs in one process, so the
``ours -j1`` columns give ours with ``--jobs 1`` too. Cases:
1 file, and 500 files of which 10 % are invalid. check-jsonschema runs twice:
with ruamel.yaml's C loader (``ruamel.yaml.clib``, its best configuration) and
with its pure-Python parser (the C module blocked). The floor is what no
validator can beat: for 1 file ``python -c "import yaml"``; for 500 files
starting Python and ``yaml.load(f, Loader=yaml.CSafeLoader)`` over the same
files, nothing else. Each command runs ``--runs`` times, alternating; the table
gives medians and ratios. Everything runs from the same Python with bytecode
compiled. ``--big N`` adds a generated monorepo of N files of every kind
(sources, destinations, transforms; 5 % invalid) for streamkap-validate alone:
its time and per-file cost next to the floor, to show it stays linear.

Whole documents: files as users write them (``name``, ``connector``, ``config``;
half with nested keys and short spellings, ``database: {hostname: ...}``, half
with dotted API keys; about 12 optional keys each; 10 % invalid), 500 files:
PostgreSQL sources, Iceberg destinations, and a mix of five connectors. Here
check-jsonschema gets our editor schema of each connector (``schemas export``:
the whole document, every spelling); for the mix it runs once per connector over
that connector's files, and its time is the sum (a user would have to).

The project row: 300 sources, 50 destinations and 300 pipelines in one project.
The CLI validates it in one run; next to it, in one process, the same loaded
documents validated alone (``validate_document`` each) and as a project
(``validate_project``: the same plus every cross-document check).
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
    settable = version.definition.properties
    required = {p.name for p in settable if p.required and not p.conditions}
    optional = [p for p in settable if not p.required and not p.conditions and p.has_default]
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
        assert required <= set(config)
        for p in rng.sample(optional, 12):
            config[p.name] = p.default
        if count > 1 and n % 10 == 0:  # 10 % invalid
            config["database.port.user.defined"] = "not-a-port"
            config["database.sslmode"] = "requir"
        path = folder / f"source{n:03d}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        paths.append(str(path))
    return paths


MIX = (
    ("source", "postgresql"),
    ("source", "mysql"),
    ("source", "mongodb"),
    ("destination", "snowflake"),
    ("destination", "iceberg"),
)


def user_shaped(config: dict[str, object], nested: bool) -> dict[str, object]:
    """A config as a user writes it: short spellings, nested on their first dot."""
    from streamkap_config.deploy.importer import nest_keys
    from streamkap_config.schemas.definitions import strip_suffix

    if not nested:
        return config
    return nest_keys({strip_suffix(k): v for k, v in config.items()})


def write_documents(
    folder: Path, count: int, mix: tuple[tuple[str, str], ...], rng: random.Random
) -> dict[tuple[str, str], list[str]]:
    """``count`` whole documents over ``mix``, 10 % invalid; the files of each connector."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_validate import documents
    from streamkap_config import validate_document

    templates = {}
    for pair in mix:  # the generator's documents that are what they claim to be
        valid, invalid = documents(*pair, rng)
        valid = [d for d in valid if validate_document(d).ok]
        templates[pair] = (valid, [d for d in invalid if not validate_document(d).ok])
    written: dict[tuple[str, str], list[str]] = {pair: [] for pair in mix}
    for n in range(count):
        pair = mix[n % len(mix)]
        valid, invalid = templates[pair]
        pool = invalid if n % 10 == 0 else valid
        base = pool[n % len(pool)]
        doc = {k: v for k, v in base.items() if k != "kind" or v != "source"}
        doc["name"] = f"{pair[1]}-{n}"
        doc["config"] = user_shaped(dict(base["config"]), nested=n % 2 == 0)
        path = folder / f"{pair[1]}{n:04d}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        written[pair].append(str(path))
    return written


def write_monorepo(folder: Path, count: int, rng: random.Random) -> None:
    """``count`` files of every kind under streamkap/<kind>s/, 5 % of them invalid."""
    from streamkap_config import KINDS

    for n in range(count):
        kind = ("source", "destination", "transform")[n % 3]
        code = {"source": "s3", "destination": "snowflake", "transform": "map_filter"}[kind]
        config: dict[str, object] = {
            "source": {"format": "json", "aws.s3.region": "eu-west-1"},
            "destination": {
                "snowflake.url.name": "acme.snowflakecomputing.com",
                "snowflake.user.name": "U",
                "snowflake.private.key": "${env:SF_KEY}",
                "snowflake.database.name": "DB",
                "snowflake.schema.name": f"S{n}",
            },
            "transform": {"transforms.language": "Python"},
        }[kind]
        if rng.random() < 0.05:
            config = {**config, "unknown.key": 1}
        doc = {
            "kind": kind,
            "name": f"{kind}-{n}",
            KINDS[kind].code_field: code,
            "config": config,
        }
        sub = folder / "streamkap" / KINDS[kind].plural / f"d{n // 500:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{kind}{n:05d}.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start


FLOOR_ONE = "import yaml"
FLOOR_MANY = (
    "import sys, yaml\n"
    "for name in sys.argv[1:]:\n"
    "    with open(name, 'rb') as f:\n"
    "        yaml.load(f, Loader=yaml.CSafeLoader)\n"
)
FLOOR_TREE = (
    "import os, sys, yaml\n"
    "for root, _, files in os.walk(sys.argv[1]):\n"
    "    for name in files:\n"
    "        with open(os.path.join(root, name), 'rb') as f:\n"
    "            yaml.load(f, Loader=yaml.CSafeLoader)\n"
)
# check-jsonschema with ruamel.yaml's C extension blocked: its pure-Python parser.
PURE = (
    "import sys\n"
    "sys.modules['_ruamel_yaml'] = None\n"
    "from check_jsonschema import main\n"
    "sys.exit(main())\n"
)


def versions() -> list[str]:
    from importlib.metadata import version

    try:
        import _ruamel_yaml  # noqa: F401

        clib = f"ruamel.yaml.clib {version('ruamel.yaml.clib')}"
    except ImportError:
        clib = "no ruamel.yaml.clib"
    return [
        f"Python {sys.version.split()[0]}",
        f"streamkap-config {streamkap_config.__version__} (PyYAML {yaml.__version__}, "
        f"libyaml {'yes' if getattr(yaml, '__with_libyaml__', False) else 'no'})",
        f"check-jsonschema {version('check-jsonschema')} "
        f"(ruamel.yaml {version('ruamel.yaml')}, {clib})",
    ]


def medians(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    for cmd in commands.values():
        timed(cmd, env)  # warm the page cache
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            times[label].append(timed(cmd, env))
    return {label: statistics.median(t) for label, t in times.items()}


def write_project(folder: Path) -> None:
    """300 sources, 50 destinations, 300 pipelines (each source's tables as topics)."""
    folder.mkdir(parents=True)
    (folder / "streamkap-schemas.lock").write_text("{}")  # a project of its own
    for kind in ("sources", "destinations", "pipelines"):
        (folder / kind).mkdir(parents=True)
    for n in range(300):
        source = {
            "name": f"src{n}",
            "connector": "postgresql",
            "config": {
                "database.hostname": f"db{n}",
                "database.user": "u",
                "database.password": "${env:P}",
                "database.dbname": "d",
                "schema.include.list": "public",
                "table.include.list": f"public\\.orders_{n}, public\\.items_{n}",
            },
        }
        (folder / "sources" / f"src{n}.yaml").write_text(yaml.safe_dump(source))
        pipeline = {
            "kind": "pipeline",
            "name": f"pipe{n}",
            "source": {"name": f"src{n}", "topics": [f"public.orders_{n}", f"public.items_{n}"]},
            "destination": {"name": f"dst{n % 50}"},
            "snapshot_new_tables": True,
        }
        (folder / "pipelines" / f"pipe{n}.yaml").write_text(yaml.safe_dump(pipeline))
    for n in range(50):
        destination = {
            "kind": "destination",
            "name": f"dst{n}",
            "connector": "snowflake",
            "config": {
                "snowflake.url.name": "u",
                "snowflake.user.name": "n",
                "snowflake.private.key": "${env:K}",
                "snowflake.database.name": "d",
                "snowflake.schema.name": f"s{n}",
            },
        }
        (folder / "destinations" / f"dst{n}.yaml").write_text(yaml.safe_dump(destination))


def bench_project(root: Path, env: dict[str, str], runs: int) -> None:
    from streamkap_config import validate_document, validate_project
    from streamkap_config.loaders import load_file
    from streamkap_config.project.validate import project_files

    folder = root / "project"
    write_project(folder)
    cli = medians({"cli": [str(BIN / "streamkap-validate"), "-q", str(folder)]}, env, runs)
    files = project_files(folder)
    alone, together = [], []
    for _ in range(runs):
        loaded = [load_file(f) for f in files]
        start = time.perf_counter()
        for one in loaded:
            for doc in one.documents:
                validate_document(doc)
        alone.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = validate_project(loaded)
        together.append(time.perf_counter() - start)
        assert result.ok, result.issues[:3]
    a, t = statistics.median(alone), statistics.median(together)
    print(
        f"project of 300 sources, 50 destinations, 300 pipelines: CLI {cli['cli']:.3f} s; "
        f"documents alone {a:.3f} s, as a project {t:.3f} s, {t / a:.2f}x"
    )


def bench_documents(root: Path, env: dict[str, str], runs: int, rng: random.Random) -> None:
    """Whole documents as users write them, against check-jsonschema with our editor schemas."""
    from streamkap_config.schemas.editor import editor_schema

    py = sys.executable
    checker = str(BIN / "check-jsonschema")
    print()
    print("whole documents (name, connector, config; nested and dotted; 10% invalid)")
    print(
        f"{'case':<30} {'floor':>7} {'cjs clib':>9} {'ours':>7} {'cjs clib/ours':>14}"
        f" {'ours/floor':>11}"
    )
    cases = (
        ("500 PostgreSQL sources", (("source", "postgresql"),)),
        ("500 Iceberg destinations", (("destination", "iceberg"),)),
        ("500 of 5 connectors", MIX),
    )
    for label, mix in cases:
        folder = root / label.replace(" ", "-")
        folder.mkdir()
        written = write_documents(folder, 500, mix, rng)
        files = [f for paths in written.values() for f in paths]
        commands = {
            "floor": [py, "-c", FLOOR_MANY, *files],
            "ours": [str(BIN / "streamkap-validate"), "-q", "--no-project", *files],
        }
        for kind, code in mix:
            schema = folder / f"{code}.schema.json"
            definition = bundled_schemas(kind)[code].definition
            schema.write_text(json.dumps(editor_schema(definition)))
            commands[f"cjs {code}"] = [checker, "--schemafile", str(schema), "-q"]
            commands[f"cjs {code}"] += written[(kind, code)]
        m = medians(commands, env, runs)
        cjs = sum(v for k, v in m.items() if k.startswith("cjs "))
        print(
            f"{label:<30} {m['floor']:>7.3f} {cjs:>9.3f} {m['ours']:>7.3f}"
            f" {cjs / m['ours']:>13.1f}x {m['ours'] / m['floor']:>10.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--big", type=int, default=0, metavar="N", help="monorepo of N files")
    args = parser.parse_args()
    checker = BIN / "check-jsonschema"
    if not checker.exists():
        raise SystemExit("check-jsonschema is not installed: pip install '.[bench]'")
    compileall.compile_dir(Path(streamkap_config.__file__).parent, quiet=1)
    import check_jsonschema

    compileall.compile_dir(Path(check_jsonschema.__file__).parent, quiet=1)
    rng = random.Random(11)
    py = sys.executable
    print("; ".join(versions()))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        schema = root / "postgresql.schema.json"
        schema.write_text(json.dumps(dict(bundled_schemas()["postgresql"].schema)))
        env = {**os.environ, "STREAMKAP_CONFIG_CACHE": str(root / "cache"), "NO_COLOR": "1"}
        print(f"median of {args.runs} runs, seconds (lower is better)")
        header = (
            f"{'case':<20} {'floor':>7} {'cjs pure':>9} {'cjs clib':>9} {'ours':>7}"
            f" {'cjs clib/ours':>14} {'cjs pure/ours':>14} {'ours/floor':>11}"
            f" {'ours -j1':>9} {'cjs clib/ours -j1':>18}"
        )
        print(header)
        for label, count in (("1 file", 1), ("500 files, 10% bad", 500)):
            folder = root / f"n{count}"
            folder.mkdir()
            files = write_corpus(folder, count, rng)
            floor = [py, "-c", FLOOR_ONE] if count == 1 else [py, "-c", FLOOR_MANY, *files]
            cjs = ["--schemafile", str(schema), "-q", *files]
            ours_args = ["--connector", "postgresql", "-q", *files]
            m = medians(
                {
                    "floor": floor,
                    "pure": [py, "-c", PURE, *cjs],
                    "clib": [str(checker), *cjs],
                    "ours": [str(BIN / "streamkap-validate"), *ours_args],
                    "one": [str(BIN / "streamkap-validate"), "--jobs", "1", *ours_args],
                },
                env,
                args.runs,
            )
            print(
                f"{label:<20} {m['floor']:>7.3f} {m['pure']:>9.3f} {m['clib']:>9.3f}"
                f" {m['ours']:>7.3f} {m['clib'] / m['ours']:>13.1f}x"
                f" {m['pure'] / m['ours']:>13.1f}x {m['ours'] / m['floor']:>10.2f}x"
                f" {m['one']:>9.3f} {m['clib'] / m['one']:>17.1f}x"
            )
        bench_documents(root, env, args.runs, rng)
        bench_project(root, env, args.runs)
        if args.big:
            tree = root / "monorepo"
            write_monorepo(tree, args.big, rng)
            m = medians(
                {
                    "floor": [py, "-c", FLOOR_TREE, str(tree)],
                    "ours": [str(BIN / "streamkap-validate"), "-q", str(tree / "streamkap")],
                },
                env,
                max(3, args.runs // 2),
            )
            per_file = m["ours"] / args.big * 1e3
            print(
                f"{args.big:,} files, every kind: ours {m['ours']:.2f} s "
                f"({per_file:.3f} ms a file), floor {m['floor']:.2f} s, "
                f"ours/floor {m['ours'] / m['floor']:.2f}x"
            )


if __name__ == "__main__":
    main()
