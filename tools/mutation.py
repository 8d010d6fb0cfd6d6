"""Mutation score of the core modules, measured by mutmut (a benchmark-like job, not a test).

    python3 -m pip install '.[mutation]'
    python3 tools/mutation.py                 # every core module (about 15 minutes)
    python3 tools/mutation.py -k refs -k checks --show   # some, with survivors' diffs

For each core module, mutmut mutates a fresh copy of the repository (the module
alone), then runs the tests that guard it: only the tests that execute the
mutated function, in the same process (mutmut's trampolines; tests that run
the CLI in a subprocess cannot see a mutant and are left out by mutmut's own
selection). Score = killed / (killed + survived), where a timeout counts as
killed, a mutant no test reaches counts as survived, and the equivalent mutants
listed in :data:`EQUIVALENT` (each with its reason) are left out. Exit code 1
when a module scores under :data:`GOAL`. docs/TESTING.md reports the last run.

mutmut 3, not cosmic-ray: it runs each mutant in a forked process with only the
tests that reach the mutated function, hundreds of mutants a minute on two cores
where cosmic-ray starts a whole test run per mutant.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = "src/streamkap_config"
GOAL = 0.90

#: Core module -> the test modules that guard it.
MODULES: dict[str, tuple[str, ...]] = {
    "core/refs.py": ("test_refs", "test_secrets", "test_laws", "test_payload", "test_validate"),
    "core/capture.py": ("test_capture", "test_validate", "test_project", "test_payload"),
    "validation/checks.py": (
        "test_messages",
        "test_validate",
        "test_kinds",
        "test_laws",
        "test_keys",
    ),
    "validation/configs.py": (
        "test_configs",
        "test_messages",
        "test_validate",
        "test_kinds",
        "test_laws",
        "test_keys",
    ),
    "validation/keys.py": ("test_key_index", "test_keys", "test_configs", "test_validate"),
    "deploy/payload.py": (
        "test_payload",
        "test_payload_build",
        "test_secrets",
        "test_laws",
        "test_plan",
    ),
    "deploy/changes.py": ("test_changes", "test_plan", "test_laws", "test_import"),
    "loaders/common.py": (
        "test_loader_common",
        "test_yaml_reader",
        "test_loaders",
        "test_hostile",
        "test_hostile_two",
        "test_laws",
    ),
    "loaders/yaml_reader.py": (
        "test_yaml_reader",
        "test_loaders",
        "test_hostile",
        "test_hostile_two",
        "test_laws",
    ),
    "loaders/json_reader.py": (
        "test_json_reader",
        "test_loader_common",
        "test_loaders",
        "test_hostile",
        "test_hostile_two",
    ),
    "loaders/toml_reader.py": (
        "test_toml_reader",
        "test_loader_common",
        "test_loaders",
        "test_hostile",
        "test_hostile_two",
    ),
    "remote/client.py": (
        "test_client_words",
        "test_client",
        "test_hostile",
        "test_hostile_two",
        "test_laws",
    ),
}

#: Mutants that cannot change behaviour, by mutmut's name, each with why.
EQUIVALENT: dict[str, str] = {
    "streamkap_config.core.refs.x_reference_names__mutmut_7": (
        "m.group(1) -> m.group(2): both are None for an escape and set for a reference"
    ),
    "streamkap_config.core.refs.x_literal_text__mutmut_10": (
        "m.group(1) -> m.group(2): both are None for an escape and set for a reference"
    ),
    "streamkap_config.loaders.yaml_reader.x__plain_scalar__mutmut_10": (
        'first in "+-." -> "XX+-.XX": a word starting with X is no number, and no YAML 1.1'
        " boolean starts with X"
    ),
    "streamkap_config.loaders.yaml_reader.x__plain_scalar__mutmut_15": (
        'text.lstrip("+-") -> lstrip("XX+-XX"): the text is digits and signs, never an X'
    ),
    "streamkap_config.loaders.common.x_decode__mutmut_7": (
        'decode("utf-8") -> decode("UTF-8"): codec names are case-blind'
    ),
    "streamkap_config.loaders.common.x_walk__mutmut_18": (
        "is_dir(follow_symlinks=False) -> None: the flag is read as a truth value"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁsuggest__mutmut_3": (
        "the memo of answers not read: the answer is worked out again, the same"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁsuggest__mutmut_4": (
        "the memo of answers not read: the answer is worked out again, the same"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁsuggest__mutmut_13": (
        "None stored in the memo: read as no answer, worked out again, the same"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁsuggest__mutmut_11": (
        "the memo's bound 4096 -> >= 4096: one answer fewer kept, none different"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁsuggest__mutmut_12": (
        "the memo's bound 4096 -> 4097: one answer more kept, none different"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁ_suggest__mutmut_16": (
        "an empty typo's size 1 -> 2: it shares no pair, every score is 0 either way"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁ_suggest__mutmut_29": (
        "an empty spelling's size 1 -> 2: it shares no pair, its score is 0 either way"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁ_suggest__mutmut_23": (
        "4 * limit candidates -> 5 *: a key has at most 3 spellings, 4 * limit hold limit keys"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁ_suggest__mutmut_35": (
        "best 0.0 -> 1.0 with no candidate: the loop has nothing to compare"
    ),
    "streamkap_config.validation.keys.xǁKeyIndexǁ_suggest__mutmut_49": (
        "an ambiguous spelling's own Ambiguous as its key: only that spelling maps to it"
    ),
    "streamkap_config.validation.keys.x__walk__mutmut_2": (
        "str(key) for a text key too: the same text"
    ),
    "streamkap_config.validation.keys.x_flatten__mutmut_3": (
        "prefix  -> None: both falsy, the first key is its own flat name"
    ),
    "streamkap_config.validation.configs.x_check_config__mutmut_172": (
        "'kind is list' -> 'is not list': has_reference is False for every other non-text"
        " value, and for text without ${"
    ),
    "streamkap_config.validation.configs.x_check_config__mutmut_231": (
        "effective values worked out with no conditioned key: nothing reads them"
    ),
    "streamkap_config.validation.configs.x_check_config__mutmut_93": (
        "a value refused by its own check -> None: neither equals a condition's value, which"
        " is one of the gate's valid values"
    ),
    "streamkap_config.loaders.toml_reader.x__duplicate__mutmut_8": (
        "0 < line -> 1 < line: no duplicate is reported on line 1, before its first"
    ),
    "streamkap_config.loaders.toml_reader.x__duplicate__mutmut_9": (
        "0 < line -> 0 <= line: the parser counts lines from 1"
    ),
    "streamkap_config.loaders.toml_reader.x__duplicate__mutmut_11": (
        'a line past the text "" -> "XXXX": neither is a key or a table line'
    ),
    "streamkap_config.loaders.toml_reader.x__duplicate__mutmut_32": (
        'first = None -> "": both mean no first line found'
    ),
    "streamkap_config.loaders.toml_reader.x__duplicate__mutmut_42": (
        "the search up to line 0: first = 0 is read as no first line"
    ),
    "streamkap_config.loaders.toml_reader.x__toml_positions__mutmut_14": (
        "a multi-line string's delimiter count % 2 -> % 3: TOML puts one on a line"
    ),
    "streamkap_config.loaders.toml_reader.x__tomllib__mutmut_1": (
        ">= (3, 11) -> > (3, 11): every 3.11 release compares greater"
    ),
    "streamkap_config.loaders.toml_reader.x_read_toml__mutmut_26": (
        "(1, 1) -> (2, 1) for a message without a place: only the end of the document,"
        " whose line is set after"
    ),
    "streamkap_config.loaders.toml_reader.x_read_toml__mutmut_75": (
        "a too deep value's place (1, 1) -> (2, 1): its top key always has a place"
    ),
    "streamkap_config.loaders.toml_reader.x_read_toml__mutmut_76": (
        "a too deep value's place (1, 1) -> (1, 2): its top key always has a place"
    ),
    "streamkap_config.deploy.changes.x__shown__mutmut_7": (
        "json.dumps(ensure_ascii=False) -> ensure_ascii=None: json reads the flag as a truth value"
    ),
    "streamkap_config.remote.client.x__snippet__mutmut_9": (
        '"utf-8" -> "UTF-8": codec names are case-blind'
    ),
    "streamkap_config.remote.client.x__snippet__mutmut_18": (
        "json.dumps(ensure_ascii=False) -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.x__variants__mutmut_3": (
        "json.dumps(ensure_ascii=False) -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.x__variants__mutmut_26": (
        'quote(safe="") -> safe="XXXX": X is never quoted anyway'
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_60": (
        'expiry "inf if token" -> always inf: with no token one is fetched first, which sets it'
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_64": (
        "expiry 0.0 -> 1.0 without a token: with no token one is fetched whatever the expiry"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_fetch_token__mutmut_39": (
        "the name given to _header_safe: its message is never shown, only its class"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_fetch_token__mutmut_42": (
        "the name given to _header_safe: its message is never shown, only its class"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_fetch_token__mutmut_43": (
        "the name given to _header_safe: its message is never shown, only its class"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_63": (
        'float("inf") -> float("INF"): the same number'
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_69": (
        "follow_redirects=False -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_73": (
        "follow_redirects=False left out: httpx's default is False"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_70": (
        "trust_env=False -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_fetch_token__mutmut_11": (
        "auth=False -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_send__mutmut_4": (
        "reauthed = False -> None: read as a truth value"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁlist__mutmut_1": (
        "page_size default 100 -> 101: clamped to 100 before use"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁlist__mutmut_118": (
        "0 < answered <= size -> < size: at answered == size both limits are size"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_77": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_78": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_82": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_83": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_87": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ__init____mutmut_88": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_exchange__mutmut_28": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_send__mutmut_39": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_send__mutmut_40": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_send__mutmut_145": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁ_send__mutmut_146": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁget_connectors__mutmut_29": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁget_connectors__mutmut_30": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁget_connectors__mutmut_86": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
    "streamkap_config.remote.client.xǁStreamkapClientǁget_connectors__mutmut_87": (
        "an HTTP header's name is case-blind (httpx folds it)"
    ),
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests"}
TIMEOUTS = {36, 24, -24, 152, 255}


def copy_repository(target: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        src = ROOT / name
        if src.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / name)
    conftest = target / "tests" / "conftest.py"
    conftest.write_text(conftest.read_text() + FRESH_CACHES)


#: Appended to the copy's tests/conftest.py. mutmut forks each mutant from a process
#: that has already run the tests once, so whatever the package memoised there (compiled
#: checkers, key indexes, parsed include lists, loader classes) was built by the code
#: before it was mutated: every test starts with those caches empty. (The bundled
#: snapshot stays cached: it is data, and no mutated module builds it.)
FRESH_CACHES = """

