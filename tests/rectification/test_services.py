"""Every move of a rectification item and every refusal, as service calls on a real database."""

from datetime import date, datetime, timedelta

import pytest

from inspect_app.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import (
    Attachment,
    AuditEvent,
    Notification,
    RectificationEvent,
    RectificationItem,
)
from inspect_app.rectification import services as rs
from inspect_app.rectification import states
from inspect_app.storage import EvidenceRefused

from ..inspections.helpers import jpeg_bytes
from .conftest import TODAY, user


def _respond(item_id, actor_id, **kw):
    fields = {
        "cause": "管理制度未落实",
        "measures": "已任命网络安全负责人并印发文件",
        "completed_on": TODAY,
        "responsible_person": "李四",
        "responsible_phone": "0997-1234567",
        "today": TODAY,
    }
    fields.update(kw)
    return rs.respond(item_id, actor=user(actor_id), **fields)


def _item(item_id) -> RectificationItem:
    db.session.expire_all()
    return db.session.get(RectificationItem, item_id)


def test_the_table_allows_exactly_the_designed_moves():
    assert states.TRANSITIONS == {
        "open": ("submitted", "risk_accepted", "escalated"),
        "submitted": ("closed", "returned", "escalated"),
        "returned": ("submitted", "risk_accepted", "escalated"),
        "risk_accepted": ("open",),
        "closed": (),
        "escalated": (),
    }


def test_unit_responds_with_a_photo_and_the_office_and_team_are_told(ctx, world):
    item_id = world["items"][0]
    item = _respond(item_id, world["liaison"], files=[rs.Upload(jpeg_bytes(), "整改后.jpg")])
    assert item.status == "submitted" and item.version == 1
    assert item.responsible_person == "李四"
    [event] = item.events
    assert event.kind == "response" and event.data["measures"].startswith("已任命")
    [attachment] = db.session.query(Attachment).filter_by(rectification_event_id=event.id).all()
    assert attachment.original_name == "整改后.jpg" and attachment.kind == "photo"
    assert db.session.query(AuditEvent).filter_by(action="rectification.respond").count() == 1
    told = {n.user_id for n in db.session.query(Notification).filter_by(kind="response_submitted")}
    assert {world["office"], world["lead"]} <= told and world["liaison"] not in told


def test_the_whole_loop_respond_return_respond_verify(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])
    rs.return_item(
        item_id,
        actor=user(world["office"]),
        reason="未附任命文件",
        due_date=TODAY + timedelta(days=10),
        today=TODAY,
    )
    item = _item(item_id)
    assert (item.status, item.due_date) == ("returned", TODAY + timedelta(days=10))
    _respond(item_id, world["liaison"], measures="补充任命文件扫描件")
    rs.verify(item_id, actor=user(world["office"]), note="材料齐全，同意销号", today=TODAY)
    item = _item(item_id)
    assert item.status == "closed" and item.closed_by_id == world["office"]
    assert [e.kind for e in item.events] == ["response", "returned", "response", "verified"]
    assert item.version == 4
    unit_news = [n.kind for n in db.session.query(Notification).filter_by(user_id=world["liaison"])]
    assert unit_news == ["returned", "verified"]


@pytest.mark.parametrize(
    "move",
    [
        lambda w, i: rs.verify(i, actor=user(w["office"]), today=TODAY),
        lambda w, i: rs.return_item(
            i, actor=user(w["office"]), reason="x", due_date=TODAY, today=TODAY
        ),
    ],
    ids=["verify", "return"],
)
def test_an_open_item_cannot_be_verified_or_returned(ctx, world, move):
    with pytest.raises(InvalidTransition) as err:
        move(world, world["items"][0])
    assert "待整改" in err.value.message
    assert _item(world["items"][0]).status == "open"


def test_a_closed_item_cannot_be_answered_again(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])
    rs.verify(item_id, actor=user(world["office"]), today=TODAY)
    with pytest.raises(InvalidTransition):
        _respond(item_id, world["liaison"])
    assert _item(item_id).version == 2


