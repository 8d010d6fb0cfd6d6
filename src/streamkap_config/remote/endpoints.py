"""Where each kind of object lives in the API, and how it is written: one table.

The backend is not uniform (DESIGN.md §1, "What the backend really does"):
transforms are updated with ``PUT /transforms`` and their id in the body, and
deleted with ``DELETE /transforms?id=``; the other kinds use ``/{kind}s/{id}``.
After an "already exists" answer the public Terraform provider adopts sources
and destinations by name, but not pipelines and transforms (a same-named one
may be someone else's). Those differences are rows here, never ``if kind``.

>>> ENDPOINTS["transform"].update_request("t 1", {"name": "x"})
('/transforms', {}, {'name': 'x', 'id': 't 1'})
>>> ENDPOINTS["source"].update_request("s/1", {"name": "x"})[0]
'/sources/s%2F1'
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..core.errors import StreamkapConfigError
from ..core.records import record

__all__ = ["ENDPOINTS", "Endpoint", "id_segment"]


def id_segment(ident: object) -> str:
    """An object id as one path segment: percent-encoded, never empty, never ``.``/``..``.

    An id comes from the server or a file: ``../../admin`` must not walk the path.

    >>> id_segment("a/b?c#d")
    'a%2Fb%3Fc%23d'
    """
    if not isinstance(ident, str) or ident.strip() in ("", ".", ".."):
        raise StreamkapConfigError(f"refused an object id that cannot name one object: {ident!r}")
    return quote(ident, safe="")


@record(frozen=True)
class Endpoint:
    """The paths and write styles of one kind of object."""

    kind: str
    path: str  # the collection: "/sources"
    update_in_body: bool = False  # PUT <path> with "id" in the body
    delete_by_query: bool = False  # DELETE <path>?id=<id>
    read_params: tuple[tuple[str, str], ...] = ()
    adopt_by_name: bool = True  # a same-named live object may be taken as ours

    def object_path(self, ident: str) -> str:
        """``GET`` path of one object."""
        return f"{self.path}/{id_segment(ident)}"

    def update_request(
        self, ident: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, str], dict[str, Any]]:
        """``(path, params, body)`` of the ``PUT`` that replaces object ``ident``."""
        if self.update_in_body:
            id_segment(ident)  # the same refusals, though it travels in the body
            return self.path, {}, {**body, "id": ident}
        return self.object_path(ident), {}, body

    def delete_request(self, ident: str) -> tuple[str, dict[str, str]]:
        """``(path, params)`` of the ``DELETE`` of object ``ident``."""
        if self.delete_by_query:
            id_segment(ident)
            return self.path, {"id": ident}
        return self.object_path(ident), {}


ENDPOINTS: dict[str, Endpoint] = {
    "source": Endpoint("source", "/sources"),
    "destination": Endpoint("destination", "/destinations"),
    "transform": Endpoint(
        "transform",
        "/transforms",
        update_in_body=True,
        delete_by_query=True,
        read_params=(("unwind_topics", "false"),),
        adopt_by_name=False,
    ),
    "pipeline": Endpoint("pipeline", "/pipelines", adopt_by_name=False),
}
