"""Demo data: idempotent, and every demo user logs in and sees its role's navigation."""

import pytest

from inspect_app.demo.seed import DEMO_PASSWORD, USERS, seed
from inspect_app.extensions import db
from inspect_app.models import Round, System, Unit, User

from ..conftest import Browser


def test_seed_twice_adds_nothing_the_second_time(ctx):
    first = seed(year=2026, inspections=False)
    assert first["departments"] == 4 and first["units"] >= 20 and first["rounds"] == 6
    assert seed(year=2026, inspections=False) == {k: 0 for k in first}
    assert db.session.query(Round).filter_by(year=2026).count() == 6
    assert {s.mlps_level for s in db.session.query(System)} >= {1, 2, 3, 4}
    assert len({u.kind for u in db.session.query(Unit)}) >= 4


def test_seed_if_empty_does_nothing_when_users_exist(app, make):
    with app.app_context():
        make.user(role="admin")
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--if-empty"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.query(Unit).count() == 0


EXPECTED_NAV = {
    "admin": {"directory.users", "audit.index", "directory.units"},
    "coordinator": {"directory.units", "directory.systems", "audit.index"},
    "inspector": set(),
    "viewer": {"audit.index", "directory.units"},
    "unit": {"directory.my_unit", "audit.index"},
}
FORBIDDEN_NAV = {
    "inspector": {"directory.units", "audit.index", "directory.users"},
    "unit": {"directory.units", "directory.users"},
    "viewer": {"directory.users"},
}


@pytest.mark.parametrize("username,role", [(u[0], u[1]) for u in USERS])
def test_every_demo_user_logs_in_and_sees_the_navigation_of_its_role(app, username, role):
    with app.app_context():
        seed(year=2026, inspections=False)
    b = Browser(app.test_client())
    b.login(username, DEMO_PASSWORD)
    html = b.get("/").get_data(as_text=True)
    assert b.get("/").status_code == 200
    present = {
        ep
        for ep in EXPECTED_NAV[role] | FORBIDDEN_NAV.get(role, set())
        if f'data-nav="{ep}"' in html
    }
    available = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert present >= (EXPECTED_NAV[role] & available)
    assert not (present & FORBIDDEN_NAV.get(role, set()))
    with app.app_context():
        assert db.session.query(User).filter_by(username=username).one().role == role


def test_demo_credit_codes_pass_the_check_digit(ctx):
    from inspect_app.directory.creditcode import is_valid

    seed(year=2026, inspections=False)
    codes = [u.credit_code for u in db.session.query(Unit)]
    assert codes and all(is_valid(code) for code in codes)


def test_demo_year_has_submitted_rounds_work_in_progress_and_one_inspection_ready(ctx):
    from datetime import date

    from inspect_app.audit.services import verify_chain
    from inspect_app.demo.inspections import seed_inspections
    from inspect_app.models import Finding, Inspection, RectificationItem

    seed(year=2026, inspections=False)
    made = seed_inspections(2026, today=date(2026, 7, 10))  # during round 4
    assert made > 10
    by_round = {}
    for inspection in db.session.query(Inspection):
        by_round.setdefault(inspection.round.seq, []).append(inspection)
    assert all(i.status == "submitted" for seq in (1, 2, 3) for i in by_round[seq])
    assert {i.status for i in by_round[4]} == {"in_progress", "planned"}
    assert 5 not in by_round and 6 not in by_round
    ready = [i for i in by_round[4] if i.status == "planned"]
    assert ready[0].lead.username in ("inspector1", "inspector2", "inspector3", "inspector4")
    assert db.session.query(Finding).count() == db.session.query(RectificationItem).count() > 0
    assert all(i.notice_served_on for seq in (1, 2, 3) for i in by_round[seq] if i.notice_number)
    assert verify_chain()[1] is None
    assert seed_inspections(2026, today=date(2026, 7, 10)) == 0
