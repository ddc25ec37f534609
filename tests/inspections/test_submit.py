"""Submission: what is missing, findings and rectification items in one transaction, score, notice."""

from datetime import date, timedelta

import pytest

from inspect_app.errors import InvalidTransition, NotAllowed, ValidationFailed
from inspect_app.extensions import db
from inspect_app.inspections import answering, notices, services
from inspect_app.models import (
    Answer,
    Attachment,
    AuditEvent,
    ChecklistItem,
    Finding,
    Inspection,
    RectificationItem,
    User,
)

from ..conftest import Browser
from .conftest import change
from .helpers import jpeg_bytes, png_bytes, signature_data_url


def _user(name):
    return db.session.query(User).filter_by(username=name).one()


def _coordinator():
    from ..factories import Factory

    return db.session.query(User).filter_by(role="coordinator").first() or Factory().user(
        role="coordinator"
    )


def _issue(setup, lead, served, today=None):
    """Approve the visit's draft notice, then serve it in person with the recipient's signature."""
    visit = db.session.get(Inspection, setup["inspection"]).visit
    if visit.notice_status == "draft":
        notices.approve_notice(setup["inspection"], actor=_coordinator(), today=today)
    member = _user(setup["member"])
    return notices.record_notice_served(
        setup["inspection"],
        actor=lead,
        served_on=served,
        method="direct",
        place="单位会议室",
        server_ids=[lead.id, member.id],
        recipient_name="张三",
        signature_png=png_bytes(),
        today=served,
    )


def _answer_all(setup, lead, **overrides):
    results = {"T-01": "compliant", "T-02": "compliant", "T-03": "compliant", "T-04": "compliant"}
    results.update(overrides)
    changes = []
    for code, result in results.items():
        fields = {"result": result}
        if result == "noncompliant":
            fields["finding_description"] = f"{code} 问题"
        changes.append(change(setup["items"][code], **fields))
    changes.append(change(setup["items"]["T-06"], value=3))
    outcomes = answering.apply_changes(setup["inspection"], changes, actor=lead)
    assert all(o["status"] == "applied" for o in outcomes), outcomes


def test_missing_lists_unanswered_items_evidence_and_descriptions(ctx, setup):
    lead = _user(setup["lead"])
    answering.apply_changes(
        setup["inspection"], [change(setup["items"]["T-01"], result="noncompliant")], actor=lead
    )
    with pytest.raises(ValidationFailed) as err:
        services.submit_inspection(
            setup["inspection"], actor=lead, signatory_name="", signature_png=None
        )
    details = err.value.details
    codes = [d["item_code"] for d in details if d["item_code"]]
    assert codes.count("T-01") == 2  # needs evidence and a description
    assert {"T-02", "T-03", "T-06"} <= set(codes)
    assert "T-05" not in codes  # not for a non-CII unit
    assert "T-04" not in codes  # hidden until T-03 is compliant
    assert any(
        "name" in d["message"] or "姓名" in d["message"] or "签" in d["message"] for d in details
    )
    assert db.session.query(Finding).count() == 0
    assert db.session.get(Inspection, setup["inspection"]).status == "in_progress"


