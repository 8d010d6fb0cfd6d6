"""Status: what the live account says of each document's object, and waiting for it.

:func:`status` looks each document of a project up by name (each kind listed
once) and reads its object: ``connector_status``, ``desired_state`` and task
statuses for sources and destinations, ``status`` for transforms. A row is
``ok`` when its connector is ``Active``, or ``Paused``/``Stopped`` as its
``desired_state`` asks; a transform unless it ``FAILED``; a pipeline when it is
live. :func:`wait` polls the objects an apply wrote until each has settled
(``Active``, ``Broken``, or the state it was asked for) or a deadline passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.kinds import PIPELINE
from ..core.records import field, record

if TYPE_CHECKING:
    from ..project.validate import ProjectResult
    from ..remote.client import StreamkapClient
    from ..remote.resources import Resource

__all__ = ["SETTLED", "StatusRow", "status", "tasks_of", "wait"]

#: Connector statuses that do not change by themselves.
SETTLED = frozenset({"Active", "Broken", "Paused", "Stopped"})
_FAILED_TRANSFORM = frozenset({"FAILED"})


@record(frozen=True)
class StatusRow:
    """One document's object as it is live."""

    kind: str
    name: str
    id: str | None = None
    status: str | None = None  # connector_status, a transform's status; None: not live
    desired_state: str | None = None
    tasks: tuple[tuple[str, str], ...] = ()  # (task, status)
    traces: tuple[str, ...] = field(default=(), repr=False)

    @property
    def live(self) -> bool:
        return self.id is not None

    @property
    def ok(self) -> bool:
        if not self.live:
            return False
        if self.kind == PIPELINE:
            return True
        if self.kind == "transform":
            return self.status not in _FAILED_TRANSFORM
        if self.status == "Active":
            return self.desired_state in (None, "Active", "Pending")
        return self.status in ("Paused", "Stopped") and self.desired_state == self.status

    @property
    def settled(self) -> bool:
        """Nothing more will happen without a request (also when it is not what was asked)."""
        if self.kind in (PIPELINE, "transform") or not self.live:
            return True
        return self.status in SETTLED

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "id": self.id,
            "status": self.status,
            "desired_state": self.desired_state,
            "tasks": [{"task": t, "status": s} for t, s in self.tasks],
            "ok": self.ok,
        }

    def format(self) -> str:
        from ..core.text import printable

        if not self.live:
            return f"missing {self.kind} {printable(self.name)}: not live"
        mark = "ok" if self.ok else ("failed" if self.status == "Broken" else "not ready")
        state = self.status or "live"
        if self.desired_state and self.desired_state != self.status:
            state += f" (desired {self.desired_state})"
        tasks = ", ".join(f"task {t} {s}" for t, s in self.tasks)
        return (
            f"{mark} {self.kind} {printable(self.name)} ({printable(self.id or '')}): "
            f"{printable(state)}" + (f"; {printable(tasks)}" if tasks else "")
        )


def tasks_of(statuses: Any) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Task statuses as the API gives them (a mapping of task to ``{status, trace}``, or a
    list of ``{id, status}``) as ``(task, status)`` pairs, and the failed tasks' traces."""
    items: Iterable[tuple[str, Any]]
    if isinstance(statuses, Mapping):
        items = ((str(k), v) for k, v in statuses.items())
    elif isinstance(statuses, list):
        items = (
            (str(v.get("id", n)) if isinstance(v, Mapping) else str(n), v)
            for n, v in enumerate(statuses)
        )
    else:
        return (), ()
    pairs, traces = [], []
    for task, value in items:
        state = value.get("status", value.get("state")) if isinstance(value, Mapping) else value
        pairs.append((task, str(state)))
        trace = value.get("trace") if isinstance(value, Mapping) else None
        if trace:
            traces.append(f"task {task}: {trace}")
    return tuple(pairs), tuple(traces)


def _row(
    kind: str, name: str, live: Resource | None, client: StreamkapClient | None = None
) -> StatusRow:
    if live is None:
        return StatusRow(kind, name)
    tasks, traces = tasks_of(getattr(live, "task_statuses", None))
    if client is not None:  # a trace may quote a connection string: what was sent is cut
        traces = tuple(client.scrubbed(t) for t in traces)
    state = getattr(live, "connector_status", None) or getattr(live, "status", None)
    return StatusRow(
        kind,
        name,
        live.id,
        state,
        getattr(live, "desired_state", None),
        tasks,
        traces,
    )


def status(project: ProjectResult, client: StreamkapClient) -> list[StatusRow]:
    """The live status of every document of the files given (read-only: GET requests)."""
    from .plan import ORDER, live_by_name

    entries = [(doc, result) for report in project.reports for doc, result in report.documents]
    entries.sort(key=lambda e: (ORDER.index(e[1].kind), e[0].name or ""))
    by_name = live_by_name(client, [result.kind for _, result in entries])
    rows = []
    for doc, result in entries:
        kind, name = result.kind, doc.name or ""
        known = by_name.get(kind)
        found = known.get(name, []) if known is not None else client.list(kind, name)
        live = found[0] if found else None
        if live is not None and kind in ("source", "destination"):
            live = client.get(kind, live.id)  # a listing may carry no task statuses
        rows.append(_row(kind, name, live, client))
    return rows


def wait(
    client: StreamkapClient,
    objects: Iterable[tuple[str, str, str]],
    *,
    timeout: float = 600.0,
    poll: float = 5.0,
    progress: Callable[[list[StatusRow]], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[StatusRow], bool]:
    """Poll ``(kind, name, id)`` objects until each has settled or ``timeout`` passes.

    Returns the last rows and whether all settled in time. ``progress`` gets the
    rows after every round.
    """
    todo = [(k, n, i) for k, n, i in objects if k in ("source", "destination")]
    end = clock() + timeout
    rows: dict[str, StatusRow] = {}
    while True:
        for kind, name, ident in todo:
            if ident in rows and rows[ident].settled:
                continue
            rows[ident] = _row(kind, name, client.get(kind, ident), client)
        current = [rows[i] for _, _, i in todo]
        if progress is not None:
            progress(current)
        if all(r.settled for r in current):
            return current, True
        left = end - clock()
        if left <= 0:
            return current, False
        sleep(min(poll, left))
