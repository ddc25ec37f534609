"""Targets and teams: joint teams of at least two inspectors, bulk assignment, the yearly cap."""

from datetime import date

import pytest
import sqlalchemy as sa

from inspect_app.audit import verify_chain
from inspect_app.errors import InvalidTransition, ValidationFailed
from inspect_app.extensions import db
from inspect_app.models import Answer, AuditEvent, Inspection, InspectionMember
from inspect_app.rounds import services
from inspect_app.rounds.services import ConfirmationRequired, Target, TargetFilter, TeamMember


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def coordinator(ctx, make):
    return make.user(role="coordinator")


@pytest.fixture
def rnd(ctx, make):
    return make.round(year=2026, seq=1, start_date=date(2026, 1, 5), end_date=date(2026, 1, 25))


def assign(rnd, targets, members, *, coordinator, template, lead=None, **kw):
    kw.setdefault("scheduled_on", date(2026, 1, 10))
    return services.assign_targets(
        rnd.id,
        targets,
        actor=coordinator,
        template_id=template.id,
        team=[m if isinstance(m, TeamMember) else TeamMember(m.id) for m in members],
        lead_id=(lead or members[0]).id,
        **kw,
    )


def units_as_targets(units):
    return [Target("unit", u.id) for u in units]


def test_bulk_assignment_creates_one_inspection_per_unit_with_a_two_department_team(
    coordinator, rnd, make, make_template, team
):
    units = [make.unit(kind="soe") for _ in range(5)]
    template = make_template()
    result = assign(
        rnd, units_as_targets(units), team[:2], coordinator=coordinator, template=template
    )
    assert len(result.inspections) == 5 and result.warnings == []
    for inspection in result.inspections:
        db.session.refresh(inspection)
        assert inspection.status == "planned"
        assert inspection.template_id == template.id
        assert inspection.lead_id == team[0].id
        assert inspection.scheduled_on == date(2026, 1, 10)
        assert {(m.user_id, m.department_id, m.certificate_no) for m in inspection.members} == {
            (team[0].id, team[0].department_id, "网信执字01"),
            (team[1].id, team[1].department_id, "公网安执字02"),
        }
    assert len({m.department_id for m in result.inspections[0].members}) == 2
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "inspection.assign")
    ).all()
    assert sorted(int(e.object_id) for e in events) == sorted(i.id for i in result.inspections)
    # A liaison must not learn of a planned inspection from the audit log.
    assert {e.unit_id for e in events} == {None}
    assert verify_chain()[1] is None


def test_one_bad_target_means_no_inspection_is_created(coordinator, rnd, make, make_template, team):
    units = [make.unit() for _ in range(4)] + [make.unit(active=False)]
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            units_as_targets(units),
            team[:2],
            coordinator=coordinator,
            template=make_template(),
        )
    assert units[-1].name in err.value.message
    assert _count(Inspection) == 0 and _count(InspectionMember) == 0


def test_unknown_target_and_already_assigned_target_are_refused(
    coordinator, rnd, make, make_template, team
):
    template = make_template()
    unit = make.unit()
    assign(rnd, units_as_targets([unit]), team[:2], coordinator=coordinator, template=template)
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            [Target("unit", unit.id), Target("unit", 987_654), Target("unit", make.unit().id)],
            team[:2],
            coordinator=coordinator,
            template=template,
        )
    assert len(err.value.details["targets"]) == 2
    assert _count(Inspection) == 1


def test_a_team_of_one_is_refused(coordinator, rnd, make, make_template, team):
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            units_as_targets([make.unit()]),
            team[:1],
            coordinator=coordinator,
            template=make_template(),
        )
    assert err.value.details == {"team": "size"}
    assert "行政处罚法" in err.value.message
    # The same inspector twice is still one inspector.
    with pytest.raises(ValidationFailed):
        assign(
            rnd,
            units_as_targets([make.unit()]),
            [team[0], team[0]],
            coordinator=coordinator,
            template=make_template(),
        )
    assert _count(Inspection) == 0


