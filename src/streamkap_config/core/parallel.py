"""Work over many files on every CPU: forked workers, results back in order.

A run over many files forks after the imports and warm-ups are done, so a
worker starts in about a millisecond with everything loaded; each worker takes
one contiguous share of the items and sends its results back pickled through a
pipe, and the parent works on the first share meanwhile (after the first item,
which warms the caches the workers inherit). Where ``os.fork`` is
missing (Windows), where another thread runs (forking one is unsafe), or for
few items, the work runs in the calling process. A worker that fails in any
way (an exception, a signal, a result that does not pickle) costs time, never
a result: the parent does that share again itself.

>>> forked_map(lambda n: n * n, list(range(100)), jobs=2)[-3:]
[9409, 9604, 9801]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["MIN_PER_JOB", "SEND_COST", "default_jobs", "forked_map", "parent_share"]

T = TypeVar("T")
R = TypeVar("R")

#: Fewer items than this per worker and a fork costs more than it saves.
MIN_PER_JOB = 16

#: What a worker spends sending its results back (pickling them once its share is
#: done) for each unit of time the work on them took: about 0.1 for checked files (250
#: bare configs: 47 ms of work, 4 ms to pickle). 0.15 timed best with tools/bench_ab.py
#: (0.05 and 0.15 against an equal split: 1.02 and 1.01-1.03 on 500 bare configs).
SEND_COST = 0.15


def parent_share(items: int, workers: int, send_cost: float = SEND_COST) -> int:
    """How many of ``items`` the parent does itself beside ``workers`` workers.

    A worker's time is its share's work and then the pickling of its results; the
    parent does its own share, then waits and unpickles. The parent's share is
    ``(1 + c) / (1 + c + workers)`` of the items, ``c`` the send cost: a little more
    than an equal share, so that the worker's pickling does not keep it waiting
    (1 to 4 % less time on 500 files, tools/bench_ab.py).

    >>> parent_share(499, 1), parent_share(499, 3)
    (267, 138)
    """
    if workers < 1:
        return items
    return round(items * (1 + send_cost) / (1 + send_cost + workers))


def default_jobs() -> int:
    """The CPUs this process may run on (its affinity where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def forked_map(
    func: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    *,
    report: Callable[[], Any] | None = None,
    merge: Callable[[Any], None] | None = None,
) -> list[R]:
    """``[func(item) for item in items]``, on up to ``jobs`` processes.

    ``report`` runs in each worker after its share and ``merge`` in the parent
    with what it returned: the way to bring back side effects of ``func``
    (the notices of a schema cache), which a worker's memory does not share.
    """
    count = min(jobs, len(items) // MIN_PER_JOB)
    if count < 2 or not hasattr(os, "fork"):
        return [func(item) for item in items]
    # Threads are started through threading: when nothing imported it, none runs.
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return [func(item) for item in items]
    # The first item warms the caches (a connector's schema, its compiled checks) that
    # the workers then inherit instead of each building them again.
    results = [func(items[0])]
    rest = items[1:]
    own = parent_share(len(rest), count - 1)
    size = -(-(len(rest) - own) // (count - 1))
    shares = [rest[:own], *(rest[n : n + size] for n in range(own, len(rest), size))]
    sys.stdout.flush()  # a worker must not write out what the parent buffered
    sys.stderr.flush()
    pending: list[tuple[int, int, Sequence[T]]] = []
    try:
        for share in shares[1:]:
            pending.append((*_fork(func, share, report), share))
        results.extend(func(item) for item in shares[0])
        while pending:
            pid, pipe, share = pending[0]
            found = _collect(pid, pipe)
            pending.pop(0)  # reaped: only now, so that an interruption still stops it
            if found is None:
                results.extend(func(item) for item in share)
                continue
            done, extra = found
            results.extend(done)
            if merge is not None:
                merge(extra)
        return results
    finally:
        for pid, pipe, _ in pending:  # left only when the parent failed
            _stop(pid, pipe)


def _fork(
    func: Callable[[T], R], share: Sequence[T], report: Callable[[], Any] | None
) -> tuple[int, int]:
    import pickle

    read, write = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write)
        return pid, read
    status = 1  # the worker: it never returns
    try:
        os.close(read)
        done = [func(item) for item in share]
        data = pickle.dumps((done, report() if report else None), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as out:
            out.write(data)
        status = 0
    finally:
        os._exit(status)


def _collect(pid: int, pipe: int) -> tuple[list[Any], Any] | None:
    """What the worker ``pid`` sent, or None when it did not finish its share."""
    import pickle

    with os.fdopen(pipe, "rb") as source:
        data = source.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        return None
    try:
        done, extra = pickle.loads(data)
    except Exception:  # a torn message: the parent does the share again
        return None
    return list(done), extra


def _stop(pid: int, pipe: int) -> None:
    import contextlib
    import signal

    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reaped while being collected
        os.waitpid(pid, 0)
    with contextlib.suppress(OSError):  # closed while being collected
        os.close(pipe)
