from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: The variables the example project's secrets read (examples/project), for the tests
#: that deploy it.
EXAMPLE_SECRETS = {
    "PG_PASSWORD": "pg-secret-1",
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOR",
    "AWS_SECRET_ACCESS_KEY": "aws-secret-2",
    "SNOWFLAKE_PRIVATE_KEY": "sf-secret-3",
}

settings.register_profile(
    "default",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# CI runs the same number of examples: the suite stays within its time budget there
# too; `--hypothesis-profile=thorough` (300 examples) is there for a longer look.
settings.register_profile("ci", parent=settings.get_profile("default"))
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def pytest_collection_modifyitems(items: list) -> None:
    """The groups that one worker runs whole (the pre-commit hook's environment, the
    language server) go first, so the other worker fills the time they take instead
    of waiting for them at the end. The order within each part is kept."""

    def grouped(item) -> bool:
        return item.get_closest_marker("xdist_group") is not None

    items[:] = [i for i in items if grouped(i)] + [i for i in items if not grouped(i)]
