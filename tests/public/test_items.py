"""The published list of inspection items (检查事项清单): public, current, per nature, no unit data."""

from __future__ import annotations

import time

import pytest

LAW = {"law": "中华人民共和国网络安全法", "article": "第23条"}


@pytest.fixture
def listed(app, make):
    with app.app_context():
        make.template(
            key="PUB",
            version="1",
            items=[{"code": "OLD-01", "text": "旧版本的检查项？", "legal_basis": [LAW]}],
        )
        time.sleep(0.01)  # loaded later: the newer version
        make.template(
            key="PUB",
            version="2",
            title="公开测试清单",
            items=[
                {"code": "PUB-01", "text": "是否落实网络安全责任？", "legal_basis": [LAW]},
                {
                    "code": "PUB-02",
                    "text": "党委（党组）是否研究网络安全工作？",
                    "legal_basis": [LAW],
                    "applies_if": {"unit.kind": {"in": ["party_gov"]}},
                },
                {"code": "PUB-03", "text": "是否开展宣传周活动？", "advisory": True},
                {"code": "PUB-04", "text": "网络安全人员数量", "kind": "number"},
            ],
        )
        unit = make.unit(name="绝密测试单位甲")
        make.inspection(unit=unit)


def _section(html: str, nature: str) -> str:
    start = html.index(f'id="{nature}"')
    end = html.find("<section", start + 1)
    return html[start : end if end > 0 else len(html)]


def test_anyone_can_read_the_list_without_logging_in(client, listed):
    r = client.get("/public/items")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "公开测试清单" in html and "《中华人民共和国网络安全法》第23条" in html
    assert "第九条（原第八条）" in html and "责任制实施办法" in html  # authority per nature


def test_enterprises_get_only_statutory_items_that_may_apply_to_them(client, listed):
    html = client.get("/public/items").get_data(as_text=True)
    enterprise = _section(html, "enterprise_inspection")
    assert "PUB-01" in enterprise
    assert "PUB-02" not in enterprise  # only for 党政机关
    assert "PUB-03" not in enterprise  # advisory: never enforced on an enterprise
    supervision = _section(html, "party_gov_supervision")
    assert all(code in supervision for code in ("PUB-01", "PUB-02", "PUB-03"))


def test_only_the_current_version_and_only_items_of_duty_are_listed(client, listed):
    html = client.get("/public/items").get_data(as_text=True)
    assert "OLD-01" not in html
    assert "PUB-04" not in html  # a number gathered on site is not an item of duty


def test_the_list_shows_no_unit_data(client, listed):
    html = client.get("/public/items").get_data(as_text=True)
    assert "绝密测试单位甲" not in html


def test_one_nature_can_be_chosen_and_an_unknown_one_is_refused(client, listed):
    html = client.get("/public/items?nature=party_gov_supervision").get_data(as_text=True)
    assert 'id="party_gov_supervision"' in html and 'id="enterprise_inspection"' not in html
    assert client.get("/public/items?nature=nonsense").status_code == 400
