"""A notice to a 团场, 团镇 or 连队 takes the supervisory route (督查, the responsibility system,
no fines and no 行政复议): 团场 and 团镇 are 党政机关 by their legal character, and a 连队's visit is
督查 by VISIT_NATURE_BY_KIND (models/org.py)."""

import re
from datetime import date

import pytest

from inspect_app.extensions import db
from inspect_app.inspections import answering, notices, services
from inspect_app.models import User
from inspect_app.rounds import services as rounds
from inspect_app.rounds.services import Target, TeamMember

from ..conftest import Browser
from .conftest import change
from .helpers import png_bytes

DAY = date(2026, 5, 10)


def _notice_text(app, make, kind: str) -> tuple[str, str]:
    with app.app_context():
        cac = make.department(code="CAC", name="师市党委网信办")
        psb = make.department(code="PSB", name="师市公安局网安支队")
        lead = make.user(role="inspector", department=cac, certificate_no="网信001")
        member = make.user(role="inspector", department=psb, certificate_no="公安002")
        coordinator = make.user(role="coordinator")
        template = make.template(
            key="BT",
            items=[
                {
                    "code": "B-01",
                    "text": "是否建立数据安全管理制度？",
                    "legal_basis": [{"law": "数据安全法", "article": "第二十七条"}],
                }
            ],
        )
        rnd = make.round(seq=2, start_date=date(2026, 5, 1), end_date=date(2026, 6, 30))
        unit = make.unit(kind=kind, name="示例师第一团", code="BT1")
        inspection = rounds.assign_targets(
            rnd.id,
            [Target("unit", unit.id)],
            actor=coordinator,
            template_id=template.id,
            scheduled_on=DAY,
            team=[TeamMember(lead.id), TeamMember(member.id)],
            lead_id=lead.id,
            confirmed_over_cap=True,
        ).inspections[0]
        inspection_id = inspection.id
        nature = inspection.visit.nature
        item = template.items[0]
        answering.apply_changes(
            inspection_id,
            [change(item.id, result="noncompliant", finding_description="经查，制度未建立")],
            actor=lead,
        )
        services.submit_inspection(
            inspection_id, actor=lead, signatory_name="赵六", signature_png=png_bytes(), today=DAY
        )
        notices.approve_notice(inspection_id, actor=coordinator, today=DAY)
        username = db.session.get(User, lead.id).username
    b = Browser(app.test_client())
    b.login(username)
    html = b.get(f"/inspections/{inspection_id}/notice").get_data(as_text=True)
    return nature, re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


@pytest.mark.parametrize("kind", ["regiment", "regiment_town", "company"])
def test_a_notice_to_a_bingtuan_unit_is_supervision_without_fines_or_reconsideration(
    app, make, kind
):
    nature, text = _notice_text(app, make, kind)
    assert nature == "party_gov_supervision"
    assert "督查" in text and "责任制" in text
    assert "罚款" not in text and "行政复议" not in text


def test_a_notice_to_a_state_owned_enterprise_still_names_the_reconsideration_body(app, make):
    nature, text = _notice_text(app, make, "soe")
    assert nature == "enterprise_inspection"
    assert "行政复议" in text
