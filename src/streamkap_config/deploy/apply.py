"""Apply: a plan carried out, level by level, in parallel within each level."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core.errors import ApiError, ConfigValidationError, StreamkapConfigError
from ..core.kinds import PIPELINE
from ..core.records import field, record
from .changes import Change, Plan, printable, same
from .prune import DELETE_ORDER

if TYPE_CHECKING:
    from ..remote.client import StreamkapClient
    from ..remote.resources import Resource

__all__ = ["DEFAULT_PARALLELISM", "LEVELS", "ApplyResult", "apply"]


@record
class ApplyResult:
    """What an apply did, and (after a failure) what it did not."""

    done: list[tuple[Change, str]] = field(default_factory=list)  # (change, id), plan order
    failed: tuple[Change, str] | None = None  # (change, reason): the first, in plan order
    not_done: list[Change] = field(default_factory=list)
    # Other requests that were in flight when the first failed, and failed too.
    also_failed: list[tuple[Change, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed is None

    def format(self) -> str:
        def what(c: Change) -> str:
            return f"{c.action} {c.kind} {printable(c.name)}"

        lines = [f"done: {what(c)} ({printable(ident)})" for c, ident in self.done]
        if self.failed is not None:
            for change, reason in (self.failed, *self.also_failed):
                lines.append(f"failed: {what(change)}: {printable(reason)}")
            lines += [f"not done: {what(c)}" for c in self.not_done]
            lines.append("run apply again: what was done is found by name and not repeated")
        return "\n".join(lines) + "\n"


#: What apply sends together: each level once the one before is done (pipelines need
#: the ids of what they join).
LEVELS = (("source", "destination"), ("transform",), (PIPELINE,))
#: Requests in flight at most, by default (Terraform's is 10; a little gentler here).
DEFAULT_PARALLELISM = 8


def apply(
    the_plan: Plan,
    client: StreamkapClient,
    *,
    environ: Mapping[str, str] | None = None,
    allow_env: Iterable[str] | None = None,
    update_secrets: bool = False,
    skip_blocked: bool = False,
    progress: Callable[[Change, str], None] | None = None,
    parallelism: int = DEFAULT_PARALLELISM,
) -> ApplyResult:
    """Carry ``the_plan`` out: creates and updates in dependency order, then the deletes
    of a plan made with ``prune`` (:data:`DELETE_ORDER`).

    Every ``${env:NAME}`` is resolved before the first request (an unset one
    stops everything, and every document with one is named, at its line).
    Every create and update sends the whole body, secrets included.
    (``update_secrets`` is kept for callers of 0.2: rotation is now planned,
    with ``plan(..., update_secrets=True)``.) A ``blocked`` change stops the
    apply unless ``skip_blocked``. Within each of :data:`LEVELS`
    (sources and destinations, then transforms, then pipelines) at most
    ``parallelism`` changes are under way at once. A failure stops the run:
    nothing new is started, what is in flight finishes, and the result says
    what was done and what was not (in plan order); running again finishes
    the job. No secret and no value from the environment appears in a reason,
    whatever the server echoes. ``progress(change, id)`` is called as each
    change is done (from the worker threads, one call at a time).
    """
    from .payload import build_payload

    del update_secrets  # every update sends its secrets now
    if parallelism < 1:
        raise StreamkapConfigError(f"parallelism must be at least 1, got {parallelism}")
    blocked = [c for c in the_plan.changes if c.action == "blocked"]
    if blocked and not skip_blocked:
        names = ", ".join(f"{c.kind} {c.name}" for c in blocked)
        raise StreamkapConfigError(
            f"blocked: {names} (a set-once key differs, a pipeline needs what is not live, "
            "or a delete is still used); leave them out with --skip-blocked"
        )
    todo = [c for c in the_plan.changes if c.action in ("create", "update", "delete")]
    bodies: dict[int, Any] = {}
    hidden: set[str] = set()
    failures = []
    for change in todo:
        if change.kind != PIPELINE and change.document is not None and change.action != "delete":
            try:
                body = build_payload(
                    change.document,
                    environ=environ,
                    allow_env=allow_env,
                    variables=the_plan.project.variables if the_plan.project else None,
                )
            except ConfigValidationError as exc:
                failures.append(exc)
                continue
            bodies[id(change)] = body
            hidden |= body.hidden_values()
    if failures:  # every document that cannot be sent, before the first request
        raise ConfigValidationError.joined(failures)
    client.redact(hidden)
    ids: dict[str, str] = dict(the_plan.known_ids)
    for change in the_plan.changes:
        if change.id:
            ids[f"{change.kind}/{change.name}"] = change.id
    run = _Run(the_plan, client, bodies, ids, hidden, progress)
    for level in LEVELS:
        run.level([c for c in todo if c.kind in level and c.action != "delete"], parallelism)
        if run.failures:
            break
    for kind in DELETE_ORDER:  # what uses an object goes first
        if run.failures:
            break
        run.level([c for c in todo if c.kind == kind and c.action == "delete"], parallelism)
    return run.result(todo)


class _Run:
    """One apply under way: what is done and what failed, shared by its worker threads."""

    def __init__(
        self,
        the_plan: Plan,
        client: StreamkapClient,
        bodies: Mapping[int, Any],
        ids: dict[str, str],
        hidden: set[str],
        progress: Callable[[Change, str], None] | None,
    ) -> None:
        import threading

        self.plan, self.client, self.bodies, self.ids = the_plan, client, bodies, ids
        self.hidden, self.progress = hidden, progress
        self.done: dict[int, str] = {}  # id(change) -> object id
        self.failures: dict[int, str] = {}  # id(change) -> reason
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def one(self, change: Change) -> None:
        if self.stop.is_set():
            return  # a failure came first: nothing new is started
        try:
            with self.lock:
                ids = dict(self.ids)
            ident = _apply_one(change, self.bodies.get(id(change)), self.client, ids, self.plan)
        except StreamkapConfigError as exc:  # ApiError, ConfigValidationError, a refused id
            from ..remote.client import scrub

            self.stop.set()
            with self.lock:
                self.failures[id(change)] = scrub(str(exc), self.hidden)
            return
        with self.lock:
            self.ids[f"{change.kind}/{change.name}"] = ident
            self.done[id(change)] = ident
            if self.progress is not None:
                self.progress(change, ident)

    def level(self, changes: list[Change], parallelism: int) -> None:
        if parallelism == 1 or len(changes) < 2:
            for change in changes:
                self.one(change)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=parallelism) as pool:
            list(pool.map(self.one, changes))

    def result(self, todo: list[Change]) -> ApplyResult:
        out = ApplyResult(done=[(c, self.done[id(c)]) for c in todo if id(c) in self.done])
        failed = [(c, self.failures[id(c)]) for c in todo if id(c) in self.failures]
        if failed:
            out.failed, out.also_failed = failed[0], failed[1:]
            out.not_done = [c for c in todo if id(c) not in self.done | self.failures]
        return out


def _apply_one(
    change: Change,
    body: Any,
    client: StreamkapClient,
    ids: Mapping[str, str],
    the_plan: Plan,
) -> str:
    from ..remote.endpoints import ENDPOINTS
    from .payload import build_payload

    if change.action == "delete":
        assert change.id is not None
        try:
            client.delete(change.kind, change.id)
        except ApiError as exc:
            if exc.status != 404:  # gone already (a lost answer, a second run): done
                raise
        return change.id
    if change.kind == PIPELINE:
        assert change.document is not None
        pipeline = build_payload(
            change.document, ids=ids, project=the_plan.project, topic_ids=the_plan.topic_ids
        )
        sent = pipeline.model_dump(mode="json", exclude_none=True)
    else:
        sent = body.model_dump(mode="json", exclude_none=True)
    if change.action == "update" and change.id is not None:
        return client.update(change.kind, change.id, sent).id
    # A create that failed or timed out before may have happened: look the name up first.
    adopt_any = ENDPOINTS[change.kind].adopt_by_name
    found = client.list(change.kind, change.name)
    if found:
        return _adopt(change, found[0], sent, adopt_any)
    try:
        return client.create(change.kind, sent).id
    except ApiError as exc:
        if exc.already_exists:  # created meanwhile, or an answer that was lost
            adopted = client.list(change.kind, change.name)
            if adopted:
                return _adopt(change, adopted[0], sent, adopt_any)
        raise


def _adopt(change: Change, live: Resource, sent: Mapping[str, Any], adopt_any: bool) -> str:
    """The id of a same-named live object, when it may be taken as this document's."""
    if adopt_any or _is_what_was_sent(live, sent):
        return live.id
    raise StreamkapConfigError(
        f"a {change.kind} named {change.name!r} already exists ({live.id}) and is not the one "
        "this run sends: it may be someone else's; rename this document, or delete that "
        f"{change.kind} and run again"
    )


def _is_what_was_sent(live: Any, sent: Mapping[str, Any]) -> bool:
    """A live pipeline or transform matches the body this run sends (echoes normalised)."""
    if live.kind == PIPELINE:
        source, destination = sent["source"], sent["destination"]
        discovery = {(a["transform_id"], a["regex"]) for a in sent.get(_AUTO, [])}
        return bool(
            live.source.id == source["id"]
            and live.destination.id == destination["id"]
            and sorted(live.pretty_topics()) == sorted(source["topics"])
            and live.transform_topics() == {(t["id"], t["topic"]) for t in sent["transforms"]}
            and {(a.transform_id, a.regex) for a in live.topic_auto_discovery_transforms}
            == discovery
        )
    if getattr(live, "transform", None) != sent.get("transform"):
        return False
    config = getattr(live, "config", {})
    return all(
        same(value, config.get(key))
        for key, value in sent.get("config", {}).items()
        if config.get(key) is not None  # secrets come back absent
    )


_AUTO = "topic_auto_discovery_transforms"