def test_a_stale_version_is_a_conflict_and_changes_nothing(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"], expected_version=0)
    with pytest.raises(Conflict):
        rs.verify(item_id, actor=user(world["office"]), expected_version=0, today=TODAY)
    assert _item(item_id).status == "submitted"


def test_unit_user_gets_not_found_for_another_units_item(ctx, world):
    with pytest.raises(NotFound):
        _respond(world["other_item"], world["liaison"])
    assert _item(world["other_item"]).status == "open"


def test_unit_user_cannot_verify_its_own_item(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])
    with pytest.raises(NotAllowed):
        rs.verify(item_id, actor=user(world["liaison"]), today=TODAY)


def test_team_inspector_may_verify_and_an_outsider_sees_nothing(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])
    with pytest.raises(NotFound):
        rs.verify(item_id, actor=user(world["outsider"]), today=TODAY)
    rs.verify(item_id, actor=user(world["lead"]), today=TODAY)
    assert _item(item_id).status == "closed"


def test_viewers_read_but_do_not_act(ctx, world):
    assert rs.load(world["items"][0], actor=user(world["viewer"])).id == world["items"][0]
    with pytest.raises(NotAllowed):
        _respond(world["items"][0], world["viewer"])


def test_office_enters_a_paper_response_naming_its_source(ctx, world):
    item_id = world["items"][1]
    with pytest.raises(ValidationFailed):
        _respond(item_id, world["office"], on_behalf=True)  # no source
    with pytest.raises(NotAllowed):
        _respond(item_id, world["office"])  # the office is not the unit
    item = _respond(item_id, world["office"], on_behalf=True, source="单位盖章回函（2026-05-30）")
    [event] = item.events
    assert event.on_behalf and event.actor_id == world["office"]
    assert event.data["source"] == "单位盖章回函（2026-05-30）"


def test_missing_fields_are_refused_and_nothing_changes(ctx, world):
    with pytest.raises(ValidationFailed) as err:
        _respond(world["items"][0], world["liaison"], measures="  ")
    assert "整改措施" in err.value.message
    with pytest.raises(ValidationFailed):
        _respond(world["items"][0], world["liaison"], completed_on=None)
    with pytest.raises(ValidationFailed):
        _respond(world["items"][0], world["liaison"], cause="a\x00b")
    item = _item(world["items"][0])
    assert (item.status, item.version, item.events) == ("open", 0, [])


