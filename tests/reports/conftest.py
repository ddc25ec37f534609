"""The year of rows test_figures.py builds (`data`), shared with the other figure tests."""

from .test_figures import data  # noqa: F401 - a fixture
