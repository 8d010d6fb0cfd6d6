"""Benchmark: validations per second through ``validate_document`` (expansion,
checks and payload) next to a bare ``jsonschema.Draft202012Validator(schema).iter_errors``
over the same generated schema and the same documents, for a source (PostgreSQL,
54 keys) and a destination (Iceberg, 57 keys) by default.

    python tools/bench_validate.py [--rounds 7] [--seconds 0.5] [--only KIND/CODE ...]

Documents: minimal (required keys only), complete (required plus about half the
optional keys) and fully specified (every user-settable key), written with the
API's canonical dotted keys as a GET answer carries them; the invalid set is the
same documents with one or two mistakes each (wrong type, a value outside an
enum, an unknown key, a missing required key). "invalid, cold" forgets the
memoised close-name suggestions before every document. Reports medians.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator

from streamkap_config import KINDS, bundled_schemas, validate_document
from streamkap_config.schemas.definitions import Property
from streamkap_config.validation.keys import KeyIndex


def value_for(prop: Property, rng: random.Random) -> Any:
    if prop.has_default:
        return prop.default
    if prop.kind == "integer":
        lo = prop.minimum if prop.minimum is not None else 1
        hi = prop.maximum if prop.maximum is not None else 65535
        return rng.randint(int(lo), int(hi))
    if prop.kind == "boolean":
        return rng.random() < 0.5
    if prop.kind == "enum":
        return rng.choice(prop.raw_values)
    if prop.kind == "array":
        return []
    if prop.secret:
        return "${env:PG_PASSWORD}"
    return f"value-{rng.randint(0, 999)}"


def documents(
    kind: str, code: str, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    version = bundled_schemas(kind)[code]
    props = [p for p in version.definition.properties if p.user_defined and not p.readonly]
    unconditioned = [p for p in props if not p.conditions]
    gates = {c.config: c.value for p in props for c in p.conditions}
    code_field = KINDS[kind].code_field
    valid = []
    for n in range(30):
        shape = n % 3
        config: dict[str, Any] = {}
        for p in unconditioned:
            if p.required or shape == 2 or (shape == 1 and rng.random() < 0.5):
                config[p.name] = value_for(p, rng)
        if shape == 2:
            config.update({g: v for g, v in gates.items() if not isinstance(v, list)})
            for p in props:
                if p.conditions and p.name not in config:
                    config[p.name] = value_for(p, rng)
        body = {"name": f"{kind}-{n}", code_field: code, "config": config}
        valid.append({"kind": kind, **body})
    invalid = []
    required = [p.name for p in props if p.required and not p.conditions]
    integers = [p.name for p in unconditioned if p.kind == "integer"]
    enums = [p for p in unconditioned if p.kind == "enum" and isinstance(p.raw_values[0], str)]
    for n, doc in enumerate(valid):
        bad = copy.deepcopy(doc)
        cfg = bad["config"]
        mistake = n % 4
        if mistake == 0 and integers:
            cfg[integers[n % len(integers)]] = "not-a-number"
        elif mistake == 1 and enums:
            enum = enums[n % len(enums)]
            cfg[enum.name] = str(enum.raw_values[0])[:-1] or "x"
        elif mistake == 2 or not required:
            cfg[rng.choice(sorted(cfg) or ["key"]) + "x"] = "typo"
        else:
            del cfg[rng.choice(required)]
        if n % 2 and enums:
            cfg[enums[0].name] = "maybe"
        invalid.append(bad)
    return valid, invalid


def rate(fn: Callable[[dict[str, Any]], Any], docs: list[dict[str, Any]], seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for doc in docs:
            fn(doc)
        count += len(docs)
    return count / (time.perf_counter() - start)


def bench(kind: str, code: str, rounds: int, seconds: float) -> None:
    valid, invalid = documents(kind, code, random.Random(7))
    schema = bundled_schemas(kind)[code].schema
    bare_validator = Draft202012Validator(schema)

    def bare(doc: dict[str, Any]) -> list[Any]:
        return list(bare_validator.iter_errors(doc["config"]))

    def ours(doc: dict[str, Any]) -> Any:
        result = validate_document(doc)
        return result.payload, result.issues

    def ours_cold(doc: dict[str, Any]) -> Any:
        # Forget memoised key suggestions: every typo is new.
        for index in KeyIndex._cache.values():
            index._memo.clear()
        return ours(doc)

    for doc in valid:
        assert validate_document(doc).ok and not bare(doc), doc
    for doc in invalid:
        assert not validate_document(doc).ok and bare(doc)

    name = bundled_schemas(kind)[code].display_name
    print(
        f"{name} {kind} schema: {len(schema['properties'])} keys; "
        f"{len(valid)} valid and {len(invalid)} invalid documents; "
        f"median of {rounds} rounds of {seconds}s"
    )
    print(f"{'documents':<14} {'jsonschema /s':>14} {'streamkap-config /s':>20} {'ratio':>7}")
    cases = (
        ("valid", valid, ours),
        ("invalid", invalid, ours),
        ("invalid, cold", invalid, ours_cold),
    )
    for label, docs, fn in cases:
        theirs, mine = [], []
        for _ in range(rounds):
            theirs.append(rate(bare, docs, seconds))
            mine.append(rate(fn, docs, seconds))
        t, m = statistics.median(theirs), statistics.median(mine)
        print(f"{label:<14} {t:>14,.0f} {m:>20,.0f} {m / t:>6.1f}x")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument(
        "--only",
        nargs="*",
        metavar="KIND/CODE",
        default=["source/postgresql", "destination/iceberg"],
        help="what to measure (default: source/postgresql destination/iceberg)",
    )
    args = parser.parse_args()
    for target in args.only:
        kind, code = target.split("/")
        bench(kind, code, args.rounds, args.seconds)


if __name__ == "__main__":
    main()
