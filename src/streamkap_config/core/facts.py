"""Facts about the Streamkap API request bodies, written once.

Every module that checks, generates or builds a body takes these from here.
"""

from __future__ import annotations

__all__ = ["CREATED_FROM", "DESIRED_STATES"]

# Which fields each kind's body has is in :mod:`streamkap_config.core.kinds`.
CREATED_FROM = ("terraform", "web", "api")
DESIRED_STATES = ("Pending", "Active", "Paused", "Stopped", "Pending Update", "Pending Delete")