def test_submit_creates_findings_and_items_due_from_the_service_date_in_one_go(ctx, setup):
    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-01": "noncompliant", "T-02": "noncompliant"})
    inspection = db.session.get(Inspection, setup["inspection"])
    answer = db.session.query(Answer).filter_by(item_id=setup["items"]["T-01"]).one()
    from inspect_app.inspections import evidence

    evidence.add_evidence(inspection, jpeg_bytes(), actor=lead, answer=answer)
    answering.apply_changes(
        setup["inspection"],
        [change(setup["items"]["T-02"], 1, finding_deadline_days=10, finding_severity="high")],
        actor=lead,
    )
    today = date(2026, 5, 10)
    services.submit_inspection(
        setup["inspection"],
        actor=lead,
        signatory_name="张三",
        signature_png=png_bytes(),
        today=today,
    )
    inspection = db.session.get(Inspection, setup["inspection"])
    assert inspection.status == "submitted" and inspection.signatory_name == "张三"
    findings = {f.item.code: f for f in db.session.query(Finding)}
    assert set(findings) == {"T-01", "T-02"}
    # The clock starts when the notice is served: no due date before that, only the days.
    assert findings["T-01"].rectification.due_date is None
    assert findings["T-01"].rectification.deadline_days == 15
    assert findings["T-02"].rectification.deadline_days == 10
    served = today + timedelta(days=2)
    _issue(setup, lead, served, today=today)
    assert findings["T-01"].rectification.due_date == served + timedelta(days=15)
    assert findings["T-02"].rectification.due_date == served + timedelta(days=10)
    assert findings["T-02"].severity == "high"
    assert findings["T-01"].legal_basis[0]["article_pre2026"] == "第21条"
    assert all(f.rectification.status == "open" for f in findings.values())
    assert inspection.notice_number == "师市网信整改〔2026〕第1号"
    # weights: T-01 1 (nc), T-02 2 (nc), T-03 1, T-04 1 -> 2 of 5
    assert inspection.score == 40.0 and inspection.compliance_rate == 0.5
    assert db.session.query(Attachment).filter_by(kind="signature").count() == 1
    actions = [e.action for e in db.session.query(AuditEvent)]
    assert actions.count("finding.create") == 2 and "inspection.submit" in actions


def test_a_non_compliant_veto_item_caps_the_score(ctx, setup):
    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-03": "noncompliant"})
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    inspection = db.session.get(Inspection, setup["inspection"])
    assert inspection.score == 59.0  # 3 of 4 weight points would be 75


def test_only_the_lead_submits(ctx, setup):
    _answer_all(setup, _user(setup["lead"]))
    with pytest.raises(NotAllowed):
        services.submit_inspection(
            setup["inspection"],
            actor=_user(setup["member"]),
            signatory_name="张三",
            signature_png=png_bytes(),
        )


def test_a_submitted_inspection_is_read_only(ctx, setup):
    lead = _user(setup["lead"])
    _answer_all(setup, lead)
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    with pytest.raises(InvalidTransition):
        answering.apply_changes(
            setup["inspection"],
            [change(setup["items"]["T-01"], 1, result="noncompliant")],
            actor=lead,
        )


def test_bad_signature_refuses_submission_and_writes_nothing(ctx, setup):
    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    with pytest.raises(ValidationFailed):
        services.submit_inspection(
            setup["inspection"], actor=lead, signatory_name="张三", signature_png=b"<html>"
        )
    db.session.rollback()
    assert db.session.query(Finding).count() == 0
    assert db.session.query(RectificationItem).count() == 0
    assert db.session.get(Inspection, setup["inspection"]).status == "in_progress"


def test_serving_the_notice_moves_due_dates(ctx, setup):
    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        setup["inspection"],
        actor=lead,
        signatory_name="张三",
        signature_png=png_bytes(),
        today=date(2026, 5, 10),
    )
    notices.approve_notice(setup["inspection"], actor=_coordinator(), today=date(2026, 5, 10))
    with pytest.raises(ValidationFailed):
        _issue(setup, lead, date(2026, 5, 1))
    served = date(2026, 5, 12)
    _issue(setup, lead, served)
    item = db.session.query(RectificationItem).one()
    assert item.due_date == served + timedelta(days=30)


def test_coordinator_reopens_with_a_reason_and_findings_are_withdrawn(ctx, setup, make):
    lead = _user(setup["lead"])
    coordinator = make.user(role="coordinator")
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    notices.approve_notice(setup["inspection"], actor=coordinator)
    number = db.session.get(Inspection, setup["inspection"]).notice_number
    assert number
    with pytest.raises(ValidationFailed):
        services.reopen_inspection(setup["inspection"], actor=coordinator, reason=" ")
    with pytest.raises(NotAllowed):
        services.reopen_inspection(setup["inspection"], actor=lead, reason="写错了")
    services.reopen_inspection(setup["inspection"], actor=coordinator, reason="T-02 结论有误")
    inspection = db.session.get(Inspection, setup["inspection"])
    assert inspection.status == "in_progress" and db.session.query(Finding).count() == 0
    event = db.session.query(AuditEvent).filter_by(action="inspection.reopen").one()
    assert event.after["reason"] == "T-02 结论有误"
    visit = db.session.get(Inspection, setup["inspection"]).visit
    assert visit.notice_status == "draft"  # back for approval, keeping its number
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    notices.approve_notice(setup["inspection"], actor=coordinator)
    assert db.session.get(Inspection, setup["inspection"]).notice_number == number


