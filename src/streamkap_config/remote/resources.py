"""Objects as the API returns them: sources, destinations, transforms, pipelines.

Read tolerantly: unknown fields are kept out of the way, missing optional ones
get their defaults, statuses the API may add later are kept as they come, and
an object may come bare or wrapped in ``{"result": [object]}``.

>>> src = Source.model_validate({"id": "s1", "name": "orders", "connector": "postgresql",
...                              "connector_status": "Resizing", "config": {"a": "1"}})
>>> src.connector_status, src.kind
('Resizing', 'source')
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "RESOURCES",
    "AutoDiscovery",
    "Destination",
    "Pipeline",
    "PipelineTransformEntry",
    "Resource",
    "Source",
    "Transform",
    "pretty_topic",
    "source_topic_id",
    "unwrap",
]

#: Statuses DESIGN.md lists; others are kept as strings (the API may add some).
CONNECTOR_STATUSES = (
    "Active",
    "Paused",
    "Stopped",
    "Broken",
    "Starting",
    "Unassigned",
    "Unknown",
    "Pending",
)


class Resource(BaseModel):
    """What every object of the API has: an id and a name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    KIND: ClassVar[str] = ""

    id: str
    name: str

    @property
    def kind(self) -> str:
        return self.KIND


class Source(Resource):
    KIND: ClassVar[str] = "source"

    connector: str
    connector_display_name: str | None = None
    created_timestamp: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    topic_ids: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    connector_status: str | None = None  # one of CONNECTOR_STATUSES, or one to come
    desired_state: str | None = None
    kc_cluster_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    task_statuses: Any = None


class Destination(Resource):
    KIND: ClassVar[str] = "destination"

    connector: str
    connector_display_name: str | None = None
    created_timestamp: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    connector_status: str | None = None
    kc_cluster_id: str | None = None
    tags: list[str] = Field(default_factory=list)
    task_statuses: Any = None


class Transform(Resource):
    KIND: ClassVar[str] = "transform"

    transform: str
    config: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    # A deployed transform's own topic ids (``transform_<id>_<version>...``), beside
    # the topics they stand for.
    topic_ids: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    status: str | None = None  # RUNNING, INITIALIZING, DEPLOYING, STOPPED, FAILED, UNKNOWN

    def topic_id(self, topic: str) -> str | None:
        """This transform's own id for ``topic``, when it has been deployed."""
        if len(self.topic_ids) != len(self.topics):
            return None
        return dict(zip(self.topics, self.topic_ids, strict=True)).get(topic)


class PipelineEnd(BaseModel):
    """The source or destination of a pipeline, as the API returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str | None = None
    connector: str | None = None
    topics: list[str] = Field(default_factory=list)


class PipelineTransformEntry(BaseModel):
    """One (transform, topic) of a pipeline: the API keeps one entry per topic."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str | None = None
    start_time: str | None = None
    topic_id: str | None = None  # source_<source id>.<topic>, or the transform's own
    topic: str | None = None  # the pretty name (reads); may be absent in write answers


class AutoDiscovery(BaseModel):
    """A transform applied to the topics a pipeline discovers later, by regex."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    transform_id: str
    regex: str


class Pipeline(Resource):
    KIND: ClassVar[str] = "pipeline"

    source: PipelineEnd
    destination: PipelineEnd
    transforms: list[PipelineTransformEntry] = Field(default_factory=list)
    topic_auto_discovery_transforms: list[AutoDiscovery] = Field(default_factory=list)
    snapshot_new_tables: bool | None = None
    tags: list[str] = Field(default_factory=list)

    def pretty_topics(self) -> list[str]:
        """The source's topics as reads give them: ``source_<id>.`` stripped, exactly."""
        return [pretty_topic(self.source.id, t) for t in self.source.topics]

    def transform_topics(self) -> set[tuple[str, str]]:
        """``(transform id, pretty topic)`` of every entry."""
        found = set()
        for entry in self.transforms:
            topic = entry.topic or entry.topic_id or ""
            found.add((entry.id, pretty_topic(self.source.id, topic)))
        return found


def source_topic_id(source_id: str, topic: str) -> str:
    """The id the API gives a source's topic: ``source_<source id>.<topic>``."""
    return f"source_{source_id}.{topic}"


def pretty_topic(source_id: str, topic: str) -> str:
    """``topic`` without exactly the ``source_<source id>.`` prefix (never a first-segment
    split: ``default.MyTable`` keeps its ``default.``).

    >>> pretty_topic("s1", "source_s1.default.MyTable"), pretty_topic("s1", "default.MyTable")
    ('default.MyTable', 'default.MyTable')
    """
    prefix = source_topic_id(source_id, "")
    return topic[len(prefix) :] if topic.startswith(prefix) else topic


RESOURCES: dict[str, type[Resource]] = {
    "source": Source,
    "destination": Destination,
    "transform": Transform,
    "pipeline": Pipeline,
}


def unwrap(data: Any) -> Any:
    """An object that may come bare or as ``{"result": [object]}``."""
    if isinstance(data, dict) and isinstance(data.get("result"), list):
        items = data["result"]
        if len(items) == 1:
            return items[0]
    return data
