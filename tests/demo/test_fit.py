"""The demo fits a 师市 office (issue 10 §5): its issuer, numbers and phone codes, teams that fit
each round's subject, answers that agree with the registry, the DATA and WEB checklists in their
rounds, 兵团 units, and the signature time as it was signed."""

from datetime import date, time

import sqlalchemy as sa

from inspect_app.clock import utc_to_local
from inspect_app.demo.inspections import seed_inspections
from inspect_app.demo.seed import DEMO_PASSWORD, seed
from inspect_app.extensions import db
from inspect_app.models import Answer, ChecklistItem, Finding, Inspection, Unit, Visit

from ..conftest import Browser

TODAY = date(2026, 12, 1)  # during round 6: rounds 1-5 are on record


def _seed():
    seed(year=2026, inspections=False)
    assert seed_inspections(2026, today=TODAY) > 20


def _inspections(key=None):
    stmt = sa.select(Inspection)
    rows = db.session.scalars(stmt).all()
    return [i for i in rows if key is None or i.template.key == key]


def _departments(inspection) -> set[str]:
    return {m.department.code for m in inspection.members if m.department is not None}


def test_demo_notices_are_issued_and_numbered_as_a_shi_shi_office_and_phones_use_0997(app, ctx):
    _seed()
    numbered = db.session.scalars(sa.select(Visit).where(Visit.notice_number.is_not(None))).all()
    assert numbered
    assert all(v.notice_number.startswith("师市网信整改〔2026〕第") for v in numbered)
    assert app.config["NOTICE_ISSUER"].endswith("互联网信息办公室")
    assert "师" in app.config["NOTICE_ISSUER"] and "市" in app.config["NOTICE_ISSUER"]
    phones = [u.contact_phone for u in db.session.scalars(sa.select(Unit))]
    assert phones and all(p.startswith("0997-") for p in phones)


def test_demo_teams_fit_each_rounds_subject(ctx):
    _seed()
    by_key: dict[str, list[Inspection]] = {}
    for inspection in _inspections():
        by_key.setdefault(inspection.template.key, []).append(inspection)
    assert by_key["MLPS"] and by_key["MLPS_EXT"] and by_key["WEB"]
    for inspection in by_key["MLPS"] + by_key["MLPS_EXT"]:
        assert "PSB" in _departments(inspection), inspection.round.title  # 公安 on 等保
    for inspection in by_key["MLPS_EXT"]:
        assert "MIIT" in _departments(inspection)  # 工信 on 工控
    for inspection in by_key["WEB"]:
        # The secrecy part of WEB is checked with 保密, ICP filing with 工信.
        assert _departments(inspection) & {"SEC", "MIIT"}
    assert any("SEC" in _departments(i) for i in by_key["WEB"])
    # So the demo has secrecy findings, found by a team with 保密 on it.
    secrecy = db.session.scalars(
        sa.select(Finding).join(Finding.item).where(ChecklistItem.lead_department == "SEC")
    ).all()
    assert secrecy and all("SEC" in _departments(f.inspection) for f in secrecy)
    assert all("CAC" in _departments(i) for i in _inspections())  # the issuer's office is there


def test_demo_answers_agree_with_the_registry(ctx):
    _seed()
    answers = db.session.scalars(sa.select(Answer).where(Answer.result.is_not(None))).all()
    filed = [
        a
        for a in answers
        if a.inspection.system is not None
        and a.inspection.system.filing_number
        and "备案" in a.item.text
    ]
    assert filed  # the MLPS filing item was answered for filed systems
    assert all(a.result == "compliant" for a in filed)
    # Findings state a fact found, not the question turned round, and notes are not boilerplate.
    noncompliant = [a for a in answers if a.result == "noncompliant"]
    assert noncompliant
    assert not [a for a in noncompliant if a.finding_description.startswith("检查发现未落实")]
    assert not [a for a in answers if a.note == "已向单位说明问题。"]
    # An item of duty is never waved off as not applicable at random.
    assert not [a for a in answers if a.item.kind == "yes_no" and a.result == "not_applicable"]
    # And every system with a level of 2 or more carries a filing number of the real shape.
    for inspection in _inspections("MLPS"):
        number = inspection.system.filing_number
        head, _, tail = number.partition("-")
        assert len(head) == 11 and head.isdigit() and len(tail) == 5 and tail.isdigit()


def test_demo_uses_the_data_and_web_checklists_in_their_rounds(ctx):
    _seed()
    data_rounds = {i.round.title for i in _inspections("DATA")}
    assert any("数据安全和个人信息保护" in t for t in data_rounds)
    web_rounds = {i.round.seq for i in _inspections("WEB")}
    assert 2 in web_rounds  # 重点单位: websites, new media and secrecy of 师市 organs and a 团镇
    assert {i.round.seq for i in _inspections("MLPS")} >= {3}  # the 等保 round
    cloud_ics = {i.system.code for i in _inspections("MLPS_EXT")}
    assert {"U009-CLOUD", "U013-DMS", "U010-SCADA"} <= cloud_ics


def test_demo_bingtuan_units_are_inspected_and_supervised(ctx):
    _seed()
    kinds = {u.code: u for u in db.session.scalars(sa.select(Unit))}
    assert kinds["U021"].kind == "regiment" and kinds["U022"].kind == "regiment_town"
    assert kinds["U023"].kind == "company" and kinds["U023"].parent.code == "U021"
    assert kinds["U022"].credit_code.startswith("11")
    assert all(
        u.credit_code.startswith("12") for u in kinds.values() if u.kind == "public_institution"
    )
    visits = db.session.scalars(
        sa.select(Visit).where(Visit.unit_id.in_([kinds["U021"].id, kinds["U022"].id]))
    ).all()
    natures = {v.nature for v in visits if v.round.nature != "special_review"}
    assert natures == {"party_gov_supervision"}


def test_demo_signature_is_stored_as_signed_in_local_time_and_prints_so(app, ctx):
    """16:30 Beijing time is stored as 08:30 UTC and prints as 16:30 on the day of signing, never
    as 00:30 the next day, after the notice (the rectification story signs at 08:30)."""
    _seed()
    signed = [i for i in _inspections() if i.signed_at is not None and i.status == "submitted"]
    assert signed
    for inspection in signed:
        local = utc_to_local(inspection.signed_at)
        assert local.time() in (time(16, 30), time(8, 30))
        issued = inspection.visit.notice_issued_on
        assert issued is None or local.date() <= issued
    target = next(i for i in signed if utc_to_local(i.signed_at).time() == time(16, 30))
    assert target.signed_at.time() == time(8, 30)  # stored as UTC
    day = utc_to_local(target.signed_at)
    printed = f"{day.year}年{day.month}月{day.day}日 16:30"
    inspection_id = target.id
    db.session.commit()
    b = Browser(app.test_client())
    b.login("coordinator", DEMO_PASSWORD)
    html = b.get(f"/inspections/{inspection_id}/record").get_data(as_text=True)
    assert printed in html and " 00:30" not in html


def test_the_demo_seeds_in_the_first_days_of_a_year(ctx):
    """Round 1's visits then lie in the December before: a record start checked against the
    round's year alone refused them, so `flask demo seed` failed on a new install in January."""
    seed(year=2026, inspections=False)
    assert seed_inspections(2026, today=date(2026, 1, 2)) > 0
