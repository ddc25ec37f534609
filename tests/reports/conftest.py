"""The year of rows test_figures.py builds (`data`), shared with the other figure tests; an
inspection ready to fill and submit (`setup`, tests/inspections), for the stored tallies."""

from ..inspections.conftest import setup  # noqa: F401 - a fixture
from .test_figures import data  # noqa: F401 - a fixture