def test_a_refused_file_keeps_nothing_and_a_failed_commit_leaves_no_file(ctx, world, app):
    from pathlib import Path

    root = Path(app.config["UPLOAD_DIR"])
    before = {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    with pytest.raises(EvidenceRefused):
        _respond(world["items"][0], world["liaison"], files=[rs.Upload(b"<html>", "x.jpg")])
    with pytest.raises(ValidationFailed):
        _respond(
            world["items"][0],
            world["liaison"],
            files=[rs.Upload(jpeg_bytes(size=(300, 200)), "a.jpg")] * 11,
        )
    assert _item(world["items"][0]).status == "open"
    after = {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    assert after == before


def _ask_extension(item_id, world, proposed, reason="需采购设备", measures="临时关闭外网访问"):
    return rs.request_extension(
        item_id,
        actor=user(world["liaison"]),
        reason=reason,
        proposed_date=proposed,
        interim_measures=measures,
        today=TODAY,
    )


def test_extension_asked_then_granted_moves_the_due_date_and_keeps_both(ctx, world):
    item_id = world["items"][0]
    _ask_extension(item_id, world, date(2026, 7, 31))
    with pytest.raises(InvalidTransition):  # one request at a time
        _ask_extension(item_id, world, date(2026, 8, 31), reason="再延", measures="同上")
    rs.decide_extension(item_id, actor=user(world["office"]), grant=True, today=TODAY)
    item = _item(item_id)
    assert item.due_date == date(2026, 7, 31)
    granted = item.events[-1]
    assert granted.kind == "extension_granted"
    assert (granted.data["from"], granted.data["to"]) == ("2026-06-20", "2026-07-31")
    assert item.pending_extension is None
    with pytest.raises(InvalidTransition):
        rs.decide_extension(item_id, actor=user(world["office"]), grant=True, today=TODAY)


def test_extension_refused_needs_a_reason_and_keeps_the_date(ctx, world):
    item_id = world["items"][0]
    _ask_extension(item_id, world, date(2026, 7, 1), reason="人手不足", measures="加强巡查")
    with pytest.raises(ValidationFailed):
        rs.decide_extension(item_id, actor=user(world["office"]), grant=False, today=TODAY)
    with pytest.raises(NotAllowed):
        rs.decide_extension(item_id, actor=user(world["liaison"]), grant=True, today=TODAY)
    rs.decide_extension(
        item_id, actor=user(world["office"]), grant=False, reason="理由不充分", today=TODAY
    )
    item = _item(item_id)
    assert item.due_date == date(2026, 6, 20) and item.events[-1].kind == "extension_refused"


def test_extension_must_propose_a_later_date(ctx, world):
    with pytest.raises(ValidationFailed):  # before the current due date
        _ask_extension(world["items"][0], world, date(2026, 6, 10))


def test_a_granted_extension_cannot_shorten_the_deadline(ctx, world):
    """A grant to a date before the current deadline was saved and told the unit "granted"."""
    item_id = world["items"][0]
    _ask_extension(item_id, world, date(2026, 7, 31))
    for earlier in (date(2026, 6, 10), date(2026, 6, 20)):  # before, and on, the deadline
        with pytest.raises(ValidationFailed):
            rs.decide_extension(
                item_id, actor=user(world["office"]), grant=True, due_date=earlier, today=TODAY
            )
    item = _item(item_id)
    assert item.due_date == date(2026, 6, 20) and item.pending_extension is not None
    rs.decide_extension(
        item_id, actor=user(world["office"]), grant=True, due_date=date(2026, 6, 21), today=TODAY
    )
    assert _item(item_id).due_date == date(2026, 6, 21)


def test_a_bulk_extension_to_an_earlier_date_changes_nothing_and_names_the_items(ctx, world):
    first, second, _third = world["items"]
    office = user(world["office"])
    rs.bulk({second: 0}, "extend", actor=office, due_date=date(2026, 7, 31), today=TODAY)
    with pytest.raises(
        ValidationFailed
    ) as err:  # later than the first's deadline, not the second's
        rs.bulk(
            {first: 0, second: 1}, "extend", actor=office, due_date=date(2026, 7, 15), today=TODAY
        )
    assert [d["item_id"] for d in err.value.details] == [second]
    assert (_item(first).due_date, _item(second).due_date) == (date(2026, 6, 20), date(2026, 7, 31))


def test_an_overdue_item_is_extended_to_tomorrow_at_the_earliest_singly_and_in_bulk(ctx, world):
    """A single grant refused today as the new date while a bulk extension took it: both now
    give at least one more day (_after_the_deadline)."""
    first, second, _third = world["items"]
    office = user(world["office"])
    late = date(2026, 6, 25)  # both items' deadline, 20 June, has passed
    _ask_extension(first, world, date(2026, 7, 31))
    with pytest.raises(ValidationFailed):
        rs.decide_extension(first, actor=office, grant=True, due_date=late, today=late)
    with pytest.raises(ValidationFailed):
        rs.bulk({second: 0}, "extend", actor=office, due_date=late, today=late)
    assert (_item(first).due_date, _item(second).due_date) == (date(2026, 6, 20), date(2026, 6, 20))
    tomorrow = late + timedelta(days=1)
    rs.decide_extension(first, actor=office, grant=True, due_date=tomorrow, today=late)
    rs.bulk({second: 0}, "extend", actor=office, due_date=tomorrow, today=late)
    assert _item(first).due_date == _item(second).due_date == tomorrow


def test_a_completion_date_lies_between_the_inspection_and_today(ctx, world):
    from inspect_app.models import Inspection

    db.session.get(Inspection, world["inspection"]).scheduled_on = date(2026, 5, 20)
    db.session.commit()
    item_id = world["items"][0]
    for wrong in (date(2026, 6, 2), date(2026, 5, 19), date(1990, 1, 1)):  # ahead; before it
        with pytest.raises(ValidationFailed):
            _respond(item_id, world["liaison"], completed_on=wrong)
    assert _item(item_id).status == "open"
    assert _respond(item_id, world["liaison"], completed_on=date(2026, 5, 20)).status == "submitted"


def test_a_recheck_is_dated_no_earlier_than_the_units_report(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])  # reported today (TODAY is the day the tests call today)
    for wrong in (date(2000, 1, 1), TODAY - timedelta(days=1)):
        with pytest.raises(ValidationFailed):
            rs.verify(
                item_id,
                actor=user(world["office"]),
                recheck=rs.Recheck(wrong, "张三"),
                expected_version=1,
                today=TODAY,
            )
    assert _item(item_id).status == "submitted"
    item = rs.verify(
        item_id,
        actor=user(world["office"]),
        recheck=rs.Recheck(TODAY, "张三"),
        expected_version=1,
        today=TODAY,
    )
    assert item.status == "closed"


def test_risk_acceptance_reopens_the_item_when_it_ends(ctx, world):
    item_id = world["items"][0]
    rs.accept_risk(
        item_id,
        actor=user(world["office"]),
        reason="系统年底下线",
        until=date(2026, 12, 31),
        today=TODAY,
    )
    assert _item(item_id).status == "risk_accepted"
    assert rs.reopen_expired_risks(today=date(2026, 12, 31)) == []
    [reopened] = rs.reopen_expired_risks(today=date(2027, 1, 1))
    item = _item(item_id)
    assert (item.status, item.due_date) == ("open", date(2026, 12, 31))
    assert item.events[-1].kind == "risk_reopened"


def test_escalation_is_final_and_names_the_receiving_body(ctx, world):
    item_id = world["items"][0]
    with pytest.raises(ValidationFailed):
        rs.escalate(item_id, actor=user(world["office"]), to="mars", body="x", reason="y")
    rs.escalate(
        item_id,
        actor=user(world["office"]),
        to="police",
        body="市公安局网安支队",
        reason="逾期未改",
    )
    item = _item(item_id)
    assert (item.status, item.escalated_to) == ("escalated", "police")
    with pytest.raises(InvalidTransition):
        _respond(item_id, world["liaison"])
    with pytest.raises(InvalidTransition):
        rs.record_interview(
            item_id,
            actor=user(world["office"]),
            held_on=TODAY,
            place="x",
            office_people="x",
            unit_people="y",
            content="z",
            today=TODAY,
        )


def test_interview_and_notification_of_an_overdue_item_are_recorded(ctx, world):
    item_id = world["items"][0]
    event = rs.record_interview(
        item_id,
        actor=user(world["office"]),
        held_on=TODAY,
        place="市网信办会议室",
        office_people="王科长、赵干部",
        unit_people="单位分管领导张某",
        content="指出逾期未整改问题",
        commitments="6月15日前完成",
        today=TODAY,
    )
    assert event.kind == "interview" and event.data["commitments"] == "6月15日前完成"
    event = rs.record_notification(
        item_id, actor=user(world["office"]), to_body="市卫生健康委员会", content="现将情况通报如下"
    )
    assert event.kind == "notification" and event.data["to"] == "市卫生健康委员会"
    assert _item(item_id).status == "open"  # a record, not a move
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"rectification.interview", "rectification.notify_superior"} <= actions


