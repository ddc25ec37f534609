"""Rounds: planning a year, editing a round and the planned → active → closed state machine."""

from datetime import date

import pytest
import sqlalchemy as sa

from inspect_app.errors import InvalidTransition, ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import AuditEvent, Inspection, Round
from inspect_app.rounds import services
from inspect_app.rounds.services import ConfirmationRequired, TeamMember


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_plan_year_creates_six_planned_rounds_with_defaults(ctx, make):
    coordinator = make.user(role="coordinator")
    departments = [make.department(), make.department()]
    rounds = services.plan_year(2027, actor=coordinator)
    assert [r.seq for r in rounds] == [1, 2, 3, 4, 5, 6]
    assert {r.status for r in rounds} == {"planned"}
    assert {r.theme for r in rounds} <= set(services.THEMES)
    for rnd in rounds:
        assert rnd.title.startswith("2027")
        assert rnd.start_date.year == rnd.end_date.year == 2027
        assert rnd.start_date <= rnd.end_date
        assert set(departments) <= set(rnd.departments)
    assert len(_events("round.create")) == 6


def test_plan_year_refuses_a_year_that_already_has_rounds(ctx, make):
    coordinator = make.user(role="coordinator")
    make.round(year=2027, seq=2)
    with pytest.raises(ValidationFailed, match="2"):
        services.plan_year(2027, actor=coordinator)
    assert db.session.scalar(sa.select(sa.func.count(Round.id)).where(Round.year == 2027)) == 1


def test_only_missing_rounds_can_be_added(ctx, make):
    coordinator = make.user(role="coordinator")
    make.round(year=2027, seq=2)
    assert services.missing_seqs(2027) == [1, 3, 4, 5, 6]
    rnd = services.add_round(2027, 4, actor=coordinator)
    assert (rnd.seq, rnd.theme, rnd.status) == (4, "risk_review", "planned")
    with pytest.raises(ValidationFailed):
        services.add_round(2027, 2, actor=coordinator)
    with pytest.raises(ValidationFailed):
        services.add_round(2027, 7, actor=coordinator)


def test_plan_year_refuses_an_absurd_year(ctx, make):
    with pytest.raises(ValidationFailed):
        services.plan_year(1999, actor=make.user(role="coordinator"))


def _a_department() -> int:
    from inspect_app.models import Department

    department = db.session.scalars(sa.select(Department).order_by(Department.id)).first()
    if department is None:
        department = Department(code="CAC", name="网信办")
        db.session.add(department)
        db.session.flush()
    return department.id


def _edit(rnd, actor, **changes):
    values = dict(
        title="第三轮",
        theme="key_units",
        nature="enterprise_inspection",
        start_date=date(2026, 5, 1),
        end_date=date(2026, 5, 30),
        department_ids=[_a_department()],
        notes="",
    )
    values.update(changes)
    return services.update_round(rnd.id, actor=actor, **values)


def test_update_round_changes_fields_and_departments_and_audits(ctx, make):
    coordinator = make.user(role="coordinator")
    rnd = make.round(seq=3)
    police = make.department(code="PSB")
    _edit(rnd, coordinator, nature="special_review", department_ids=[police.id], notes="配合公安")
    db.session.refresh(rnd)
    assert (rnd.title, rnd.theme, rnd.nature) == ("第三轮", "key_units", "special_review")
    assert rnd.departments == [police] and rnd.notes == "配合公安"
    (event,) = _events("round.update")
    assert event.after["departments"] == ["PSB"] and event.before["departments"] == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": date(2026, 4, 1)}, "end_date"),
        ({"theme": "anything"}, "theme"),
        ({"nature": "police_raid"}, "nature"),
        ({"title": "  "}, "title"),
        ({"department_ids": [999_999]}, "departments"),
        ({"department_ids": []}, "departments"),  # a round nobody takes part in
        ({"start_date": date(1900, 1, 1)}, "start_date"),  # a round of 2026 lies in 2026
        ({"start_date": date(2025, 12, 31)}, "start_date"),
        ({"end_date": date(2027, 1, 20)}, "end_date"),
    ],
)
def test_update_round_refuses_bad_input_and_changes_nothing(ctx, make, changes, field):
    rnd = make.round(seq=3, title="原标题")
    with pytest.raises(ValidationFailed) as err:
        _edit(rnd, make.user(role="coordinator"), **changes)
    assert field in err.value.details
    db.session.refresh(rnd)
    assert rnd.title == "原标题" and _events("round.update") == []


def test_a_round_is_editable_before_any_department_is_in_the_directory(ctx, make):
    """A year planned before the directory held a department gave rounds that could not be
    saved again: "Choose the departments" with none to choose. With departments in the
    directory, at least one must take part."""
    coordinator = make.user(role="coordinator")
    rnd = make.round(seq=3, title="原标题")
    services.update_round(
        rnd.id,
        actor=coordinator,
        title="新标题",
        theme="key_units",
        nature=rnd.nature,
        start_date=None,
        end_date=None,
        department_ids=[],
    )
    db.session.refresh(rnd)
    assert rnd.title == "新标题" and rnd.departments == []
    make.department(code="PSB")
    with pytest.raises(ValidationFailed) as err:
        _edit(rnd, coordinator, title="再改", department_ids=[])
    assert "departments" in err.value.details


