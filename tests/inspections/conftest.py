"""Fixtures for inspection tests: a small checklist and an inspection with a two-person team."""

import pytest

ITEMS = [
    {
        "code": "T-01",
        "text": "是否明确网络安全责任人？",
        "severity": "high",
        "deadline_days": 15,
        "evidence": "required_if_noncompliant",
        "legal_basis": [{"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"}],
    },
    {
        "code": "T-02",
        "text": "日志是否留存六个月以上？",
        "severity": "medium",
        "deadline_days": 30,
        "weight": 2.0,
    },
    {
        "code": "T-03",
        "text": "是否定期开展应急演练？",
        "severity": "low",
        "deadline_days": 60,
        "veto": True,
    },
    {"code": "T-04", "text": "演练发现的问题是否整改？", "show_if": {"T-03": "compliant"}},
    {"code": "T-05", "text": "关基运营者是否每年检测评估？", "applies_if": {"unit.is_cii": True}},
    {"code": "T-06", "text": "网站数量", "kind": "number"},
]


@pytest.fixture
def setup(app, make):
    """ids of: inspection, lead, member, outsider inspector, unit, items by code."""
    with app.app_context():
        template = make.template(items=ITEMS)
        unit = make.unit(code="U-A", is_cii=False)
        lead, member, outsider = (make.user(role="inspector") for _ in range(3))
        inspection = make.inspection(template=template, unit=unit, members=[lead, member])
        return {
            "inspection": inspection.id,
            "unit": unit.id,
            "lead": lead.username,
            "member": member.username,
            "outsider": outsider.username,
            "lead_id": lead.id,
            "items": {i.code: i.id for i in template.items},
        }


def change(item_id, base_version=0, **fields):
    import uuid

    return {
        "change_id": str(uuid.uuid4()),
        "item_id": item_id,
        "base_version": base_version,
        **fields,
    }
