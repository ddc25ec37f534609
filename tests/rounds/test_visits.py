"""Before the visit: the plan is approved and the 检查通知书 issued, numbered and served."""

from datetime import date

import pytest

from inspect_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import AuditEvent
from inspect_app.rounds import visits

from ..conftest import Browser


def test_a_coordinator_approves_the_plan_and_the_notice_is_numbered_once(ctx, make):
    office = make.user(role="coordinator")
    lead = make.user(role="inspector")
    first = make.inspection(
        members=[lead, make.user(role="inspector")], scheduled_on=date(2026, 5, 20)
    )
    second = make.inspection(scheduled_on=date(2026, 5, 21))
    with pytest.raises(NotAllowed):
        visits.approve_plan(first.visit_id, actor=lead, preparation="")
    visit = visits.approve_plan(
        first.visit_id, actor=office, preparation="请准备等保备案证明", today=date(2026, 5, 12)
    )
    assert visit.advance_notice_number == "师市网信检通〔2026〕第1号"
    assert visit.plan_approved_by_id == office.id and visit.preparation == "请准备等保备案证明"
    assert (
        visits.approve_plan(second.visit_id, actor=office, preparation="").advance_notice_number
        == "师市网信检通〔2026〕第2号"
    )
    with pytest.raises(InvalidTransition):
        visits.approve_plan(first.visit_id, actor=office, preparation="")
    with pytest.raises(ValidationFailed):
        visits.record_advance_served(first.visit_id, actor=office, served_on=date(2026, 5, 1))
    visits.record_advance_served(first.visit_id, actor=office, served_on=date(2026, 5, 13))
    actions = [e.action for e in db.session.query(AuditEvent)]
    assert actions.count("visit.plan_approve") == 2 and "visit.advance_notice_served" in actions


def test_a_started_visit_is_not_approved_afterwards(ctx, make):
    office = make.user(role="coordinator")
    inspection = make.inspection(status="in_progress", scheduled_on=date(2026, 5, 20))
    with pytest.raises(InvalidTransition):
        visits.approve_plan(inspection.visit_id, actor=office, preparation="")


def test_the_inspection_notice_names_basis_scope_date_team_and_preparation(app, make):
    with app.app_context():
        office = make.user(role="coordinator")
        inspection = make.inspection(scheduled_on=date(2026, 5, 20))
        visits.approve_plan(
            inspection.visit_id,
            actor=office,
            preparation="请准备近六个月日志",
            today=date(2026, 5, 12),
        )
        visit_id, name = inspection.visit_id, office.username
    b = Browser(app.test_client())
    b.login(name)
    html = b.get(f"/rounds/visits/{visit_id}/advance-notice").get_data(as_text=True)
    for text in (
        "师市网信检通〔2026〕第1号",
        "2026年5月20日",
        "请准备近六个月日志",
        "（印章）",
        "第九条（原第八条）",
    ):
        assert text in html, text
    assert "师市网信检通" in b.get(f"/rounds/visits/{visit_id}").get_data(as_text=True)


def test_the_round_page_lists_the_notices_awaiting_approval(app, make):
    with app.app_context():
        office = make.user(role="coordinator")
        unit = make.unit(name="待审批测试单位")
        inspection = make.inspection(unit=unit, status="submitted", notice_status="draft")
        round_id, inspection_id, name = inspection.round_id, inspection.id, office.username
    b = Browser(app.test_client())
    b.login(name)
    html = b.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "待审批测试单位" in html and f"/inspections/{inspection_id}/record" in html


def test_removing_the_last_planned_inspection_removes_its_visit_unless_self_assessed(ctx, make):
    from inspect_app.models import SelfAnswer, Visit
    from inspect_app.rounds import services

    office = make.user(role="coordinator")
    inspection = make.inspection()
    visit_id = inspection.visit_id
    services.remove_planned_inspection(inspection.id, actor=office)
    assert db.session.get(Visit, visit_id) is None
    kept = make.inspection()
    db.session.add(
        SelfAnswer(inspection_id=kept.id, item_id=kept.template.items[0].id, result="compliant")
    )
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.remove_planned_inspection(kept.id, actor=office)
