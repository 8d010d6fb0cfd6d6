"""The kinds of Streamkap resources, as data: one record each, no per-kind code paths.

>>> KINDS["destination"].plural, KINDS["transform"].code_field
('destinations', 'transform')
>>> kind_of_list("transforms").name
'transform'
"""

from __future__ import annotations

from .records import record

__all__ = ["KINDS", "KIND_NAMES", "Kind", "kind_of_list"]


@record(frozen=True)
class Kind:
    """What differs between sources, destinations and transforms.

    ``fields`` are the body's fields besides ``config`` and the code field, in
    the API's order; ``section`` names the cache folder and the lock-file
    section (``connectors`` for sources: the v0.1 layout stays readable);
    ``definitions_path`` is the API path serving definitions (None: bundled only).
    """

    name: str
    plural: str
    code_field: str
    fields: tuple[str, ...]
    section: str
    definitions_path: str | None
    label: str  # what a code of this kind is called in messages

    @property
    def envelope_fields(self) -> tuple[str, ...]:
        """Every field the body may hold, ``kind`` excluded (it is never sent)."""
        return ("name", self.code_field, "config", *self.fields)


KINDS: dict[str, Kind] = {
    "source": Kind(
        name="source",
        plural="sources",
        code_field="connector",
        fields=("created_from", "desired_state", "kc_cluster_id", "tags"),
        section="connectors",
        definitions_path="/sources/connectors",
        label="source connector",
    ),
    "destination": Kind(
        name="destination",
        plural="destinations",
        code_field="connector",
        fields=("created_from", "kc_cluster_id", "tags"),
        section="destinations",
        definitions_path="/destinations/connectors",
        label="destination connector",
    ),
    "transform": Kind(
        name="transform",
        plural="transforms",
        code_field="transform",
        fields=("tags",),
        section="transforms",
        definitions_path=None,
        label="transform type",
    ),
}

#: Pipelines have no connector definition: they join documents of the kinds above.
PIPELINE = "pipeline"

#: Every kind a document may declare.
KIND_NAMES = (*KINDS, PIPELINE)

#: The list keys of a file of documents, and the kind of each list's items.
LIST_KEYS = {**{kind.plural: kind.name for kind in KINDS.values()}, "pipelines": PIPELINE}


def kind_of_list(key: str) -> Kind | None:
    """The kind whose documents a file lists under ``key`` (``sources:`` ...)."""
    for kind in KINDS.values():
        if kind.plural == key:
            return kind
    return None
