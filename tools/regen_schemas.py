"""Regenerate the bundled snapshot in ``schemas/``.

    python tools/regen_schemas.py --from-dir ../shared/connectors
    python tools/regen_schemas.py --from-api https://api.streamkap.com  # needs credentials
    python tools/regen_schemas.py --check          # exit 1 if schemas/ is stale

Definitions come from a folder holding ``sources/``, ``destinations/`` and
``transforms/`` folders of ``<code>.json`` files (the
``GET /sources/connectors?connector_code=...`` response shape), or from a live
API (sources and destinations; transforms then come from the current bundle).
``--check`` regenerates the schemas from the bundled definitions in memory and
fails when any byte would change. The snapshot date is kept when nothing
but the date would change, so regenerating is idempotent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from streamkap_config.core.kinds import KINDS
from streamkap_config.schemas.bundle import MANIFEST, render_snapshot
from streamkap_config.schemas.cache import connector_definitions
from streamkap_config.schemas.definitions import ConnectorDefinition, parse_definitions

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"


def from_dir(folder: Path) -> list[ConnectorDefinition]:
    """Every definition under ``folder``: one sub-folder per kind (``sources/`` ...)."""
    defs = []
    for kind in KINDS.values():
        sub = folder / kind.plural
        for path in sorted(sub.glob("*.json")) if sub.is_dir() else ():
            if path.name in ("index.json", MANIFEST) or path.name.endswith(".schema.json"):
                continue
            code = path.name.removesuffix(".definition.json").removesuffix(".json")
            raw = json.loads(path.read_bytes())
            defs.extend(parse_definitions(raw, code=code, kind=kind.name))
    if not defs:
        raise SystemExit(f"no connector definitions found in {folder}")
    return defs


def from_api(base_url: str) -> list[ConnectorDefinition]:
    from streamkap_config.remote.client import StreamkapClient

    defs: list[ConnectorDefinition] = []
    with StreamkapClient.from_env(base_url=base_url) as client:
        for kind in KINDS.values():
            if kind.definitions_path is not None:
                defs.extend(connector_definitions(client, kind=kind.name))
    # No endpoint serves transforms: keep the bundled ones.
    defs.extend(_bundled_without_endpoint())
    return defs


def _bundled_without_endpoint() -> list[ConnectorDefinition]:
    from streamkap_config.schemas.bundle import bundled_schemas

    return [
        version.definition
        for kind in KINDS.values()
        if kind.definitions_path is None
        for version in bundled_schemas(kind.name).values()
    ]


def current_manifest(target: Path) -> dict | None:
    try:
        return json.loads((target / MANIFEST).read_bytes())
    except (OSError, ValueError):
        return None


def render(defs: list[ConnectorDefinition], target: Path, date: str | None) -> dict[str, bytes]:
    old = current_manifest(target)
    if date is None and old is not None:
        # Keep the old date when only the date would change.
        trial = render_snapshot(defs, old.get("snapshot_date", ""))
        if trial[MANIFEST] == (target / MANIFEST).read_bytes():
            return trial
    return render_snapshot(defs, date or dt.date.today().isoformat())


def relock_examples() -> None:
    """The example projects pin the bundled versions: pin the new ones."""
    import subprocess

    for lock in sorted((ROOT / "examples").rglob("streamkap-schemas.lock")):
        code = (
            "import sys, tempfile\n"
            "from streamkap_config import SchemaCache\n"
            "SchemaCache(tempfile.mkdtemp()).write_lock(sys.argv[1])\n"
        )
        subprocess.run([sys.executable, "-c", code, str(lock)], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from-dir", type=Path, help="folder of <code>.json definitions")
    source.add_argument("--from-api", metavar="URL", help="fetch every connector from this API")
    parser.add_argument("--out", type=Path, default=SCHEMAS, help="snapshot folder (schemas/)")
    parser.add_argument("--date", help="snapshot date to record (default: today)")
    parser.add_argument("--check", action="store_true", help="fail if regenerating changes bytes")
    args = parser.parse_args(argv)

    defs = from_api(args.from_api) if args.from_api else from_dir(args.from_dir or args.out)
    files = render(defs, args.out, args.date)
    stale = sorted(
        name
        for name, data in files.items()
        if not (args.out / name).is_file() or (args.out / name).read_bytes() != data
    )
    extra = (
        sorted(
            name
            for name in (p.relative_to(args.out).as_posix() for p in args.out.rglob("*.json"))
            if name not in files
        )
        if args.out.is_dir()
        else []
    )
    if args.check:
        if stale or extra:
            print(f"schemas/ is stale: {', '.join(stale + extra)}", file=sys.stderr)
            return 1
        print(f"schemas/ is current ({len(defs)} connectors)")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name in extra:
        (args.out / name).unlink()
    for name, data in files.items():
        (args.out / name).parent.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_bytes(data)
    if args.out.resolve() == SCHEMAS.resolve():
        relock_examples()
    print(
        f"wrote {len(files)} files for {len(defs)} connectors to {args.out.name}/"
        f" ({len(stale)} changed, {len(extra)} removed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
