"""The published list of inspection items (检查事项清单): open to anyone, no unit data."""

from inspect_app.extensions import db
from inspect_app.models import Round


def test_the_published_item_list_needs_no_login_and_shows_no_unit_data(app, make):
    with app.app_context():
        make.template(
            key="PUB",
            items=[
                {
                    "code": "PUB-01",
                    "text": "是否明确网络安全负责人？",
                    "legal_basis": [{"law": "网络安全法", "article": "第二十四条"}],
                    "lead_department": "CAC",
                }
            ],
        )
        make.template(key="PUB", version="2", items=[{"code": "PUB-02", "text": "新版条目"}])
        unit = make.unit(name="不应出现的单位")
        make.inspection(unit=unit, round=make.round(seq=2))
        assert db.session.query(Round).count() == 1
    html = app.test_client().get("/checklists/public").get_data(as_text=True)
    assert "PUB-02" in html and "新版条目" in html  # the version in force
    assert "PUB-01" not in html  # an older version is not the published list
    assert "第九条（原第八条）" in html and "责任制实施办法" in html  # authority per nature
    assert "不应出现的单位" not in html
    response = app.test_client().get("/checklists/public?lang=en")
    assert response.status_code == 200 and "/auth/login" not in response.headers.get("Location", "")