def test_round_moves_planned_active_closed(ctx, make):
    coordinator = make.user(role="coordinator")
    rnd = make.round(start_date=date(2026, 1, 5), end_date=date(2026, 1, 20))
    services.change_round_status(rnd.id, "active", actor=coordinator)
    assert rnd.status == "active"
    services.change_round_status(rnd.id, "closed", actor=coordinator)
    assert rnd.status == "closed"
    assert [e.after["status"] for e in _events("round.start") + _events("round.close")] == [
        "active",
        "closed",
    ]


@pytest.mark.parametrize(
    ("start", "to"),
    [("planned", "closed"), ("active", "planned"), ("closed", "active"), ("planned", "bogus")],
)
def test_illegal_round_moves_raise_invalid_transition(ctx, make, start, to):
    rnd = make.round(status=start, end_date=date(2026, 2, 1))
    with pytest.raises(InvalidTransition):
        services.change_round_status(rnd.id, to, actor=make.user(role="coordinator"))
    assert rnd.status == start


def test_a_round_without_dates_cannot_start(ctx, make):
    rnd = make.round(start_date=None)
    with pytest.raises(ValidationFailed):
        services.change_round_status(rnd.id, "active", actor=make.user(role="coordinator"))


def test_a_closed_round_cannot_be_edited(ctx, make):
    rnd = make.round(status="closed")
    with pytest.raises(InvalidTransition):
        _edit(rnd, make.user(role="coordinator"))


def test_closing_with_unfinished_inspections_needs_confirmation_and_counts_them(
    ctx, make, make_template, team
):
    coordinator = make.user(role="coordinator")
    rnd = make.round(status="active", end_date=date(2026, 2, 28))
    units = [make.unit() for _ in range(3)]
    services.assign_targets(
        rnd.id,
        [services.Target("unit", u.id) for u in units],
        actor=coordinator,
        template_id=make_template().id,
        scheduled_on=date(2026, 1, 10),
        team=[TeamMember(team[0].id), TeamMember(team[1].id)],
        lead_id=team[0].id,
    )
    first = db.session.scalars(sa.select(Inspection).where(Inspection.round_id == rnd.id)).first()
    first.status = "submitted"
    db.session.commit()

    with pytest.raises(ConfirmationRequired) as err:
        services.change_round_status(rnd.id, "closed", actor=coordinator)
    assert err.value.details == {"unfinished": 2}
    assert "2" in err.value.message
    db.session.refresh(rnd)
    assert rnd.status == "active" and _events("round.close") == []

    services.change_round_status(rnd.id, "closed", actor=coordinator, confirmed=True)
    assert rnd.status == "closed"
    (event,) = _events("round.close")
    assert event.after == {"status": "closed", "unfinished": 2, "confirmed": True}


def test_round_rows_count_inspections_and_unfinished(ctx, make, make_template, team):
    coordinator = make.user(role="coordinator")
    rnd = make.round(year=2031, seq=1, end_date=date(2031, 2, 1))
    make.round(year=2031, seq=2)
    services.assign_targets(
        rnd.id,
        [services.Target("unit", make.unit().id), services.Target("unit", make.unit().id)],
        actor=coordinator,
        template_id=make_template().id,
        scheduled_on=date(2031, 1, 10),
        team=[TeamMember(team[0].id), TeamMember(team[1].id)],
        lead_id=team[1].id,
    )
    rows = services.round_rows(2031)
    assert [(r.round.seq, r.inspections, r.unfinished) for r in rows] == [(1, 2, 2), (2, 0, 0)]
    assert 2031 in services.years_with_rounds()


@pytest.mark.parametrize("role", ["viewer", "inspector", "unit"])
def test_every_command_refuses_an_actor_who_may_not_plan(ctx, make, role):
    from inspect_app.errors import NotAllowed

    actor = make.user(role=role)
    rnd = make.round(year=2033, seq=1, end_date=date(2033, 2, 1))
    with pytest.raises(NotAllowed):
        services.plan_year(2034, actor=actor)
    with pytest.raises(NotAllowed):
        services.add_round(2033, 2, actor=actor)
    with pytest.raises(NotAllowed):
        services.change_round_status(rnd.id, "active", actor=actor)
    with pytest.raises(NotAllowed):
        _edit(rnd, actor)
    with pytest.raises(NotAllowed):
        services.assign_targets(
            rnd.id, [], actor=actor, template_id=None, scheduled_on=None, team=[], lead_id=None
        )
    assert services.missing_seqs(2034) == [1, 2, 3, 4, 5, 6]
