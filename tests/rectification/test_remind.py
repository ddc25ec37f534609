"""`flask rectification remind`: due-soon and overdue reminders once each, expired risks reopened.

The world (conftest) has three open items of unit U-R1 and one of U-R2, all due 2026-06-20.
"""

from datetime import date

import pytest

from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Notification, RectificationItem
from inspect_app.rectification import services as rs

from .conftest import TODAY, user

DUE = date(2026, 6, 20)


def remind(app, day: date | str):
    result = app.test_cli_runner().invoke(
        args=["rectification", "remind", "--today", str(day)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def _notes(app, kind: str | None = None) -> list[tuple[int, str, int | None, dict]]:
    with app.app_context():
        query = db.session.query(Notification).order_by(Notification.id)
        if kind:
            query = query.filter_by(kind=kind)
        return [(n.user_id, n.kind, n.item_id, dict(n.data)) for n in query]


def test_seven_days_ahead_each_liaison_is_reminded_once_however_often_it_runs(app, world):
    output = remind(app, "2026-06-13")
    assert "即将到期4项" in output and "共4条通知" in output
    notes = _notes(app, "due_soon")
    assert sorted(n[0] for n in notes) == sorted([world["liaison"]] * 3 + [world["other_liaison"]])
    assert {n[3]["days"] for n in notes} == {7} and notes[0][3]["due_date"] == DUE.isoformat()
    assert notes[0][3]["unit"] and notes[0][3]["code"]
    again = remind(app, "2026-06-13")
    assert "即将到期0项，已逾期0项；共0条通知" in again
    remind(app, "2026-06-14")  # the next day: still the same seven-day reminder
    assert len(_notes(app, "due_soon")) == 4


def test_the_day_before_comes_a_last_reminder_and_nothing_more_on_the_day(app, world):
    remind(app, "2026-06-13")
    remind(app, "2026-06-19")
    remind(app, "2026-06-20")
    days = sorted(n[3]["days"] for n in _notes(app, "due_soon") if n[0] == world["liaison"])
    assert days == [1, 1, 1, 7, 7, 7]


def test_an_item_first_seen_the_day_before_gets_only_the_last_reminder(app, world):
    remind(app, "2026-06-20")  # due today: the "within one day" reminder only
    notes = _notes(app, "due_soon")
    assert len(notes) == 4 and {n[3]["days"] for n in notes} == {0}


def test_overdue_items_remind_the_unit_and_the_coordinators_once_then_weekly(app, world):
    output = remind(app, "2026-06-21")
    assert "已逾期4项" in output
    notes = _notes(app, "overdue")
    to_office = [n for n in notes if n[0] == world["office"]]
    to_unit = [n for n in notes if n[0] == world["liaison"]]
    assert len(to_office) == 4 and len(to_unit) == 3
    assert world["viewer"] not in {n[0] for n in notes}
    assert {n[3]["days"] for n in notes} == {1}
    for day in ("2026-06-21", "2026-06-24", "2026-06-27"):  # the rest of the first week
        remind(app, day)
    assert len(_notes(app, "overdue")) == len(notes)
    remind(app, "2026-06-28")  # eight days overdue: the weekly reminder
    later = _notes(app, "overdue")[len(notes) :]
    assert len(later) == len(notes) and {n[3]["days"] for n in later} == {8}
    remind(app, "2026-06-28")
    assert len(_notes(app, "overdue")) == 2 * len(notes)


def test_a_week_of_missed_runs_is_caught_up_once(app, world):
    remind(app, "2026-07-15")  # 25 days overdue, never reminded before
    notes = _notes(app, "overdue")
    assert len(notes) == 8 and {n[3]["days"] for n in notes} == {25}  # 4 to each side


def test_items_that_are_not_the_units_turn_get_no_reminders(app, world):
    with app.app_context():
        rs.respond(
            world["items"][0],
            actor=user(world["liaison"]),
            cause="制度缺失",
            measures="已补充制度",
            completed_on=TODAY,
            responsible_person="李四",
            today=TODAY,
        )
    remind(app, "2026-06-13")
    remind(app, "2026-06-25")
    reminded = {n[2] for n in _notes(app) if n[1] in ("due_soon", "overdue")}
    assert world["items"][0] not in reminded and world["items"][1] in reminded


def test_a_granted_extension_starts_the_reminders_of_the_new_date(app, world):
    item_id = world["items"][0]
    remind(app, "2026-06-13")
    with app.app_context():
        rs.request_extension(
            item_id,
            actor=user(world["liaison"]),
            reason="需要采购设备",
            proposed_date=date(2026, 7, 10),
            interim_measures="临时关闭端口",
            today=TODAY,
        )
        rs.decide_extension(item_id, actor=user(world["office"]), grant=True, today=TODAY)
    remind(app, "2026-06-21")  # past the old date, not the new one: no overdue reminder
    assert item_id not in {n[2] for n in _notes(app, "overdue")}
    remind(app, "2026-07-03")
    dates = [n[3]["due_date"] for n in _notes(app, "due_soon") if n[2] == item_id]
    assert dates == [DUE.isoformat(), "2026-07-10"]


def test_the_command_reopens_expired_risk_acceptances(app, world):
    item_id = world["items"][0]
    with app.app_context():
        rs.accept_risk(
            item_id, actor=user(world["office"]), reason="年底下线", until=DUE, today=TODAY
        )
    assert "0项重新转为待整改" in remind(app, "2026-06-20")
    output = remind(app, "2026-06-21")
    assert "1项重新转为待整改" in output
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        assert (item.status, item.due_date) == ("open", DUE)
        assert db.session.query(AuditEvent).filter_by(action="rectification.risk_reopened").one()
    told = {n[0] for n in _notes(app, "risk_reopened")}
    assert told == {world["liaison"], world["office"]}
    assert "1项重新转为待整改" not in remind(app, "2026-06-22")


def test_without_a_mail_server_nothing_is_mailed_and_the_command_says_so(app, world):
    with app.app_context():
        liaison = user(world["liaison"])
        liaison.email = "liaison@example.cn"
        db.session.commit()
    output = remind(app, "2026-06-13")
    assert "未设置MAIL_SERVER，未发送邮件" in output
    with app.app_context():
        assert (
            db.session.query(Notification).filter(Notification.emailed_at.isnot(None)).count() == 0
        )


def test_the_command_speaks_english_when_the_shell_does(app, world, monkeypatch):
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    output = remind(app, "2026-06-13")
    assert "Reminders stored: 4 item(s) due soon, 0 overdue; 4 notification(s)." in output


@pytest.mark.parametrize("bad", ["2026-13-01", "tomorrow"])
def test_a_bad_date_is_refused_with_a_message(app, world, bad):
    result = app.test_cli_runner().invoke(args=["rectification", "remind", "--today", bad])
    assert result.exit_code == 2 and "--today" in result.output
    assert _notes(app, "due_soon") == []


def test_reopening_an_inspection_takes_the_reminders_of_its_withdrawn_items_along(app, world):
    from inspect_app.inspections import services as inspections

    remind(app, "2026-06-13")
    with app.app_context():
        inspections.reopen_inspection(
            world["inspection"], actor=user(world["office"]), reason="补录"
        )
        assert db.session.query(RectificationItem).filter_by(unit_id=world["unit"]).count() == 0
    reminded = {n[2] for n in _notes(app, "due_soon")}
    assert reminded == {world["other_item"]}
