"""One defect, one finding, in a browser: the second checklist of a visit shows the answer the
first one gave to the same duty, and submitting both leaves one finding (S4)."""

import re

import sqlalchemy as sa

from inspect_app.checklists import services as checklists
from inspect_app.extensions import db
from inspect_app.inspections import answering, evidence, services
from inspect_app.models import Answer, Finding, Round, User

from ..conftest import TEST_PASSWORD
from ..factories import Factory
from ..inspections.conftest import change
from ..inspections.helpers import jpeg_bytes, png_bytes


def _visit(live_app):
    """A unit of its own with the shipped RESP and MLPS checklists in one visit; RESP-13 (log
    retention) answered 不符合 and submitted."""
    with live_app.app_context():
        make = Factory()
        resp, mlps = checklists.find_version("RESP"), checklists.find_version("MLPS")
        unit = make.unit(code="E2E-S4", name="一缺陷一问题测试单位", kind="soe")
        system = make.system(unit=unit, mlps_level=3, name="日志测试系统")
        lead = make.user(role="inspector", username="e2e-s4-lead")
        member = make.user(role="inspector", username="e2e-s4-member")
        rnd = db.session.scalar(sa.select(Round).order_by(Round.year.desc(), Round.seq.desc()))
        first = make.inspection(template=resp, unit=unit, round=rnd, members=[lead, member])
        second = make.inspection(
            template=mlps,
            unit=unit,
            system=system,
            round=rnd,
            members=[lead, member],
            visit=first.visit,
        )
        db.session.commit()
        lead = db.session.get(User, lead.id)
        context = services.fill_context(first.id, actor=lead)
        changes = []
        for item in context.applicability.active:
            fields = {"result": "compliant"} if item.kind == "yes_no" else {"value": 0}
            if item.evidence == "required":
                fields = {"result": "not_applicable"}  # no photo in this test
            if item.code == "RESP-13":
                fields = {"result": "noncompliant", "finding_description": "经查，最早日志为三天前"}
            changes.append(change(item.id, **fields))
        answering.apply_changes(first.id, changes, actor=lead)
        answer = db.session.scalar(
            sa.select(Answer).where(
                Answer.inspection_id == first.id, Answer.item.has(code="RESP-13")
            )
        )
        evidence.add_evidence(first, jpeg_bytes(), actor=lead, answer=answer)
        db.session.commit()
        services.submit_inspection(
            first.id, actor=lead, signatory_name="王经理", signature_png=png_bytes()
        )
        smc02 = next(i.id for i in second.template.items if i.code == "MLPS-SMC-02")
        return lead.username, second.id, smc02


def test_the_second_checklist_shows_the_shared_answer_and_makes_no_second_finding(tablet, live_app):
    username, second, smc02 = _visit(live_app)
    page = tablet
    page.goto("/auth/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/inspections/{second}")
    page.wait_for_selector("#fill-form")
    item = page.locator(f"#i{smc02}")
    note = item.locator(".linked")
    assert note.is_visible()
    assert re.search(r"同一义务已在《.+》RESP-13中作答.*不符合", note.inner_text())
    # Answer the item 不符合 here too: no finding description is asked, and no second finding.
    item.locator(".seg").get_by_text("不符合", exact=True).tap()
    page.wait_for_selector('[data-save-state][data-kind="saved"]', timeout=20000)
    with live_app.app_context():
        lead = db.session.scalar(sa.select(User).where(User.username == username))
        context = services.fill_context(second, actor=lead)
        assert not [m for m in context.missing() if m.item_id == smc02]
        for i in context.applicability.active:
            if i.id == smc02 or context.answered(i):
                continue
            fields = {"result": "compliant"} if i.kind == "yes_no" else {"value": 0}
            if i.evidence == "required":
                fields = {"result": "not_applicable"}  # no photo in this test
            answering.apply_changes(second, [change(i.id, **fields)], actor=lead)
        services.submit_inspection(
            second, actor=lead, signatory_name="王经理", signature_png=png_bytes()
        )
        findings = db.session.scalars(
            sa.select(Finding).where(Finding.unit.has(code="E2E-S4"))
        ).all()
        assert [f.item.code for f in findings] == ["RESP-13"]
