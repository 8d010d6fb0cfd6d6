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

__all__ = ["RESOURCES", "Destination", "Pipeline", "Resource", "Source", "Transform", "unwrap"]

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


class Destination(Resource):
    KIND: ClassVar[str] = "destination"

    connector: str
    connector_display_name: str | None = None
    created_timestamp: str | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    connector_status: str | None = None
    kc_cluster_id: str | None = None
    tags: list[str] = Field(default_factory=list)


class Transform(Resource):
    KIND: ClassVar[str] = "transform"

    transform: str
    config: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)


class PipelineEnd(BaseModel):
    """The source or destination of a pipeline, as the API returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str | None = None
    connector: str | None = None
    topics: list[str] = Field(default_factory=list)


class Pipeline(Resource):
    KIND: ClassVar[str] = "pipeline"

    source: PipelineEnd
    destination: PipelineEnd
    transforms: list[dict[str, Any]] = Field(default_factory=list)
    snapshot_new_tables: bool | None = None
    tags: list[str] = Field(default_factory=list)


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
