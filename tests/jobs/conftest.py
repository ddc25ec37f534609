"""Job tests: the test kinds are registered; helpers to read a job's row afresh."""

import pytest

from .kinds import register_test_kinds


@pytest.fixture(autouse=True, scope="session")
def _test_kinds():
    register_test_kinds()