def test_the_lead_must_be_on_the_team(coordinator, rnd, make, make_template, team):
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            units_as_targets([make.unit()]),
            team[:2],
            lead=team[2],
            coordinator=coordinator,
            template=make_template(),
        )
    assert err.value.details == {"lead": "not_member"}
    assert _count(Inspection) == 0


@pytest.mark.parametrize("who", ["coordinator", "viewer", "unit", "inactive"])
def test_only_active_inspectors_can_be_members(coordinator, rnd, make, make_template, team, who):
    outsider = (
        make.user(role="inspector", is_active_flag=False, certificate_no="X1")
        if who == "inactive"
        else make.user(role=who, certificate_no="X1")
    )
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            units_as_targets([make.unit()]),
            [team[0], outsider],
            coordinator=coordinator,
            template=make_template(),
        )
    assert outsider.name in err.value.message
    assert _count(Inspection) == 0


def test_a_certificate_number_is_required_and_may_be_corrected(
    coordinator, rnd, make, make_template, team
):
    bare = make.user(role="inspector", certificate_no="")
    with pytest.raises(ValidationFailed) as err:
        assign(
            rnd,
            units_as_targets([make.unit()]),
            [team[0], bare],
            coordinator=coordinator,
            template=make_template(),
        )
    assert bare.name in err.value.message
    result = assign(
        rnd,
        units_as_targets([make.unit()]),
        [TeamMember(team[0].id, " 网信执字99 "), TeamMember(bare.id, "公网安执字77")],
        lead=team[0],
        coordinator=coordinator,
        template=make_template(),
    )
    certs = {m.user_id: m.certificate_no for m in result.inspections[0].members}
    assert certs == {team[0].id: "网信执字99", bare.id: "公网安执字77"}
    with pytest.raises(ValidationFailed):
        assign(
            rnd,
            units_as_targets([make.unit()]),
            [TeamMember(team[0].id, ""), TeamMember(team[1].id)],
            lead=team[0],
            coordinator=coordinator,
            template=make_template(),
        )


def test_the_checklist_must_fit_the_target(coordinator, rnd, make, make_template, team):
    system = make.system()
    with pytest.raises(ValidationFailed):
        assign(
            rnd,
            [Target("system", system.id)],
            team[:2],
            coordinator=coordinator,
            template=make_template("unit"),
        )
    result = assign(
        rnd,
        [Target("system", system.id)],
        team[:2],
        coordinator=coordinator,
        template=make_template("system"),
    )
    assert (result.inspections[0].unit_id, result.inspections[0].system_id) == (
        system.unit_id,
        system.id,
    )


def test_date_is_required_and_a_date_outside_the_round_only_warns(
    coordinator, rnd, make, make_template, team
):
    with pytest.raises(ValidationFailed):
        assign(
            rnd,
            units_as_targets([make.unit()]),
            team[:2],
            coordinator=coordinator,
            template=make_template(),
            scheduled_on=None,
        )
    result = assign(
        rnd,
        units_as_targets([make.unit()]),
        team[:2],
        coordinator=coordinator,
        template=make_template(),
        scheduled_on=date(2026, 3, 1),
    )
    assert len(result.inspections) == 1
    assert "2026-03-01" in result.warnings[0]


def test_no_assignment_in_a_closed_round(coordinator, make, make_template, team):
    closed = make.round(seq=2, status="closed")
    with pytest.raises(InvalidTransition):
        assign(
            closed,
            units_as_targets([make.unit()]),
            team[:2],
            coordinator=coordinator,
            template=make_template(),
        )