def test_repeat_findings_point_to_the_earlier_one(ctx, setup, make):
    from inspect_app.models import ChecklistTemplate, Unit

    lead = _user(setup["lead"])
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    first = db.session.query(Finding).one()
    template = db.session.query(ChecklistTemplate).one()
    later = make.inspection(
        template=template,
        unit=db.session.get(Unit, setup["unit"]),
        members=[lead, _user(setup["member"])],
        round=make.round(seq=4),
    )
    previous = services.previous_answers(later, ["T-02"])
    assert previous["T-02"]["result"] == "noncompliant" and previous["T-02"]["round"] == "2026-3"
    setup2 = {**setup, "inspection": later.id}
    _answer_all(setup2, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        later.id, actor=lead, signatory_name="李四", signature_png=png_bytes()
    )
    second = db.session.query(Finding).filter(Finding.inspection_id == later.id).one()
    assert second.repeat_of_id == first.id
    coordinator = _coordinator()
    notices.approve_notice(setup["inspection"], actor=coordinator)
    notices.approve_notice(later.id, actor=coordinator)
    earlier = db.session.get(Inspection, setup["inspection"])
    assert services.previous_answers(earlier, ["T-02"]) == {}  # round 4 is not round 3's past
    assert (
        db.session.get(Inspection, later.id).notice_number
        == f"师市网信整改〔{date.today().year}〕第2号"
    )


