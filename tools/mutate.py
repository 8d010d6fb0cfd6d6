"""Mutation check: break one behaviour at a time and see whether the tests notice.

    python tools/mutate.py            # every listed mutation (a few minutes)
    python tools/mutate.py -k cache   # the mutations whose name holds "cache"

Each mutation replaces one snippet of ``src/`` (it must occur exactly once) in a
fresh copy of the repository, then runs the test modules that guard that code
with the copy first on ``PYTHONPATH`` (subprocess CLI runs included). A
mutation the tests do not fail on is a *survivor*: a behaviour that can break
unnoticed. Exit code 1 when any mutation survives. Not run in CI (it runs the
suite once per mutation); docs/TESTING.md lists the last run's outcome.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = "src/streamkap_config"


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to src/streamkap_config
    old: str
    new: str
    tests: tuple[str, ...]


VALIDATE = ("tests/test_validate.py", "tests/test_kinds.py")
CACHE = ("tests/test_cache.py", "tests/test_hostile.py")
LOADERS = ("tests/test_loaders.py", "tests/test_hostile.py")

MUTATIONS = (
    Mutation(
        "validate: conditionally required keys never reported",
        "validation/configs.py",
        "if prop.conditions and not all(",
        "if prop.conditions or not all(",
        VALIDATE,
    ),
    Mutation(
        "checks: an enum check that ignores the value's type",
        "validation/checks.py",
        "if value == a and type(value) is type(a):",
        "if value == a:",
        VALIDATE,
    ),
    Mutation(
        "checks: multi_select items never checked against raw_values",
        "validation/checks.py",
        "        if items is not None:\n            for v in value:",
        "        if False:\n            for v in value:",
        VALIDATE,
    ),
    Mutation(
        "checks: no range check below the minimum",
        "validation/checks.py",
        "if (lo is not None and number < lo) or",
        "if False or",
        VALIDATE,
    ),
    Mutation(
        "refs: the reference pattern loses its end anchor",
        "core/refs.py",
        '_TOKEN = re.compile(r"\\$\\$\\{|\\$\\{(env|var):" + _NAME + r"\\}")',
        '_TOKEN = re.compile(r"\\$\\$\\{|\\$\\{(env|var):" + _NAME + r"\\}.*")',
        ("tests/test_validate.py", "tests/test_secrets.py"),
    ),
    Mutation(
        "validate: plaintext secrets never reported",
        "validation/configs.py",
        "if secret and value.__class__ is str and literal_text(value):",
        "if False:",
        VALIDATE,
    ),
    Mutation(
        "validate: inactive keys never reported",
        "validation/configs.py",
        "        if unmet:",
        "        if False:",
        VALIDATE,
    ),
    Mutation(
        "validate: set-once keys accepted in update mode",
        "validation/configs.py",
        'if mode == "update" and prop.set_once:',
        "if False:",
        VALIDATE,
    ),
    Mutation(
        "validate: a code of another kind is just unknown",
        "validation/validate.py",
        "if found is not None and found.definition.kind == other.name:",
        "if False:",
        VALIDATE,
    ),
    Mutation(
        "issues: de-duplication removed",
        "core/issues.py",
        "        if issue not in self._seen:",
        "        if True:",
        ("tests/test_validate.py",),
    ),
    Mutation(
        "issues: de-duplication over-eager (one issue per pointer)",
        "core/issues.py",
        "        if issue not in self._seen:",
        "        if issue.pointer not in {i.pointer for i in self._seen}:",
        ("tests/test_validate.py",),
    ),
    Mutation(
        "payload: values from the environment not masked",
        "deploy/payload.py",
        "payload = make_body(result.kind, body, checker.secret_keys | env_keys)",
        "payload = make_body(result.kind, body, checker.secret_keys)",
        ("tests/test_validate.py", "tests/test_secrets.py", "tests/test_cli.py"),
    ),
    Mutation(
        "payload: json_string maps sent as mappings",
        "deploy/payload.py",
        "for key in checker.json_string_keys & body",
        "for key in frozenset() & body",
        ("tests/test_kinds.py",),
    ),
    Mutation(
        "cache: never sends If-None-Match",
        "remote/client.py",
        'headers = {"If-None-Match": etag} if etag else None',
        "headers = None",
        (*CACHE, "tests/test_kinds.py"),
    ),
    Mutation(
        "cache: a 304 does not refresh the fetch time",
        "schemas/cache/fetch.py",
        "                self._touch(code)\n",
        "                pass\n",
        CACHE,
    ),
    Mutation(
        "cache: a lock pin not satisfied by the bundled snapshot",
        "schemas/cache/versions.py",
        "if found is None and code in bundled and bundled[code].version == version:",
        "if False:",
        CACHE,
    ),
    Mutation(
        "cache: definition sha256 check removed",
        "schemas/cache/store.py",
        "if sha256_hex(raw) != version:",
        "if False:",
        CACHE,
    ),
    Mutation(
        "cache: schema sha256 check removed",
        "schemas/cache/store.py",
        'if sha256_hex(schema_bytes) != meta.get("schema_sha256"):',
        "if False:",
        CACHE,
    ),
    Mutation(
        "storage: a write in place instead of a rename",
        "schemas/storage.py",
        "    path.parent.mkdir(parents=True, exist_ok=True)\n    fd, tmp",
        "    path.parent.mkdir(parents=True, exist_ok=True)\n"
        "    with open(path, 'r+b' if path.exists() else 'wb') as f:\n"
        "        f.truncate(0)\n        f.write(data)\n    return\n    fd, tmp",
        CACHE,
    ),
    Mutation(
        "cache: temp files of killed writers never swept",
        "schemas/cache/store.py",
        "                _sweep(self._dir(code))\n",
        "",
        CACHE,
    ),
    Mutation(
        "loaders: TOML multi-line strings not skipped",
        "loaders/toml_reader.py",
        "                    in_multiline = quote",
        "                    pass",
        LOADERS,
    ),
    Mutation(
        "loaders: YAML duplicate keys not reported",
        "loaders/yaml_reader.py",
        "if key in container and key not in merged:",
        "if False:",
        LOADERS,
    ),
    Mutation(
        "loaders: JSON duplicate keys not reported",
        "loaders/json_reader.py",
        "            if key in result:",
        "            if False:",
        LOADERS,
    ),
    Mutation(
        "loaders: the YAML alias budget removed",
        "loaders/yaml_reader.py",
        "        self.nodes += size\n        if self.nodes > self.limits.max_nodes:",
        "        self.nodes += size\n        if False:",
        LOADERS,
    ),
    Mutation(
        "loaders: aliases never tracked (every text taken to have none)",
        "loaders/yaml_reader.py",
        "    aliases = may_hold_aliases(text)",
        "    aliases = False",
        LOADERS,
    ),
    Mutation(
        "loaders: the YAML depth limit removed",
        "loaders/yaml_reader.py",
        "if depth >= self.limits.max_depth:",
        "if False:",
        LOADERS,
    ),
    Mutation(
        "loaders: a YAML 1.1 boolean word read as a boolean",
        "loaders/yaml_reader.py",
        '_TRUE = {"true", "True", "TRUE"}',
        '_TRUE = {"true", "True", "TRUE", "yes", "on"}',
        LOADERS,
    ),
    Mutation(
        "loaders: duplicate keys credited by string prefix",
        "loaders/__init__.py",
        'inside = issue.pointer == prefix or issue.pointer.startswith(prefix + "/")',
        "inside = issue.pointer.startswith(prefix)",
        LOADERS,
    ),
    Mutation(
        "keys: the suffix-less spelling no longer resolves",
        "validation/keys.py",
        "for variant in (base, *(base + s for s in SUFFIXES)):",
        "for variant in ():",
        ("tests/test_keys.py", "tests/test_validate.py"),
    ),
    Mutation(
        "client: credentials quoted from a response body",
        "remote/client.py",
        '        text = text.replace(form, "********")',
        "        pass",
        ("tests/test_hostile.py", "tests/test_client.py"),
    ),
    Mutation(
        "client: no cap on the decoded body",
        "remote/client.py",
        "                if size > self.max_bytes:",
        "                if False:",
        ("tests/test_hostile.py",),
    ),
    Mutation(
        "report: control characters printed raw",
        "core/text.py",
        "    if not _CONTROL.search(text):",
        "    if True:",
        ("tests/test_hostile.py", "tests/test_report.py"),
    ),
    Mutation(
        "project: every file of the project validated, needed or not",
        "project/validate.py",
        "        if validate_all or real in wanted:\n            return validated(",
        "        if True:\n            return validated(",
        ("tests/test_project.py",),
    ),
    Mutation(
        "project: a file read for the checks is taken for a source whatever its kind",
        "project/validate.py",
        "self.kind = doc.declared_kind if self._result is None else self._result.kind",
        'self.kind = "source" if self._result is None else self._result.kind',
        ("tests/test_project.py",),
    ),
    Mutation(
        "document: a kind that is not one is taken as written",
        "core/document.py",
        'return declared if declared in KIND_NAMES else "source"',
        'return declared if isinstance(declared, str) else "source"',
        ("tests/test_validate.py",),
    ),
    Mutation(
        "parallel: a checker does not pickle (every worker's share made again)",
        "validation/checks.py",
        "        return (Checker.for_definition, (self.definition,))",
        "        raise TypeError(self.definition.code)",
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "parallel: the share of a failed worker is lost",
        "core/parallel.py",
        "                results.extend(func(item) for item in share)\n",
        "                pass\n",
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "parallel: a worker's results out of order",
        "core/parallel.py",
        "            results.extend(done)",
        "            results[1:1] = done",
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "parallel: what a worker reports is never merged",
        "core/parallel.py",
        "            if merge is not None:",
        "            if False:",
        ("tests/test_parallel.py",),
    ),
    Mutation(
        "cli: the output not flushed before the fast exit",
        "cli/__init__.py",
        "    with contextlib.suppress(OSError):\n        sys.stdout.flush()",
        "    with contextlib.suppress(OSError):\n        pass",
        ("tests/test_cli.py",),
    ),
    Mutation(
        "records: a frozen record's field can be assigned",
        "core/records.py",
        '                raise FrozenInstanceError(f"cannot assign to field {name!r}")',
        "                pass",
        ("tests/test_records.py",),
    ),
    Mutation(
        "records: fields declared compare=False are compared",
        "core/records.py",
        "compared = _getter([f.name for f in fields if f.compare])",
        "compared = _getter([f.name for f in fields])",
        ("tests/test_records.py", "tests/test_validate.py"),
    ),
)


def copy_tree(target: Path) -> None:
    for name in ("src", "tests", "schemas", "examples", "tools", "docs"):
        shutil.copytree(ROOT / name, target / name)
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, target / name)


def run_one(m: Mutation) -> tuple[bool, float]:
    """True when the tests fail on the mutated copy (the mutant is killed)."""
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        work = Path(tmp) / "repo"
        work.mkdir()
        copy_tree(work)
        target = work / PKG / m.path
        text = target.read_text()
        if text.count(m.old) != 1:
            raise SystemExit(f"{m.name}: the snippet occurs {text.count(m.old)} times in {m.path}")
        target.write_text(text.replace(m.old, m.new))
        env = {**os.environ, "PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        start = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *m.tests],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        return out.returncode != 0, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", metavar="TEXT", help="only mutations whose name holds TEXT")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.k or args.k in m.name]
    survivors = []
    for m in chosen:
        killed, seconds = run_one(m)
        print(f"{'killed  ' if killed else 'SURVIVED'} {seconds:5.1f}s  {m.name}", flush=True)
        if not killed:
            survivors.append(m.name)
    print(f"{len(chosen) - len(survivors)} of {len(chosen)} mutants killed")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
