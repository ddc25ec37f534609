"""On a tablet, a coordinator plans a year and assigns a two-department team to five units in round 3."""

import re

from inspect_app.extensions import db
from inspect_app.models import Inspection, Round

from .test_smoke import _login


def test_coordinator_plans_2027_and_assigns_five_units_to_a_joint_team(tablet, live_app):
    page = tablet
    _login(page, "coordinator")
    page.goto("/rounds/?year=2027")
    page.get_by_role("button", name=re.compile("2027")).click()
    page.get_by_role("link", name=re.compile("2027年第3轮")).first.click()
    page.locator("a[href$='/targets']").click()
    page.wait_for_selector("input[name=target]")
    for n in range(5):
        page.locator("input[name=target]").nth(n).check()
    resp = page.locator("#template_id option", has_text="网络安全责任制").first.get_attribute(
        "value"
    )
    page.locator("#template_id").select_option(resp)
    page.locator("form[method=post] input[type=date]").first.fill("2027-05-10")
    page.get_by_role("checkbox", name=re.compile("李检查")).check()
    page.get_by_role("checkbox", name=re.compile("王警官")).check()
    lead = page.locator("input[name=lead]").nth(
        page.locator("input[name=member]").evaluate_all("els => els.findIndex(e => e.checked)")
    )
    lead.check()
    page.locator("form[method=post] button[type=submit].primary").last.click()
    if page.locator("#confirm_cap").count():
        page.locator("#confirm_cap").check()
        page.locator("form[method=post] button[type=submit].primary").last.click()
    page.wait_for_url(re.compile(r"/rounds/\d+$"))
    with live_app.app_context():
        rnd = db.session.query(Round).filter_by(year=2027, seq=3).one()
        inspections = db.session.query(Inspection).filter_by(round_id=rnd.id).all()
        assert len(inspections) == 5
        for inspection in inspections:
            assert inspection.status == "planned" and inspection.lead.username == "inspector1"
            assert {m.department.code for m in inspection.members} == {"CAC", "PSB"}
            assert all(m.certificate_no for m in inspection.members)
        db.session.remove()