def test_submit_page_lists_what_is_missing_with_links(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    html = b.get(f"/inspections/{setup['inspection']}/submit").get_data(as_text=True)
    assert f"/inspections/{setup['inspection']}#i{setup['items']['T-01']}" in html


def test_the_submit_page_names_missing_items_in_the_pages_language(app, setup):
    """In English it listed "T-01 <the Chinese question> is not answered."."""
    with app.app_context():
        items = ChecklistItem.__table__  # past the guard on a version in use: a test's shortcut
        db.session.execute(
            items.update()
            .where(items.c.id == setup["items"]["T-01"])
            .values(text_en="Is a person responsible named?")
        )
        db.session.commit()
        chinese = db.session.get(ChecklistItem, setup["items"]["T-01"]).text
    b = Browser(app.test_client())
    b.login(setup["lead"])
    html = b.get(f"/inspections/{setup['inspection']}/submit?lang=en").get_data(as_text=True)
    assert "T-01 Is a person responsible named? is not answered." in html
    assert chinese not in html


def test_submit_through_the_page_creates_findings_and_a_draft_numbered_only_on_approval(
    app, setup, login_as
):
    with app.app_context():
        _answer_all(setup, _user(setup["lead"]), **{"T-02": "noncompliant"})
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = b.post(
        f"/inspections/{setup['inspection']}/submit",
        {"signatory_name": "张三", "signature": signature_data_url(), "confirm": "y"},
    )
    assert r.status_code == 302
    record = b.get(r.headers["Location"]).get_data(as_text=True)
    assert "张三" in record
    notice = b.get(f"/inspections/{setup['inspection']}/notice").get_data(as_text=True)
    assert "T-02 问题" in notice and "张三" in record
    assert "师市网信整改〔" not in notice and "draft-mark" in notice  # no number before approval
    # The lead cannot approve; the office can, and that gives the number, once.
    url = f"/inspections/{setup['inspection']}/notice/approve"
    assert b.post(url, {}).status_code == 403
    office = login_as("coordinator")
    assert office.post(url, {}).status_code == 302
    notice = b.get(f"/inspections/{setup['inspection']}/notice").get_data(as_text=True)
    assert "师市网信整改〔" in notice and "draft-mark" not in notice
    assert office.post(url, {}).status_code == 409  # approved already: nothing to approve
    with app.app_context():
        approvals = db.session.query(AuditEvent).filter_by(action="notice.approve").all()
        assert len(approvals) == 1 and approvals[0].after["notice_number"]


def test_submit_through_the_api_reports_missing_items_as_json(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = b.post_json(
        f"/api/v1/inspections/{setup['inspection']}/submit",
        {"signatory_name": "张三", "signature": signature_data_url()},
    )
    assert r.status_code == 400
    details = r.get_json()["error"]["details"]
    assert any(d["item_code"] == "T-01" for d in details)


def test_reopening_an_inspection_whose_finding_was_repeated_later_works(ctx, setup, make):
    from inspect_app.models import ChecklistTemplate, Unit

    lead, coordinator = _user(setup["lead"]), make.user(role="coordinator")
    _answer_all(setup, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
    )
    later = make.inspection(
        template=db.session.query(ChecklistTemplate).one(),
        unit=db.session.get(Unit, setup["unit"]),
        members=[lead, _user(setup["member"])],
        round=make.round(seq=4),
    )
    _answer_all({**setup, "inspection": later.id}, lead, **{"T-02": "noncompliant"})
    services.submit_inspection(
        later.id, actor=lead, signatory_name="李四", signature_png=png_bytes()
    )
    repeat = db.session.query(Finding).filter(Finding.inspection_id == later.id).one()
    assert repeat.repeat_of_id is not None
    services.reopen_inspection(setup["inspection"], actor=coordinator, reason="更正")
    db.session.refresh(repeat)
    assert repeat.repeat_of_id is None
    assert (
        db.session.query(Finding).filter(Finding.inspection_id == setup["inspection"]).count() == 0
    )


# --- papercuts from the UX review --------------------------------------------------------------


def _submitted(app, setup):
    with app.app_context():
        lead = _user(setup["lead"])
        _answer_all(setup, lead, **{"T-02": "noncompliant"})
        services.submit_inspection(
            setup["inspection"], actor=lead, signatory_name="张三", signature_png=png_bytes()
        )


def test_submit_page_of_a_submitted_inspection_redirects_to_its_record(app, setup):
    _submitted(app, setup)
    b = Browser(app.test_client())
    b.login(setup["lead"])
    url = f"/inspections/{setup['inspection']}/submit"
    record = f"/inspections/{setup['inspection']}/record"
    r = b.get(url)
    assert r.status_code == 302 and r.headers["Location"].endswith(record)
    # Signing again from a stale page lands on the record too, never on a 409 page.
    r = b.post(url, {"signatory_name": "李四", "signature": signature_data_url(), "confirm": "y"})
    assert r.status_code == 302 and r.headers["Location"].endswith(record)
    assert "李四" not in b.get(record).get_data(as_text=True)


def test_submitting_an_empty_form_names_each_missing_thing_and_the_signature(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    r = b.post(f"/inspections/{setup['inspection']}/submit", {})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    start = html.index('class="card missing"')
    missing = html[start : html.index("</section>", start)]
    assert "单位代表须签名" in missing or "must sign" in missing
    assert "姓名" in missing or "name" in missing
    assert "确认" in missing or "confirmation" in missing
    assert f"#i{setup['items']['T-01']}" in missing  # and every unanswered item
    assert "该字段是必填字段" not in html  # no generic error


def test_submit_button_says_how_many_items_are_unanswered(app, setup):
    b = Browser(app.test_client())
    b.login(setup["lead"])
    html = b.get(f"/inspections/{setup['inspection']}/submit").get_data(as_text=True)
    # T-01, T-02, T-03 and T-06 apply and are unanswered (T-04 is hidden, T-05 not for this unit)
    assert "4 项未答" in html or "4 items unanswered" in html


def test_representative_sees_the_non_compliant_items_above_the_signature(app, setup):
    with app.app_context():
        _answer_all(setup, _user(setup["lead"]), **{"T-02": "noncompliant"})
    b = Browser(app.test_client())
    b.login(setup["lead"])
    html = b.get(f"/inspections/{setup['inspection']}/submit").get_data(as_text=True)
    listed = html[html.index('class="nc-list"') : html.index("signature-pad")]
    assert "T-02" in listed and "T-02 问题" in listed
    assert "中风险" in listed or "medium" in listed.lower()
    assert "30" in listed  # the deadline in days from service
    assert "T-01" not in listed
