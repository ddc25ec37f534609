"""The unit's self-assessment (自查): its portal, beside the inspector's answer, differences on
the record."""

from datetime import date

import pytest

from inspect_app.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from inspect_app.extensions import db
from inspect_app.inspections import answering, selfcheck
from inspect_app.models import AuditEvent, User
from inspect_app.rounds import visits

from ..conftest import Browser
from .conftest import change


@pytest.fixture
def announced(app, setup, make):
    """The setup's inspection, its visit's plan approved (the 检查通知书 issued); a liaison."""
    with app.app_context():
        from inspect_app.models import Inspection, Unit

        inspection = db.session.get(Inspection, setup["inspection"])
        inspection.visit.scheduled_on = date(2026, 5, 20)
        db.session.commit()
        visits.approve_plan(
            inspection.visit_id, actor=make.user(role="coordinator"), preparation=""
        )
        liaison = make.user(role="unit", unit=db.session.get(Unit, setup["unit"]))
        other = make.user(role="unit")
        return {**setup, "liaison": liaison.username, "other": other.username}


def _u(name):
    return db.session.query(User).filter_by(username=name).one()


def test_the_unit_answers_its_own_announced_checklist_only(ctx, announced):
    t1, t2 = announced["items"]["T-01"], announced["items"]["T-02"]
    liaison = _u(announced["liaison"])
    n = selfcheck.save_self_assessment(
        announced["inspection"],
        actor=liaison,
        answers={t1: ("compliant", "已明确"), t2: (None, "")},
    )
    assert n == 1
    with pytest.raises(ValidationFailed):
        selfcheck.save_self_assessment(
            announced["inspection"], actor=liaison, answers={t1: ("maybe", "")}
        )
    with pytest.raises(NotFound):
        selfcheck.save_self_assessment(
            announced["inspection"], actor=_u(announced["other"]), answers={}
        )
    with pytest.raises(NotAllowed):
        selfcheck.save_self_assessment(
            announced["inspection"], actor=_u(announced["lead"]), answers={}
        )
    assert db.session.query(AuditEvent).filter_by(action="selfcheck.save").count() == 1


def test_an_unannounced_visit_has_no_self_assessment(ctx, setup, make):
    from inspect_app.models import Unit

    liaison = make.user(role="unit", unit=db.session.get(Unit, setup["unit"]))
    with pytest.raises(NotFound):
        selfcheck.load_for_unit(setup["inspection"], actor=liaison)


def test_the_inspector_sees_the_units_answer_and_the_record_shows_the_difference(app, announced):
    t1 = announced["items"]["T-01"]
    liaison = Browser(app.test_client())
    liaison.login(announced["liaison"])
    assert "/self-assessment" in liaison.get("/directory/my-unit").get_data(as_text=True)
    r = liaison.post(
        f"/inspections/{announced['inspection']}/self-assessment",
        {f"r{t1}": "c", f"note{t1}": "制度已印发"},
    )
    assert r.status_code == 302
    lead = Browser(app.test_client())
    lead.login(announced["lead"])
    page = lead.get(f"/inspections/{announced['inspection']}").get_data(as_text=True)
    assert "制度已印发" in page
    with app.app_context():
        answering.apply_changes(
            announced["inspection"],
            [change(t1, result="noncompliant", finding_description="经查，未明确")],
            actor=_u(announced["lead"]),
        )
    record = lead.get(f"/inspections/{announced['inspection']}/record").get_data(as_text=True)
    assert "self-differs" in record
    with app.app_context():
        from inspect_app.models import Inspection

        db.session.get(Inspection, announced["inspection"]).status = "submitted"
        db.session.commit()
        with pytest.raises(InvalidTransition):
            selfcheck.save_self_assessment(
                announced["inspection"], actor=_u(announced["liaison"]), answers={}
            )


def test_the_unit_rates_the_teams_conduct_once_after_the_visit(app, setup, make):
    from inspect_app.models import Inspection, Unit, Visit

    with app.app_context():
        liaison = make.user(role="unit", unit=db.session.get(Unit, setup["unit"]))
        other = make.user(role="unit")
        office = make.user(role="coordinator")
        inspection = db.session.get(Inspection, setup["inspection"])
        visit_id = inspection.visit_id
        with pytest.raises(NotFound):  # not on record yet
            selfcheck.rate_conduct(visit_id, actor=liaison, rating=5, comment="")
        inspection.status = "submitted"
        db.session.commit()
        with pytest.raises(NotFound):
            selfcheck.rate_conduct(visit_id, actor=other, rating=5, comment="")
        with pytest.raises(ValidationFailed):
            selfcheck.rate_conduct(visit_id, actor=liaison, rating=9, comment="")
        names = liaison.username, office.username
    b = Browser(app.test_client())
    b.login(names[0])
    assert f"/inspections/visits/{visit_id}/rating" in b.get("/directory/my-unit").get_data(
        as_text=True
    )
    r = b.post(f"/inspections/visits/{visit_id}/rating", {"rating": "2", "comment": "态度生硬"})
    assert r.status_code == 302
    assert b.post(f"/inspections/visits/{visit_id}/rating", {"rating": "5"}).status_code == 409
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit.conduct_rating == 2 and visit.conduct_comment == "态度生硬"
        assert db.session.query(AuditEvent).filter_by(action="visit.rate").count() == 1
    office_browser = Browser(app.test_client())
    office_browser.login(names[1])
    assert "态度生硬" in office_browser.get(f"/rounds/visits/{visit_id}").get_data(as_text=True)
