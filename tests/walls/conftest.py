"""Tests that use `world_db` share one world per module (tests/world.py) and roll back to it."""

import pytest

from ..world import isolation, open_world


@pytest.fixture(scope="module")
def world_db(app):
    yield from open_world(app)


@pytest.fixture(autouse=True)
def _isolated(request, app):
    """Overrides the suite's per-test transaction for tests that use the module's world."""
    yield from isolation(request, app)