def test_interview_and_notification_on_a_stale_page_are_conflicts(ctx, world):
    """The item page carries the item's version on every form: a 约谈 or 通报 recorded from a
    page opened before someone else's step is refused like any other step."""
    item_id = world["items"][0]
    _respond(item_id, world["liaison"], expected_version=0)
    with pytest.raises(Conflict):
        rs.record_interview(
            item_id,
            actor=user(world["office"]),
            held_on=TODAY,
            place="会议室",
            office_people="王科长",
            unit_people="张某",
            content="逾期",
            expected_version=0,
            today=TODAY,
        )
    with pytest.raises(Conflict):
        rs.record_notification(
            item_id,
            actor=user(world["office"]),
            to_body="主管部门",
            content="通报",
            expected_version=0,
        )
    assert [e.kind for e in _item(item_id).events] == ["response"]
    event = rs.record_notification(
        item_id, actor=user(world["office"]), to_body="主管部门", content="通报", expected_version=1
    )
    assert event.kind == "notification" and _item(item_id).version == 2


def test_bulk_verify_is_all_or_nothing(ctx, world):
    first, second, third = world["items"]
    _respond(first, world["liaison"])
    _respond(second, world["liaison"])
    office = user(world["office"])
    with pytest.raises(ValidationFailed) as err:
        rs.bulk({first: 1, second: 1, third: 0}, "verify", actor=office, today=TODAY)
    assert [d["item_id"] for d in err.value.details] == [third]
    assert _item(first).status == "submitted"
    items = rs.bulk({first: 1, second: 1}, "verify", actor=office, today=TODAY)
    assert [i.status for i in items] == ["closed", "closed"]
    assert db.session.query(AuditEvent).filter_by(action="rectification.bulk_verify").count() == 2


