"""Reminders of due dates, stored as notifications by `flask rectification remind` (for cron).

The rule, for items of the unit's turn (open or returned) with a due date:
- due within 7 days: one "due soon" reminder to the unit's users; then, within 1 day (due
  tomorrow or today), one more. An item first seen already within 1 day gets only that one.
- overdue: one reminder to the unit's users and to the coordinators on the first run after the
  due date, then one a week (days 1-7 overdue are week 0, days 8-14 week 1, ...).
Each reminder's dedupe_key names the item, its due date and the step (and the week), so running
the command twice, or twice a day, stores nothing new; a moved due date (extension, return)
starts its reminders afresh. A missed day of cron is caught up on the next run, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError

from ..models import RectificationItem
from ..notifications import services as notifications
from ..transaction import unit_of_work
from . import queries

SOON_DAYS = 7
LAST_CALL_DAYS = 1


@dataclass
class Reminded:
    """What one run added: items reminded of by kind, and notifications stored."""

    due_soon: int = 0
    overdue: int = 0
    notifications: int = 0


def _data(item: RectificationItem, days: int) -> dict:
    return {
        "code": item.finding.code,
        "unit": item.unit.name,
        "due_date": item.due_date.isoformat(),
        "days": days,
    }


def overdue_week(item: RectificationItem, today: date) -> int:
    """0 for the first seven days overdue, 1 for the next seven, ..."""
    return ((today - item.due_date).days - 1) // 7


def _add(today: date) -> Reminded:
    done = Reminded()
    office = notifications.office_users()
    unit_people: dict[int, list] = {}

    def people(unit_id: int) -> list:
        if unit_id not in unit_people:
            unit_people[unit_id] = notifications.unit_users(unit_id)
        return unit_people[unit_id]

    for item in queries.due_within(today, SOON_DAYS):
        days = (item.due_date - today).days
        step = "due1" if days <= LAST_CALL_DAYS else "due7"
        made = notifications.notify(
            people(item.unit_id),
            "due_soon",
            item,
            data=_data(item, days),
            dedupe_key=f"remind:{step}:{item.id}:{item.due_date.isoformat()}",
        )
        done.due_soon += bool(made)
        done.notifications += len(made)
    for item in queries.overdue_items(today):
        week = overdue_week(item, today)
        made = notifications.notify(
            people(item.unit_id) + office,
            "overdue",
            item,
            data=_data(item, (today - item.due_date).days),
            dedupe_key=f"remind:overdue:{item.id}:{item.due_date.isoformat()}:w{week}",
        )
        done.overdue += bool(made)
        done.notifications += len(made)
    return done


def add_reminders(*, today: date) -> Reminded:
    """Store the reminders due today that are not stored yet (see the module's rule).

    No audit event: a reminder changes no record, it tells people about one. Commits once; a
    concurrent run that stored the same reminder first makes this one start again and add
    only what is still missing.
    """
    try:
        with unit_of_work():
            return _add(today)
    except IntegrityError:
        # Another run stored one of these reminders first: once more, now seeing its rows.
        with unit_of_work():
            return _add(today)
