"""Fixtures for rectification: a submitted inspection of one unit with open items, its liaison,
the team, a coordinator, and a second unit with its own item and liaison."""

from datetime import date

import pytest

from inspect_app.extensions import db
from inspect_app.models import Inspection, User

TODAY = date(2026, 6, 1)


@pytest.fixture
def world(app, make):
    with app.app_context():
        unit, other_unit = make.unit(code="U-R1"), make.unit(code="U-R2")
        lead, member, outsider = (make.user(role="inspector") for _ in range(3))
        inspection = make.inspection(
            unit=unit, members=[lead, member], status="submitted", notice_number="整改〔2026〕第9号"
        )
        items = [
            make.finding(inspection, due_date=date(2026, 6, 20)).rectification for _ in range(3)
        ]
        other = make.finding(
            make.inspection(unit=other_unit, status="submitted"), due_date=date(2026, 6, 20)
        ).rectification
        ids = {
            "items": [i.id for i in items],
            "other_item": other.id,
            "inspection": inspection.id,
            "unit": unit.id,
            "liaison": make.user(role="unit", unit=unit).id,
            "other_liaison": make.user(role="unit", unit=other_unit).id,
            "office": make.user(role="coordinator").id,
            "viewer": make.user(role="viewer").id,
            "lead": lead.id,
            "outsider": outsider.id,
        }
    return ids


def user(ident: int) -> User:
    return db.session.get(User, ident)


def inspection(ident: int) -> Inspection:
    return db.session.get(Inspection, ident)
