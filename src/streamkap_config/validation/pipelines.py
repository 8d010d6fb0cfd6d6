"""Pipeline documents: the document alone, and the references it makes.

A pipeline joins a source (with the topics it carries) to a destination, with
optional transforms::

    kind: pipeline
    name: orders-to-snowflake
    source: {name: orders-postgres, topics: [public.orders]}
    destination: {name: snowflake-prod}
    transforms: [{name: mask-pii, topics: [public.orders]}]
    snapshot_new_tables: true

A reference names a document of the project (``name``), or one created
elsewhere (``id``), or both; it may carry ``connector``. Checking what the
references point at needs every document: :mod:`streamkap_config.project.validate`.

>>> refs = references({"source": {"name": "s", "topics": ["t"]}, "destination": {"id": "d1"}})
>>> [(r.kind, r.name, r.id, r.topics) for r in refs]
[('source', 's', None, ('t',)), ('destination', None, 'd1', ())]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.document import Tokens
from ..core.issues import Collector, describe_value
from ..core.kinds import PIPELINE
from ..core.records import record

if TYPE_CHECKING:
    from .result import ValidationResult

__all__ = ["PIPELINE_FIELDS", "Reference", "check_pipeline", "references"]

PIPELINE_FIELDS = (
    "kind",
    "name",
    "source",
    "destination",
    "transforms",
    "topic_auto_discovery_transforms",
    "snapshot_new_tables",
    "tags",
)
#: Transforms for the topics the pipeline discovers later: ``[{name or id, regex}]``.
AUTO_DISCOVERY = "topic_auto_discovery_transforms"
_REFERENCE_FIELDS = {
    "source": ("name", "id", "connector", "topics"),
    "destination": ("name", "id", "connector"),
    "transform": ("name", "id", "topics"),
    AUTO_DISCOVERY: ("name", "id", "regex"),
}


@record(frozen=True)
class Reference:
    """One reference of a pipeline: to a source, a destination or a transform."""

    kind: str
    name: str | None
    id: str | None
    connector: str | None
    topics: tuple[str, ...]
    tokens: Tokens  # where the reference stands in the pipeline document
    regex: str | None = None  # a topic_auto_discovery_transforms entry's

    @property
    def auto_discovery(self) -> bool:
        """An entry of ``topic_auto_discovery_transforms``, not of ``transforms``."""
        return self.tokens[0] == AUTO_DISCOVERY


def references(data: Mapping[str, Any]) -> list[Reference]:
    """The well-formed references of a pipeline body (malformed ones are skipped)."""
    found = []

    def one(kind: str, value: Any, tokens: Tokens) -> None:
        if not isinstance(value, Mapping):
            return
        name, ident, connector = value.get("name"), value.get("id"), value.get("connector")
        topics, regex = value.get("topics"), value.get("regex")
        found.append(
            Reference(
                kind,
                name if isinstance(name, str) and name else None,
                ident if isinstance(ident, str) and ident else None,
                connector if isinstance(connector, str) and connector else None,
                tuple(t for t in topics if isinstance(t, str)) if isinstance(topics, list) else (),
                tokens,
                regex if isinstance(regex, str) else None,
            )
        )

    one("source", data.get("source"), ("source",))
    one("destination", data.get("destination"), ("destination",))
    transforms = data.get("transforms")
    if isinstance(transforms, list):
        for n, item in enumerate(transforms):
            one("transform", item, ("transforms", str(n)))
    discovery = data.get(AUTO_DISCOVERY)
    if isinstance(discovery, list):
        for n, item in enumerate(discovery):
            one("transform", item, (AUTO_DISCOVERY, str(n)))
    return found


def check_pipeline(run: Collector, data: Mapping[str, Any]) -> ValidationResult:
    """The checks a pipeline document gets alone; returns its ValidationResult."""
    from ..core.hints import did_you_mean
    from .result import ValidationResult

    def bad(tokens: Tokens, text: str, hint: str | None = None, at_key: bool = False) -> None:
        run.add("envelope", "error", tokens, text, hint=hint, at_key=at_key)

    for key in data:
        if key not in PIPELINE_FIELDS:
            hint = did_you_mean(str(key), PIPELINE_FIELDS)
            bad((str(key),), "unknown field", hint, at_key=True)
    name = data.get("name")
    if "name" not in data:
        bad((), "missing required field name", at_key=True)
    elif not isinstance(name, str) or not name.strip():
        bad(("name",), f"expected a non-empty string, got {describe_value(name)}")
    else:
        from .result import check_name_is_literal

        check_name_is_literal(run, name)
    for field in ("source", "destination"):
        if field not in data:
            bad((), f"missing required field {field}", at_key=True)
        else:
            _check_reference(run, field, data[field], (field,))
    transforms = data.get("transforms")
    if transforms is not None:
        if not isinstance(transforms, list):
            bad(("transforms",), f"expected a list of transforms, got {describe_value(transforms)}")
        else:
            for n, item in enumerate(transforms):
                _check_reference(run, "transform", item, ("transforms", str(n)))
    discovery = data.get(AUTO_DISCOVERY)
    if discovery is not None:
        if not isinstance(discovery, list):
            bad(
                (AUTO_DISCOVERY,),
                f"expected a list of {{name, regex}}, got {describe_value(discovery)}",
            )
        else:
            for n, item in enumerate(discovery):
                _check_reference(run, AUTO_DISCOVERY, item, (AUTO_DISCOVERY, str(n)))
    snapshot = data.get("snapshot_new_tables")
    if snapshot is not None and not isinstance(snapshot, bool):
        bad(
            ("snapshot_new_tables",),
            f"expected true or false, got {describe_value(snapshot)}",
        )
    tags = data.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        bad(("tags",), f"expected a list of tag ids, got {describe_value(tags)}")
    issues = run.sorted()
    ok = not any(i.severity == "error" for i in issues)
    return ValidationResult(ok, issues, None, None, PIPELINE, dict(data) if ok else None)


def _check_regex(run: Collector, value: Any, tokens: Tokens) -> None:
    """A topic regex: a non-empty string that compiles (Java's syntax is close to Python's)."""
    import re

    if not isinstance(value, str) or not value:
        run.add("envelope", "error", tokens, f"expected a regex, got {describe_value(value)}")
        return
    try:
        re.compile(value)
    except (re.error, RecursionError, OverflowError) as exc:
        reason = exc.msg if isinstance(exc, re.error) else "too deeply nested or too large"
        run.add("envelope", "error", tokens, f"not a valid regex: {reason}")


def _check_reference(run: Collector, kind: str, value: Any, tokens: Tokens) -> None:
    from ..core.hints import did_you_mean

    def bad(where: Tokens, text: str, hint: str | None = None, at_key: bool = False) -> None:
        run.add("envelope", "error", where, text, hint=hint, at_key=at_key)

    if not isinstance(value, Mapping):
        bad(tokens, f"expected a mapping with name or id, got {describe_value(value)}")
        return
    allowed = _REFERENCE_FIELDS[kind]
    for key in value:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed) or f"it holds {', '.join(allowed)}"
            bad((*tokens, str(key)), "unknown field", hint, at_key=True)
    noun = "transform" if kind == AUTO_DISCOVERY else kind
    if "name" not in value and "id" not in value:
        bad(tokens, f"a {noun} reference needs a name or an id", at_key=True)
    if "regex" in allowed:
        if "regex" not in value:
            bad(tokens, "missing required field regex", "the topics it applies to", True)
        else:
            _check_regex(run, value["regex"], (*tokens, "regex"))
    for key in ("name", "id", "connector"):
        if key in value and (not isinstance(value[key], str) or not value[key]):
            bad((*tokens, key), f"expected a non-empty string, got {describe_value(value[key])}")
    if "topics" in allowed:
        topics = value.get("topics")
        if topics is None:
            if kind == "source":
                bad(tokens, "missing required field topics", "list the topics it carries", True)
        elif not isinstance(topics, list) or not topics:
            bad((*tokens, "topics"), f"expected a list of topics, got {describe_value(topics)}")
        else:
            for n, topic in enumerate(topics):
                if not isinstance(topic, str) or not topic:
                    bad(
                        (*tokens, "topics", str(n)),
                        f"expected a topic, got {describe_value(topic)}",
                    )
