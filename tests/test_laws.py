"""Six behaviours a review broke one at a time without the suite noticing, each now held
by a law: lenient booleans, an empty allow-list, values from the environment in
messages, YAML merge keys, the deadline of a whole pull, and the echo of every JSON
type in plan."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from apiserver import ApiServer
from conftest import ROOT
from emulator import _text as echoed
from streamkap_config import build_payload, bundled_schemas, load_text, validate_document
from streamkap_config.core.errors import ConfigValidationError
from streamkap_config.core.refs import EnvReader
from streamkap_config.deploy.changes import normal, same
from streamkap_config.remote.client import StreamkapClient
from streamkap_config.schemas.cache import SchemaCache

BASE = yaml.safe_load((ROOT / "examples" / "postgresql.source.yaml").read_text())
BIN = Path(sys.executable).parent


def _dotted(mapping: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            out.update(_dotted(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def with_config(**config: object) -> dict:
    """The example with its keys dotted (one spelling each), and ``config`` over them."""
    doc = copy.deepcopy(BASE)
    doc["config"] = {**_dotted(doc["config"]), **config}
    return doc


# --- 1. lenient booleans round-trip every spelling -----------------------------------------


def spellings(word: str) -> st.SearchStrategy[str]:
    cased = st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda ups: "".join(c.upper() if u else c for c, u in zip(word, ups, strict=True))
    )
    return st.tuples(st.sampled_from(["", " ", "\t"]), cased, st.sampled_from(["", " "])).map(
        "".join
    )


@settings(max_examples=60, deadline=None)
@given(st.booleans().flatmap(lambda b: st.tuples(st.just(b), spellings(str(b).lower()))))
def test_lenient_coercion_round_trips_every_spelling_of_each_boolean(case):
    value, spelled = case
    result = validate_document(with_config(**{"heartbeat.enabled": spelled}))
    assert result.ok, result.issues
    sent = result.payload.config["heartbeat.enabled"]
    assert sent is value  # a bool, and the one written: "false" never becomes true
    strict = validate_document(with_config(**{"heartbeat.enabled": spelled}), strict=True)
    assert [i.code for i in strict.errors] == ["type"]


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "1", "0", "truthy", ""])
def test_other_words_are_never_booleans(word):
    result = validate_document(with_config(**{"heartbeat.enabled": word}))
    assert [i.code for i in result.errors] == ["type"]


# --- 2. an empty allow-list allows nothing -------------------------------------------------


@pytest.mark.parametrize("allow", [[], [""], [" ", ","], ["  "]])
def test_an_empty_allow_list_lets_references_read_nothing(allow):
    reader = EnvReader({"PG_PASSWORD": "pw", "HOME": "/root"}, allow=allow)
    assert reader("PG_PASSWORD") is None and not reader.allows("HOME")
    assert EnvReader({"PG_PASSWORD": "pw"}, allow=None)("PG_PASSWORD") == "pw"  # not given: all
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(BASE, environ={"PG_PASSWORD": "pw"}, allow_env=allow)
    assert [i.code for i in caught.value.issues] == ["unresolved-secret"]


def test_streamkap_allow_env_set_empty_allows_nothing_on_the_command_line(tmp_path):
    source = ROOT / "examples" / "postgresql.source.yaml"
    env = {"PATH": "/usr/bin:/bin", "PG_PASSWORD": "pw", "NO_COLOR": "1"}
    env["STREAMKAP_CONFIG_CACHE"] = str(tmp_path)
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "payload", str(source)],
        env={**env, "STREAMKAP_ALLOW_ENV": ""},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1 and "unresolved-secret" in out.stdout + out.stderr
    out = subprocess.run(
        [str(BIN / "streamkap-config"), "payload", str(source)], env=env, capture_output=True
    )
    assert out.returncode == 0


# --- 3. no value read from the environment appears in any message --------------------------

#: Keys of the PostgreSQL source, one per kind of check, and values that fail each.
FAILING = {
    "streamkap.snapshot.parallelism": st.integers(100_000, 10**9).map(str),  # range 1..10
    "streamkap.snapshot.chunk.size.bytes": st.text("qxzjkw", min_size=6, max_size=12),  # NaN
    "database.sslmode": st.text("qxzjkw", min_size=6, max_size=12),  # not require/disable
    "heartbeat.enabled": st.text("qxzjkw", min_size=6, max_size=12),  # not a boolean
    "snapshot.read.only": st.text("qxzjkw", min_size=6, max_size=12),  # enum Yes/No
}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(FAILING)).flatmap(lambda k: st.tuples(st.just(k), FAILING[k])))
def test_no_environment_value_appears_in_any_message_for_any_check(case):
    key, value = case
    doc = with_config(**{key: "${env:SOME_VALUE}"})
    with pytest.raises(ConfigValidationError) as caught:
        build_payload(doc, environ={"SOME_VALUE": value, "PG_PASSWORD": "pw"})
    issues = caught.value.issues
    assert issues and {i.code for i in issues} <= {"type", "range", "enum"}
    shown = str(caught.value) + repr(caught.value)
    shown += "".join(f"{i.message} {i.hint} {i!r}" for i in issues)
    assert value not in shown


# --- 4. YAML merge keys follow the spec's precedence ---------------------------------------

KEYS = st.sampled_from("abcd")
SMALL = st.dictionaries(KEYS, st.integers(0, 9), max_size=4)


def _mapping(entries: dict) -> str:
    return "".join(f"  {k}: {v}\n" for k, v in entries.items())


@settings(max_examples=80, deadline=None)
@given(
    st.lists(SMALL, min_size=1, max_size=3),
    SMALL,
    SMALL,
    st.booleans(),
)
def test_yaml_merge_follows_the_spec_precedence(anchors, before, after, as_list):
    """Keys written in the mapping win over merged ones, wherever ``<<`` stands; among
    several merged mappings the earlier wins (YAML 1.1 merge key type). PyYAML
    implements the same rule: both must agree."""
    after = {k: v for k, v in after.items() if k not in before}  # a key written once
    text = "".join(f"x{n}: &x{n}\n{_mapping(a) or '  {}'}\n" for n, a in enumerate(anchors))
    text = text.replace("&x0\n  {}", "&x0 {}")
    for n, a in enumerate(anchors):
        if not a:
            text = text.replace(f"x{n}: &x{n}\n  {{}}\n", f"x{n}: &x{n} {{}}\n")
    merged = "[" + ", ".join(f"*x{n}" for n in range(len(anchors))) + "]"
    merged = merged if as_list or len(anchors) > 1 else "*x0"
    text += "m:\n" + _mapping(before) + f"  <<: {merged}\n" + _mapping(after)
    expected = {}
    for a in reversed(anchors):
        expected.update(a)
    expected.update(before)
    expected.update(after)
    assert yaml.safe_load(text)["m"] == expected  # the rule, as PyYAML has it
    loaded = load_text(text, "merge.yaml", kind="source")
    data = loaded.documents[0].data if loaded.documents else None
    assert data is not None, loaded.issues
    assert data["m"] == expected


# --- 5. one deadline bounds a whole pull ---------------------------------------------------


class FakeClock:
    """Time that passes only as the server answers: 10 s a request; a back-off's wait
    moves it on instead of sleeping."""

    def __init__(self, server: ApiServer) -> None:
        self.server, self.waited = server, 0.0

    def __call__(self) -> float:
        return 10.0 * sum(self.server.requests.values()) + self.waited

    def sleep(self, seconds: float) -> None:
        self.waited += seconds


@pytest.mark.parametrize("concurrency", [1, 4])
def test_one_deadline_bounds_a_whole_pull_counted_on_a_fake_clock(tmp_path, concurrency):
    codes = sorted(bundled_schemas())[:12]
    with ApiServer() as server:
        clock = FakeClock(server)
        client = StreamkapClient(
            server.url, token="static-token", retries=0, clock=clock, sleep=clock.sleep
        )
        results = SchemaCache(tmp_path).pull(
            codes, client=client, deadline=35.0, concurrency=concurrency
        )
        client.close()
        sent = sum(server.requests.values())
    # Requests start at 0, 10, 20 and 30 s; the one started at 30 s ends at 40 s, past
    # 35 s, and is cut off; no fifth is sent. In parallel a worker may start while
    # another's answer is on its way (at most one more each).
    done = [r for r in results if r.status != "error"]
    late = [r for r in results if r.status == "error"]
    if concurrency == 1:
        assert (sent, len(done)) == (4, 3)
    assert 4 <= sent <= 4 + concurrency - 1, sent
    # (In parallel all four may be under way at 40 s: then none of them ends in time.)
    assert len(done) < sent and len(done) + len(late) == len(codes)
    assert all("within" in r.message or "deadline" in r.message for r in late), late


def test_without_a_pull_deadline_every_request_is_sent(tmp_path):
    """The other side of the law: the same pull with room for all of them sends all."""
    codes = sorted(bundled_schemas())[:12]
    with ApiServer() as server:
        clock = FakeClock(server)
        client = StreamkapClient(server.url, token="static-token", clock=clock, sleep=clock.sleep)
        results = SchemaCache(tmp_path).pull(codes, client=client, deadline=1000.0, concurrency=1)
        client.close()
    assert [r.status for r in results] == ["updated"] * len(codes)


# --- 6. plan: an echoed value is the same value, for every JSON type -----------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.text(max_size=20)
)
VALUES = SCALARS | st.lists(SCALARS, max_size=4)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_plan_of_an_echoed_value_is_no_op_for_every_json_type(value):
    echo = [echoed(v) for v in value] if isinstance(value, list) else echoed(value)
    assert same(value, echo)
    assert same(value, value)


@settings(max_examples=200, deadline=None)
@given(SCALARS, SCALARS)
def test_plan_sees_a_real_difference(want, have):
    """Two values the API would echo differently are never the same."""
    if echoed(want) == echoed(have) or (
        isinstance(want, float) and isinstance(have, (int, float)) and want == have
    ):
        return
    if isinstance(want, float) and isinstance(echoed(have), str):
        try:
            if math.isfinite(want) and float(echoed(have)) == want:
                return  # the same number, written another way ("2" for 2.0)
        except ValueError:
            pass
    assert not same(want, echoed(have)), (want, have)


def test_booleans_are_compared_as_booleans_not_as_integers():
    assert normal(True) == "true" and normal(False) == "false"
    assert same(True, "true") and not same(True, "1") and not same(1, "true")
    assert same(False, "false") and not same(False, "0")


def test_a_key_written_twice_after_a_merge_is_still_a_duplicate():
    text = "x: &x {a: 0}\nm:\n  <<: *x\n  a: 1\n  a: 2\n"
    loaded = load_text(text, "merge.yaml", kind="source")
    (doc,) = loaded.documents
    assert [(i.code, i.line, i.column) for i in doc.issues] == [("duplicate-key", 5, 3)]
    assert "first at line 4" in doc.issues[0].message and doc.data["m"] == {"a": 1}