def test_cap_warning_blocks_until_confirmed_and_counts_every_round_of_the_year(
    coordinator, rnd, make, make_template, team
):
    capped = make.unit(kind="private_enterprise", inspection_cap=2)
    roomy = make.unit(kind="private_enterprise")  # the kind's default cap: 4
    earlier = make.round(year=2026, seq=2)
    last_year = make.round(year=2025, seq=1)
    for r in (earlier, last_year):
        assign(
            r,
            units_as_targets([capped]),
            team[:2],
            coordinator=coordinator,
            template=make_template(),
        )
    template = make_template()
    targets = units_as_targets([capped, roomy])
    # 1 this year + 1 new = 2: still within the cap of 2.
    assign(rnd, targets, team[:2], coordinator=coordinator, template=template)
    third = make.round(year=2026, seq=3)
    with pytest.raises(ConfirmationRequired) as err:
        assign(third, targets, team[:2], coordinator=coordinator, template=template)
    (excess,) = err.value.details["over_cap"]
    assert (excess.unit_id, excess.existing, excess.new, excess.total, excess.cap) == (
        capped.id,
        2,
        1,
        3,
        2,
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Inspection.id)).where(Inspection.round_id == third.id)
        )
        == 0
    )
    result = assign(
        third,
        targets,
        team[:2],
        coordinator=coordinator,
        template=template,
        confirmed_over_cap=True,
    )
    assert len(result.inspections) == 2
    confirmed = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "inspection.assign")
    ).all()[-2:]
    flags = [e.after.get("over_cap_confirmed") for e in confirmed]
    assert {"cap": 2, "total": 3} in flags and None in flags


def test_config_cap_per_kind_applies_when_the_unit_has_none(ctx, app, make):
    unit = make.unit(kind="soe")
    assert services.inspection_cap(unit) == app.config["INSPECTION_CAPS"]["soe"]
    assert services.inspection_cap(unit, {"soe": 1}) == 1
    unit.inspection_cap = 7
    assert services.inspection_cap(unit) == 7


def test_filters_find_units_not_inspected_this_year(coordinator, rnd, make, make_template, team):
    seen = make.unit(kind="soe", is_key_unit=True, code="ZZ-SEEN")
    fresh = make.unit(kind="soe", is_key_unit=True, code="ZZ-FRESH")
    other = make.unit(kind="party_gov", is_cii=True, code="ZZ-OTHER")
    make.unit(kind="soe", code="ZZ-GONE", active=False)
    last_year = make.round(year=2025, seq=6)
    assign(
        last_year,
        units_as_targets([fresh]),
        team[:2],
        coordinator=coordinator,
        template=make_template(),
    )
    assign(
        make.round(year=2026, seq=4),
        units_as_targets([seen]),
        team[:2],
        coordinator=coordinator,
        template=make_template(),
    )

    def codes(**kw):
        found, truncated = services.target_candidates(rnd, TargetFilter(q="ZZ-", **kw))
        assert not truncated
        return {c.unit.code for c in found}

    assert codes() == {"ZZ-SEEN", "ZZ-FRESH", "ZZ-OTHER"}
    assert codes(not_inspected=True) == {"ZZ-FRESH", "ZZ-OTHER"}
    assert codes(unit_kind="soe", not_inspected=True) == {"ZZ-FRESH"}
    assert codes(key_unit=False) == {"ZZ-OTHER"}
    assert codes(cii=True) == {"ZZ-OTHER"}
    found, _ = services.target_candidates(rnd, TargetFilter(q="ZZ-SEEN"))
    assert (found[0].year_count, found[0].cap, found[0].in_round) == (1, 4, 0)
    assert other.id not in {
        c.unit.id
        for c in services.target_candidates(rnd, TargetFilter(q="ZZ-", unit_kind="soe"))[0]
    }