def test_bulk_extend_and_return_move_due_dates(ctx, world):
    first, second, third = world["items"]
    office = user(world["office"])
    rs.bulk({first: 0, second: 0}, "extend", actor=office, due_date=date(2026, 7, 15), today=TODAY)
    assert _item(first).due_date == _item(second).due_date == date(2026, 7, 15)
    _respond(third, world["liaison"])
    with pytest.raises(ValidationFailed):  # a return needs a reason
        rs.bulk({third: 1}, "return", actor=office, due_date=date(2026, 7, 1), today=TODAY)
    rs.bulk(
        {third: 1}, "return", actor=office, note="证明不足", due_date=date(2026, 7, 1), today=TODAY
    )
    assert _item(third).status == "returned"


def test_bulk_refuses_other_units_items_as_not_found_for_a_team_inspector(ctx, world):
    with pytest.raises(ValidationFailed) as err:
        rs.bulk({world["other_item"]: 0}, "verify", actor=user(world["lead"]), today=TODAY)
    assert err.value.details[0]["code"] == "not_found"


def test_overdue_and_due_soon_are_derived(ctx, world):
    item = _item(world["items"][0])
    assert not item.is_overdue(date(2026, 6, 20)) and item.is_overdue(date(2026, 6, 21))
    assert item.is_due_soon(date(2026, 6, 14)) and not item.is_due_soon(date(2026, 6, 12))
    _respond(item.id, world["liaison"])
    assert not _item(item.id).is_overdue(date(2026, 7, 1))  # the office's turn now


def test_every_move_writes_an_event_and_an_audit_event(ctx, world):
    item_id = world["items"][0]
    _respond(item_id, world["liaison"])
    rs.verify(item_id, actor=user(world["office"]), today=TODAY)
    events = db.session.query(RectificationEvent).filter_by(item_id=item_id).count()
    audits = (
        db.session.query(AuditEvent)
        .filter(AuditEvent.object_type == "RectificationItem", AuditEvent.object_id == str(item_id))
        .count()
    )
    assert events == audits == 2
    unit_events = db.session.query(AuditEvent).filter_by(
        unit_id=world["unit"], object_type="RectificationItem"
    )
    assert unit_events.count() == 2  # the unit sees its own item's history in the audit log


def test_a_completion_date_counts_from_the_day_the_visit_began_not_its_plan(ctx, world):
    """Planned for 05-20 but held on 05-05: a fix on 05-07 was refused as before the inspection."""
    from inspect_app.clock import local_to_utc
    from inspect_app.models import Inspection

    inspection = db.session.get(Inspection, world["inspection"])
    inspection.scheduled_on = date(2026, 5, 20)
    inspection.visit.started_at = local_to_utc(datetime(2026, 5, 5, 9, 0))
    db.session.commit()
    item = _respond(world["items"][0], world["liaison"], completed_on=date(2026, 5, 7))
    assert item.status == "submitted"
