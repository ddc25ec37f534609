"""Demo data: idempotent, and every demo user logs in and sees its role's navigation."""

from datetime import timedelta

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
    codes = [u.credit_code for u in db.session.query(Unit) if u.kind != "company"]
    assert codes and all(is_valid(code) for code in codes)


def test_demo_year_has_submitted_rounds_work_in_progress_one_inspection_ready_and_every_rectification_state(
    ctx,
):
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
    _every_rectification_state(date(2026, 7, 10))
    _unit_u014_walks_the_loop(date(2026, 7, 10))
    assert verify_chain()[1] is None
    assert seed_inspections(2026, today=date(2026, 7, 10)) == 0


def _every_rectification_state(today):
    """Items in every state across several units, with the history that led there."""
    import sqlalchemy as sa

    from inspect_app.models import Finding, RectificationEvent, RectificationItem

    items = db.session.scalars(sa.select(RectificationItem)).all()
    by_status = {}
    for item in items:
        by_status.setdefault(item.status, []).append(item)
    assert set(by_status) == {
        "open",
        "submitted",
        "returned",
        "closed",
        "risk_accepted",
        "escalated",
    }
    assert len({i.unit_id for i in items if i.status != "closed"}) >= 4
    events = db.session.scalars(sa.select(RectificationEvent)).all()
    kinds = {e.kind for e in events}
    assert kinds >= {
        "response",
        "returned",
        "verified",
        "extension_requested",
        "extension_granted",
        "risk_accepted",
        "escalated",
        "interview",
        "notification",
    }
    assert any(i.is_overdue(today) for i in items)
    assert any(i.is_due_soon(today, 7) for i in items)
    responses = [e for e in events if e.kind == "response"]
    assert all(
        e.data["cause"] and e.data["measures"] and e.data["responsible_person"] for e in responses
    )
    assert any(e.attachments for e in responses)  # one with a photo
    assert any(e.on_behalf and e.data["source"] for e in responses)  # 代录 by the office
    assert any(e.data.get("recheck") and e.attachments for e in events if e.kind == "verified")
    [escalated] = by_status["escalated"]
    assert escalated.escalated_to == "police"
    assert [e for e in escalated.events if e.kind == "escalated"][0].data["body"]
    [accepted] = by_status["risk_accepted"]
    assert accepted.risk_accepted_until > today
    extended = [e for e in events if e.kind == "extension_granted"]
    assert extended and all(e.data["from"] and e.data["to"] > e.data["from"] for e in extended)
    assert any(i.pending_extension is not None for i in items)  # a request waiting
    returned_again = [
        i
        for i in by_status["submitted"]
        if [e.kind for e in i.events][-2:] == ["returned", "response"]
    ]
    assert returned_again and returned_again[0].events[-2].message  # returned with a reason
    overdue = [i for i in items if i.is_overdue(today)]
    assert any({"interview", "notification"} <= {e.kind for e in i.events} for i in overdue)
    repeats = db.session.scalars(sa.select(Finding).where(Finding.repeat_count == 1)).all()
    assert repeats and repeats[0].repeat_of.unit_id == repeats[0].unit_id
    # Dated as the story goes: no step in the history is later than the demo's today.
    assert max(e.created_at.date() for e in events) <= today
    # The inbox: what is older than two weeks was read, the bank's recent news is not.
    from inspect_app.models import Notification

    notes = db.session.scalars(sa.select(Notification)).all()
    assert all(
        n.read_at > n.created_at for n in notes if n.created_at.date() < today - timedelta(14)
    )
    assert any(n.read_at is None and n.user.username == "unit_u014" for n in notes)


def _unit_u014_walks_the_loop(today):
    """README's walk-through: unit_u014 has an open item to answer with a photo, a returned
    item and an overdue one; answer, return, answer again, verify."""
    import sqlalchemy as sa

    from inspect_app.models import RectificationItem
    from inspect_app.rectification import services as rs

    from ..inspections.helpers import jpeg_bytes

    liaison = db.session.scalar(sa.select(User).where(User.username == "unit_u014"))
    office = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
    mine = db.session.scalars(
        sa.select(RectificationItem).where(RectificationItem.unit_id == liaison.unit_id)
    ).all()
    assert any(i.status == "returned" for i in mine)
    assert any(i.is_overdue(today) for i in mine)
    item = next(i for i in mine if i.status == "open" and not i.is_overdue(today))
    answer = {
        "cause": "权限按部门整体开通，未按岗位细分。",
        "measures": "已按岗位重新分配查询权限，并完成全员培训。",
        "completed_on": today,
        "responsible_person": "赵敏",
        "today": today,
    }
    rs.respond(item.id, actor=liaison, files=[rs.Upload(jpeg_bytes(), "权限配置.jpg")], **answer)
    rs.return_item(
        item.id, actor=office, reason="缺少培训签到表。", due_date=today + timedelta(7), today=today
    )
    rs.respond(item.id, actor=liaison, **answer)
    rs.verify(item.id, actor=office, note="材料齐全，同意销号。", today=today)
    db.session.expire_all()
    kinds = [e.kind for e in db.session.get(RectificationItem, item.id).events]
    assert kinds == ["response", "returned", "response", "verified"]


def test_the_demo_scada_and_cloud_systems_get_the_extension_checklists(ctx):
    from inspect_app.checklists import conditions, loader
    from inspect_app.extensions import db
    from inspect_app.models import System

    seed(year=2026, inspections=False)
    parsed = loader.parse_path(loader.default_folder() / "mlps_ext.yaml")
    items = {i.code: i.applies_if for _si, _s, i in parsed.template.items()}
    systems = {s.code: s for s in db.session.scalars(db.select(System))}

    def applies(code, system_code):
        return conditions.applies(items[code], system=systems[system_code])

    for code in ("U009-CLOUD", "U015-IAAS"):
        assert applies("MLPS-CL-01", code) and not applies("MLPS-IC-01", code)
    for code in ("U010-SCADA", "U011-SCADA", "U013-DMS"):
        assert applies("MLPS-IC-01", code) and applies("ICS-02", code)
    assert applies("PWR-02", "U013-DMS") and not applies("PWR-02", "U010-SCADA")
    assert not applies("MLPS-CL-01", "U006-HIS") and not applies("MLPS-IC-01", "U006-HIS")
