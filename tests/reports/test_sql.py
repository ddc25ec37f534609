"""The date expressions of reports/sql.py give what the same dates give in Python, on the rows
as each database stores them."""

from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from inspect_app.extensions import db
from inspect_app.models import RectificationItem
from inspect_app.reports.sql import on_or_before_local

DUE = date(2026, 12, 31)


@pytest.mark.parametrize(
    "closed_at",
    [
        datetime(2026, 12, 30, 16, 0),  # 00:00 on the due date in Beijing
        datetime(2026, 12, 31, 15, 59, 59, 999999),  # 23:59:59.999999 on the due date
        datetime(2026, 12, 31, 15, 59, 59),
        datetime(2026, 12, 31, 16, 0),  # 00:00 the next day (and year) in Beijing
        datetime(2026, 12, 31, 16, 0, 0, 1),
        datetime(2027, 1, 1, 9, 30),
        datetime(2026, 6, 1, 0, 0),
    ],
)
def test_a_closing_moment_is_on_or_before_the_due_date_by_its_beijing_date(app, make, closed_at):
    with app.app_context():
        item = make.finding(status="closed", due_date=DUE).rectification
        item.closed_at = closed_at
        db.session.commit()
        got = db.session.scalar(
            sa.select(
                on_or_before_local(RectificationItem.closed_at, RectificationItem.due_date)
            ).where(RectificationItem.id == item.id)
        )
        assert bool(got) == ((closed_at + timedelta(hours=8)).date() <= DUE)


def test_a_missing_moment_or_date_is_neither_on_time_nor_late(app, make):
    with app.app_context():
        item = make.finding(status="open", due_date=None).rectification
        db.session.commit()
        got = db.session.scalar(
            sa.select(
                on_or_before_local(RectificationItem.closed_at, RectificationItem.due_date)
            ).where(RectificationItem.id == item.id)
        )
        assert got is None
