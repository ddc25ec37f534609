"""Fixtures for the round tests: checklist versions and inspectors of two departments."""

from __future__ import annotations

import itertools

import pytest

from inspect_app.extensions import db
from inspect_app.models import ChecklistTemplate

_n = itertools.count(1)


@pytest.fixture
def make_template(app):
    """make_template(target="unit") -> a ChecklistTemplate row (the loader is tested elsewhere)."""

    def _make(target: str = "unit", key: str | None = None, version: str = "1.0"):
        n = next(_n)
        template = ChecklistTemplate(
            key=key or f"K{n}",
            version=version,
            title=f"检查清单{n}",
            target=target,
            sha256=f"{n:064d}",
        )
        db.session.add(template)
        db.session.commit()
        return template

    return _make


@pytest.fixture
def team(make):
    """Three active inspectors: two of the CAC department and one of the police."""
    cac, police = make.department(name="网信"), make.department(name="公安")
    return [
        make.user(role="inspector", department=cac, certificate_no="网信执字01"),
        make.user(role="inspector", department=police, certificate_no="公网安执字02"),
        make.user(role="inspector", department=cac, certificate_no="网信执字03"),
    ]
