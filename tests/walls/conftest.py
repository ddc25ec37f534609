"""Tests that use `world_db` share one world per module (tests/world.py) and roll back to it."""

from datetime import timedelta

import pytest

from ..world import isolation, open_world


@pytest.fixture(scope="module")
def world_db(app):
    # The clients' logins are made once per module; a module that runs longer than the
    # once-a-minute touch of last_seen_at would otherwise see refused requests "change the
    # database" (the touch), and fail by the clock on a busy machine.
    from inspect_app.auth import services

    interval = services.SESSION_TOUCH_INTERVAL
    services.SESSION_TOUCH_INTERVAL = timedelta(days=1)
    try:
        yield from open_world(app)
    finally:
        services.SESSION_TOUCH_INTERVAL = interval


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Overrides the suite's per-test transaction for tests that use the module's world."""
    yield from isolation(request, app)
