"""Forked workers: the same results in the same order, whatever a worker does."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from streamkap_config import bundled_schemas, validate_project
from streamkap_config.core.parallel import MIN_PER_JOB, default_jobs, forked_map

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

EXAMPLES = ROOT / "examples"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def alone():
    """No other thread runs (forked_map forks only then): threads a test server left
    behind in this worker end within their handler's sleep, at most a few seconds."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread():
            thread.join(timeout=10)
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    assert left == [], f"threads still running before a fork test: {left}"


def square_with_pid(n: int) -> tuple[int, int]:
    return n * n, os.getpid()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 5 * MIN_PER_JOB), st.integers(1, 4))
def test_results_come_back_complete_and_in_order(count, jobs):
    items = list(range(count))
    results = forked_map(square_with_pid, items, jobs)
    assert [r for r, _ in results] == [n * n for n in items]
    workers = {pid for _, pid in results} - {os.getpid()}
    assert len(workers) == max(0, min(jobs, count // MIN_PER_JOB) - 1)


def test_the_parent_does_the_share_of_a_worker_that_fails_in_any_way():
    parent = os.getpid()

    def faulty(n: int) -> tuple[int, int] | Callable[[], int]:
        if os.getpid() != parent:
            if n == 3 * MIN_PER_JOB:
                raise RuntimeError("a worker fails")
            if n == 5 * MIN_PER_JOB:
                os.kill(os.getpid(), signal.SIGKILL)
            if n == 7 * MIN_PER_JOB:
                return lambda: n  # cannot be sent back
        return n, os.getpid()

    # Four shares: the parent's, then a worker that raises, one that is killed and one
    # whose result cannot be pickled. The parent redoes the three.
    results = forked_map(faulty, list(range(8 * MIN_PER_JOB)), 4)
    assert results == [(n, parent) for n in range(8 * MIN_PER_JOB)]


def test_what_a_worker_reports_is_merged_in_the_parent():
    merged: list[object] = []
    forked_map(
        square_with_pid, list(range(3 * MIN_PER_JOB)), 3, report=os.getpid, merge=merged.append
    )
    assert len(merged) == 2 and os.getpid() not in merged


def test_no_fork_while_another_thread_runs_or_for_few_items():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        results = forked_map(square_with_pid, list(range(4 * MIN_PER_JOB)), 4)
    finally:
        stop.set()
        thread.join()
    assert {pid for _, pid in results} == {os.getpid()}
    few = forked_map(square_with_pid, list(range(2 * MIN_PER_JOB - 1)), 8)
    assert {pid for _, pid in few} == {os.getpid()}
    assert default_jobs() >= 1


@pytest.fixture
def forked(monkeypatch) -> list[int]:
    """The pids of the workers forked_map starts (the real fork; the pid is noted)."""
    import streamkap_config.core.parallel as parallel

    pids: list[int] = []
    real_fork = parallel._fork

    def fork_and_note(*args):
        pid, pipe = real_fork(*args)
        pids.append(pid)
        return pid, pipe

    monkeypatch.setattr(parallel, "_fork", fork_and_note)
    return pids


def assert_reaped(pids: list[int]) -> None:
    """None of ``pids`` is left to wait for: no zombie, none still running."""
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_a_failure_in_the_parent_leaves_no_worker_behind(forked):
    parent = os.getpid()

    def work(n: int) -> int:
        if os.getpid() == parent and n == 1:  # the parent's share, after the workers start
            raise KeyError(n)
        return n

    with pytest.raises(KeyError):
        forked_map(work, list(range(4 * MIN_PER_JOB)), 4)
    assert len(forked) == 3
    assert_reaped(forked)


@pytest.mark.parametrize("when", ["before", "after"])
def test_an_interruption_while_collecting_leaves_no_worker_behind(forked, monkeypatch, when):
    import streamkap_config.core.parallel as parallel

    real_collect = parallel._collect

    def interrupted(pid: int, pipe: int):
        if when == "after":  # the worker was reaped and its pipe closed
            real_collect(pid, pipe)
        raise KeyboardInterrupt

    monkeypatch.setattr(parallel, "_collect", interrupted)
    with pytest.raises(KeyboardInterrupt):
        forked_map(square_with_pid, list(range(4 * MIN_PER_JOB)), 4)
    assert len(forked) == 3
    assert_reaped(forked)


class Unwelcome:
    """Pickles in a worker; unpickling it in the parent fails."""

    def __init__(self, parent: int) -> None:
        self.parent = parent

    def __reduce__(self):
        return (_refuse_in, (self.parent,))


def _refuse_in(parent: int) -> Unwelcome:
    if os.getpid() == parent:
        raise ValueError("not here")
    return Unwelcome(parent)


def test_a_result_the_parent_cannot_unpickle_is_made_again_by_the_parent():
    parent = os.getpid()
    results = forked_map(lambda n: (n, os.getpid(), Unwelcome(parent)), list(range(40)), 2)
    assert [(n, pid) for n, pid, _ in results] == [(n, parent) for n in range(40)]


def test_without_an_affinity_call_every_cpu_counts(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert default_jobs() == max(1, os.cpu_count() or 1)


# --- the project on several processes ----------------------------------------------------


class NotingSchemas:
    """The bundled schemas, noting each look-up (as a cache notes a damaged file)."""

    def __init__(self) -> None:
        self.notices: list[str] = []

    def for_kind(self, kind: str) -> NotingSchemas:
        return self

    def get(self, code: str):
        notice = f"looked up {code} in {os.getpid()}"
        if notice not in self.notices:
            self.notices.append(notice)
        for kind in ("source", "destination", "transform"):
            found = bundled_schemas(kind).get(code)
            if found is not None:
                return found
        return None

    def __iter__(self):
        return iter(bundled_schemas())


def corpus(folder: Path) -> list[str]:
    """Copies of every example, valid and invalid, each under its own names."""
    paths = []
    examples = sorted(p for p in EXAMPLES.iterdir() if p.is_file() and "lock" not in p.name)
    for n in range(4):
        for example in examples:
            target = folder / f"{n}-{example.name}"
            text = example.read_text()
            for before, after in (("name: ", "name: n"), ('"name": "', '"name": "n')):
                text = text.replace(before, f"{after}{n}-")
            target.write_text(text.replace('name = "', f'name = "n{n}-'))
            paths.append(str(target))
    return paths


def test_a_project_on_several_processes_gives_the_same_reports_and_notices(tmp_path):
    paths = corpus(tmp_path)
    assert len(paths) >= 4 * MIN_PER_JOB
    serial_schemas, forked_schemas = NotingSchemas(), NotingSchemas()
    serial = validate_project(paths, schemas=serial_schemas)
    forked = validate_project(paths, schemas=lambda path: forked_schemas, jobs=4)

    def seen(result):
        return [
            (r.path, r.unreadable, [(d.name, res) for d, res in r.documents], r.issues)
            for r in result.reports
        ]

    assert seen(forked) == seen(serial)
    assert any(not res.ok for rep in forked.reports for _, res in rep.documents)

    def codes(notices: list[str]) -> set[str]:
        return {n.split()[2] for n in notices}

    assert codes(forked_schemas.notices) == codes(serial_schemas.notices)
    # Some results came back from a worker (its notices did), not made again by the
    # parent after a worker failed: a checker pickles, as its definition.
    assert any(not n.endswith(f" in {os.getpid()}") for n in forked_schemas.notices)
    # A result from a worker is whole: its definition (a pickled checker) included.
    last = forked.reports[-1].documents[0][1]
    assert last.definition is not None and last.definition.code == last.connector


def test_the_cli_prints_the_same_on_one_process_and_on_several(tmp_path):
    from test_cli import validate

    paths = corpus(tmp_path)
    one = validate("--jobs", "1", *paths, cwd=tmp_path)
    two = validate("--jobs", "2", *paths, cwd=tmp_path)
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and one.stderr == two.stderr
    assert "error[" in one.stdout
    bad = validate("--jobs", "0", *paths, cwd=tmp_path)
    assert bad.returncode == 2 and "--jobs must be at least 1, got 0" in bad.stderr


@pytest.mark.parametrize("project", ["examples", "examples/project-broken"])
def test_reading_and_checking_files_leaves_no_reference_cycle(project):
    """Why the console scripts look for cycles rarely (cli._fewer_collections): a run
    builds none, over valid files or broken ones, so the collector only costs time."""
    import gc

    paths = sorted(
        str(p) for p in (ROOT / project).rglob("*") if p.suffix in (".yaml", ".json", ".toml")
    )
    validate_project(paths, jobs=1)  # caches warmed: what they keep is not garbage
    gc.collect()
    gc.disable()
    try:
        result = validate_project(paths, jobs=1)
        assert result.reports
        del result
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_the_parent_keeps_a_little_more_than_an_equal_share():
    from streamkap_config.core.parallel import parent_share

    assert parent_share(499, 1) == 267  # the worker also pickles what it sends back
    assert parent_share(499, 1, send_cost=0.0) == 250  # nothing to send: equal shares
    assert parent_share(100, 0) == 100
    parent = os.getpid()
    pids = [pid for _, pid in forked_map(square_with_pid, list(range(500)), 2)]
    assert pids.count(parent) == 1 + parent_share(499, 1)  # the first item, then its share