def test_filters_for_systems_by_level_cii_and_not_inspected(
    coordinator, rnd, make, make_template, team
):
    unit = make.unit(code="YY-U")
    high = make.system(unit, code="YY-4", mlps_level=4, is_cii=True)
    low = make.system(unit, code="YY-2", mlps_level=2)
    make.system(unit, code="YY-OFF", mlps_level=2, active=False)
    assign(
        rnd,
        [Target("system", high.id)],
        team[:2],
        coordinator=coordinator,
        template=make_template("system"),
    )

    def codes(**kw):
        found, _ = services.target_candidates(rnd, TargetFilter(target="system", q="YY-", **kw))
        return {c.system.code for c in found}

    assert codes() == {"YY-4", "YY-2"}
    assert codes(mlps_level=4) == {"YY-4"}
    assert codes(cii=False) == {"YY-2"}
    assert codes(not_inspected=True) == {"YY-2"}
    found, _ = services.target_candidates(rnd, TargetFilter(target="system", q="YY-4"))
    assert found[0].in_round == 1 and found[0].target == Target("system", high.id)
    # The unit filter by level finds units that have a system at that level.
    found, _ = services.target_candidates(rnd, TargetFilter(q="YY-", mlps_level=2))
    assert [c.unit.id for c in found] == [unit.id]
    assert low.unit_id == unit.id


def test_a_planned_inspection_can_be_changed_and_removed(
    coordinator, rnd, make, make_template, team
):
    (inspection,) = assign(
        rnd,
        units_as_targets([make.unit()]),
        team[:2],
        coordinator=coordinator,
        template=make_template(),
    ).inspections
    services.update_planned_inspection(
        inspection.id,
        actor=coordinator,
        scheduled_on=date(2026, 1, 20),
        team=[TeamMember(team[1].id), TeamMember(team[2].id, "网信执字33")],
        lead_id=team[2].id,
    )
    db.session.refresh(inspection)
    assert inspection.scheduled_on == date(2026, 1, 20) and inspection.lead_id == team[2].id
    assert {(m.user_id, m.certificate_no) for m in inspection.members} == {
        (team[1].id, "公网安执字02"),
        (team[2].id, "网信执字33"),
    }
    (event,) = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "inspection.plan_update")
    ).all()
    assert event.before["lead_id"] == team[0].id and event.after["lead_id"] == team[2].id

    with pytest.raises(ValidationFailed):
        services.update_planned_inspection(
            inspection.id,
            actor=coordinator,
            scheduled_on=date(2026, 1, 20),
            team=[TeamMember(team[1].id)],
            lead_id=team[1].id,
        )
    services.remove_planned_inspection(inspection.id, actor=coordinator)
    assert _count(Inspection) == 0 and _count(InspectionMember) == 0
    assert (
        db.session.scalar(
            sa.select(AuditEvent.before).where(AuditEvent.action == "inspection.remove")
        )["unit_id"]
        == inspection.unit_id
    )


@pytest.mark.parametrize("status", ["in_progress", "submitted", "closed"])
def test_a_started_inspection_cannot_be_changed_or_removed(
    coordinator, rnd, make, make_template, team, status
):
    (inspection,) = assign(
        rnd,
        units_as_targets([make.unit()]),
        team[:2],
        coordinator=coordinator,
        template=make_template(),
    ).inspections
    inspection.status = status
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.update_planned_inspection(
            inspection.id,
            actor=coordinator,
            scheduled_on=date(2026, 1, 11),
            team=[TeamMember(team[0].id), TeamMember(team[1].id)],
            lead_id=team[0].id,
        )
    with pytest.raises(InvalidTransition):
        services.remove_planned_inspection(inspection.id, actor=coordinator)
    assert _count(Inspection) == 1


def test_a_planned_inspection_with_answers_cannot_be_removed(
    coordinator, rnd, make, make_template, team
):
    from inspect_app.models import ChecklistItem

    template = make_template()
    item = ChecklistItem(template=template, position=1, code="A1", text="问题")
    db.session.add(item)
    db.session.commit()
    (inspection,) = assign(
        rnd,
        units_as_targets([make.unit()]),
        team[:2],
        coordinator=coordinator,
        template=template,
    ).inspections
    db.session.add(Answer(inspection=inspection, item=item, result="compliant"))
    db.session.commit()
    with pytest.raises(InvalidTransition):
        services.remove_planned_inspection(inspection.id, actor=coordinator)


