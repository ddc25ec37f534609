"""Permissions: one module decides; unit users get 404 on other units, inspectors 403 on office pages."""

import pytest

from inspect_app import audit
from inspect_app.auth.permissions import can, scope
from inspect_app.extensions import db
from inspect_app.models import AuditEvent


@pytest.fixture
def two_units(app, make):
    with app.app_context():
        mine, other = make.unit(code="MINE"), make.unit(code="OTHER")
        audit.record(None, "unit.update", mine, after={"name": "mine"})
        audit.record(None, "unit.update", other, after={"name": "other"})
        db.session.commit()
        ids = {
            "mine": mine.id,
            "other": other.id,
            "mine_event": db.session.query(AuditEvent).filter_by(unit_id=mine.id).one().id,
            "other_event": db.session.query(AuditEvent).filter_by(unit_id=other.id).one().id,
        }
    return ids


def test_unit_user_gets_404_for_another_units_audit_event(login_as, two_units):
    unit_user = login_as("unit", unit_id=two_units["mine"])
    assert unit_user.get(f"/audit/{two_units['mine_event']}").status_code == 200
    assert unit_user.get(f"/audit/{two_units['other_event']}").status_code == 404


def test_unit_user_audit_list_shows_only_its_own_unit(login_as, two_units):
    unit_user = login_as("unit", unit_id=two_units["mine"])
    html = unit_user.get("/audit/?object_type=Unit").get_data(as_text=True)
    assert f'href="/audit/{two_units["mine_event"]}"' in html
    assert f'href="/audit/{two_units["other_event"]}"' not in html


@pytest.mark.parametrize("url", ["/audit/", "/directory/units"])
def test_inspector_gets_403_on_coordinator_pages(login_as, url):
    assert login_as("inspector").get(url).status_code == 403


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_can_matrix(ctx, make):
    unit_a, unit_b = make.unit(), make.unit()
    coordinator = make.user(role="coordinator")
    viewer = make.user(role="viewer")
    liaison = make.user(role="unit", unit=unit_a)
    inspector = make.user(role="inspector")
    admin = make.user(role="admin")
    assert can(coordinator, "directory.edit")
    assert not can(viewer, "directory.edit") and can(viewer, "directory.view")
    assert can(liaison, "directory.view", unit_a) and not can(liaison, "directory.view", unit_b)
    assert not can(inspector, "directory.view")
    assert can(admin, "anything.at.all", unit_b)
    assert not can(None, "directory.view")


def test_scope_limits_unit_users_to_their_unit(ctx, make):
    import sqlalchemy as sa

    from inspect_app.models import Unit

    unit_a, _unit_b = make.unit(), make.unit()
    liaison = make.user(role="unit", unit=unit_a)
    rows = db.session.scalars(scope(sa.select(Unit), Unit, liaison)).all()
    assert [u.id for u in rows] == [unit_a.id]


def test_scope_of_findings_and_items_follows_the_unit_and_the_team(ctx, make):
    import sqlalchemy as sa

    from inspect_app.models import Finding, RectificationItem

    lead, other_inspector = make.user(role="inspector"), make.user(role="inspector")
    mine = make.inspection(members=[lead, make.user(role="inspector")], status="submitted")
    theirs = make.inspection(status="submitted")
    found_mine, found_theirs = make.finding(mine), make.finding(theirs)
    liaison = make.user(role="unit", unit_id=mine.unit_id)
    viewer = make.user(role="viewer")

    def ids(model, user):
        return {row.id for row in db.session.scalars(scope(sa.select(model), model, user))}

    for model, mine_row, theirs_row in (
        (Finding, found_mine, found_theirs),
        (RectificationItem, found_mine.rectification, found_theirs.rectification),
    ):
        assert ids(model, liaison) == {mine_row.id}
        assert ids(model, lead) == {mine_row.id}
        assert ids(model, other_inspector) == set()
        assert {mine_row.id, theirs_row.id} <= ids(model, viewer)


def test_inspectors_see_no_rows_of_models_they_do_not_work_on(ctx, make):
    import sqlalchemy as sa

    from inspect_app.models import System, Unit

    make.system()
    inspector = make.user(role="inspector")
    for model in (Unit, System):
        assert db.session.scalars(scope(sa.select(model), model, inspector)).all() == []
