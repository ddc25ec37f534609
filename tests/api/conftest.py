"""The API tests share one world per module (tests/world.py); each test rolls back to it."""

import pytest

from ..world import isolate_in_world, open_world


@pytest.fixture(scope="module")
def world_db(app):
    yield from open_world(app)


@pytest.fixture(autouse=True)
def _isolated(app, world_db):
    """Overrides the suite's per-test transaction: a SAVEPOINT inside the module's world."""
    yield from isolate_in_world(app, world_db)