def _team(visit):
    return [(m.user_id, m.department_id, m.certificate_no) for m in visit.members]


def test_the_visit_stores_its_team_and_keeps_it_equal_to_its_inspections(
    coordinator, rnd, make, make_template, team
):
    from inspect_app.models import Visit, VisitMember

    unit = make.unit(kind="soe")
    system = make.system(unit=unit)
    unit_template, system_template = make_template(), make_template(target="system")
    first = assign(
        rnd, [Target("unit", unit.id)], team[:2], coordinator=coordinator, template=unit_template
    ).inspections[0]
    second = assign(
        rnd,
        [Target("system", system.id)],
        team[:2],
        coordinator=coordinator,
        template=system_template,
    ).inspections[0]
    assert first.visit_id == second.visit_id  # one unit, one day, one team: one visit
    visit = db.session.get(Visit, first.visit_id)
    expected = [
        (team[0].id, team[0].department_id, "网信执字01"),
        (team[1].id, team[1].department_id, "公网安执字02"),
    ]
    assert _team(visit) == expected and _count(VisitMember) == 2
    # A changed team moves the inspection to a visit of its own; each visit's team follows.
    services.update_planned_inspection(
        second.id,
        actor=coordinator,
        scheduled_on=date(2026, 1, 10),
        team=[TeamMember(team[0].id), TeamMember(team[2].id)],
        lead_id=team[0].id,
    )
    db.session.expire_all()
    moved = db.session.get(Inspection, second.id)
    assert moved.visit_id != first.visit_id
    assert _team(db.session.get(Visit, first.visit_id)) == expected
    assert [m.user_id for m in moved.visit.members] == [team[0].id, team[2].id]
    # A change of team of an inspection alone in its visit changes the visit's team too.
    services.update_planned_inspection(
        second.id,
        actor=coordinator,
        scheduled_on=date(2026, 1, 10),
        team=[TeamMember(team[1].id), TeamMember(team[2].id)],
        lead_id=team[2].id,
    )
    db.session.expire_all()
    moved = db.session.get(Inspection, second.id)
    assert sorted(m.user_id for m in moved.visit.members) == sorted([team[1].id, team[2].id])
    for visit in db.session.scalars(sa.select(Visit)):
        assert {m.user_id for m in visit.members} == {
            m.user_id for i in visit.inspections for m in i.members
        }
    # Removing the inspection removes its visit and that visit's team.
    services.remove_planned_inspection(second.id, actor=coordinator)
    assert _count(VisitMember) == 2


def test_a_team_without_the_units_sector_regulator_is_planned_with_a_warning(
    coordinator, rnd, make, make_template, team
):
    nea = make.department(code="NEA", name="能源监管办", kind="regulator", sector="电力")
    power = make.unit(kind="soe", sector="电力", name="某供电公司")
    office = make.unit(kind="soe", sector="")
    template = make_template()
    result = assign(
        rnd, units_as_targets([power, office]), team[:2], coordinator=coordinator, template=template
    )
    assert len(result.inspections) == 2  # a warning, not a refusal: the plan is the office's
    [warning] = result.warnings
    assert "某供电公司" in warning and "电力" in warning and "能源监管办" in warning
    # With an inspector of the regulator on the team, no warning.
    regulator = make.user(role="inspector", department=nea, certificate_no="能监执字03")
    [inspection] = [i for i in result.inspections if i.unit_id == power.id]
    _inspection, warnings = services.update_planned_inspection(
        inspection.id,
        actor=coordinator,
        scheduled_on=date(2026, 1, 10),
        team=[TeamMember(team[0].id), TeamMember(team[1].id), TeamMember(regulator.id)],
        lead_id=team[0].id,
    )
    assert warnings == []