import pytest as _pytest


@_pytest.fixture(autouse=True)
def _mutation_fresh_caches():
    import sys as _sys

    for _name, _module in list(_sys.modules.items()):
        if not _name.startswith("streamkap_config") or _name.endswith(".bundle"):
            continue
        for _value in list(vars(_module).values()):
            if callable(getattr(_value, "cache_clear", None)):
                _value.cache_clear()
    from streamkap_config.project import settings as _settings
    from streamkap_config.validation import checks as _checks, keys as _keys

    _checks._CHECKERS.clear()
    _keys.KeyIndex._cache.clear()
    _settings._GLOBS.clear()
    yield
"""


def configure(work: Path, module: str, tests: tuple[str, ...]) -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    present = [f"tests/{t}.py" for t in tests if (ROOT / "tests" / f"{t}.py").is_file()]
    section = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f'only_mutate = ["{PKG}/{module}"]\n'
        'also_copy = ["examples", "schemas", "README.md", "docs", "tools"]\n'
        # A subprocess's peak memory is measured there: under mutmut its imports weigh more.
        'pytest_add_cli_args = ["-n", "0", "-p", "no:cacheprovider", "-k", "not bounded_memory"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(present)}\n"
    )
    (work / "pyproject.toml").write_text(pyproject + section)


class MutmutFailed(Exception):
    """mutmut stopped (a test failing on the unmutated code, say): no score."""


def run_module(work: Path, module: str, jobs: int) -> dict[str, str]:
    shutil.rmtree(work / "mutants", ignore_errors=True)
    env = {**os.environ, "NO_COLOR": "1"}
    mutmut = Path(sys.executable).parent / "mutmut"
    out = subprocess.run(
        [str(mutmut), "run", "--max-children", str(jobs)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    meta = work / "mutants" / PKG / f"{module}.meta"
    if not meta.is_file():
        raise MutmutFailed(f"mutmut did not run on {module}:\n{out.stdout[-3000:]}{out.stderr}")
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if any(code is None for code in codes.values()):  # mutmut stopped before the end
        raise MutmutFailed(f"mutmut did not finish {module}:\n{out.stdout[-3000:]}{out.stderr}")
    status = {}
    for name, code in codes.items():
        status[name] = "killed" if code in TIMEOUTS else STATUS.get(code, f"other ({code})")
    return status


def diff_of(work: Path, name: str) -> str:
    mutmut = Path(sys.executable).parent / "mutmut"
    out = subprocess.run([str(mutmut), "show", name], cwd=work, capture_output=True, text=True)
    return out.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", action="append", default=[], help="modules whose path holds this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--show", action="store_true", help="print each survivor's diff")
    parser.add_argument("--json", metavar="FILE", help="also write the results there")
    args = parser.parse_args()
    chosen = [m for m in MODULES if not args.k or any(k in m for k in args.k)]
    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    rows, failed, report = [], False, {}
    try:
        copy_repository(work)
        for module in chosen:
            configure(work, module, MODULES[module])
            try:
                status = run_module(work, module, args.jobs)
            except MutmutFailed as exc:
                print(f"{module:28} not measured: {str(exc)[-400:]}", flush=True)
                failed = True
                continue
            equivalent = [n for n in status if n in EQUIVALENT]
            counted = {n: s for n, s in status.items() if n not in EQUIVALENT}
            killed = sum(s == "killed" for s in counted.values())
            survivors = sorted(n for n, s in counted.items() if s != "killed")
            score = killed / len(counted) if counted else 1.0
            failed |= score < GOAL
            rows.append((module, killed, len(survivors), len(equivalent), score))
            report[module] = {"killed": killed, "survived": survivors, "equivalent": equivalent}
            print(
                f"{module:28} {killed:4} killed {len(survivors):4} survived "
                f"{len(equivalent):3} equivalent  {score:6.1%}",
                flush=True,
            )
            if args.show:
                for name in survivors:
                    print(f"  {status[name]}: {diff_of(work, name)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n| module | killed | survived | equivalent | score |\n|---|---:|---:|---:|---:|")
    for module, killed, survived, equivalent, score in rows:
        print(f"| `{module}` | {killed} | {survived} | {equivalent} | {score:.1%} |")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
