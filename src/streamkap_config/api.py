"""Facts about the Streamkap API request bodies, written once.

Every module that checks, generates or builds a body takes these from here.
"""

from __future__ import annotations

__all__ = ["CREATED_FROM", "DESIRED_STATES", "ENVELOPE_FIELDS"]

#: Fields of the CreateSource body, in the order the API documents them.
ENVELOPE_FIELDS = (
    "name",
    "connector",
    "config",
    "created_from",
    "desired_state",
    "kc_cluster_id",
    "tags",
)
CREATED_FROM = ("terraform", "web", "api")
DESIRED_STATES = ("Pending", "Active", "Paused", "Stopped", "Pending Update", "Pending Delete")
