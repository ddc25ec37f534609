"""Citation style on rendered documents (S7) and the item's 整改要求 on the notice."""

import re
from datetime import date, datetime

from inspect_app.extensions import db
from inspect_app.inspections import answering, services
from inspect_app.models import Finding, Inspection, User

from .conftest import change
from .helpers import png_bytes

ITEMS = [
    {
        "code": "C-01",
        "text": "是否落实等级保护制度？",
        "severity": "high",
        "required_action": "立即完成定级备案，三十日内报送备案证明。",
        "legal_basis": [
            {"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"},
            {"standard": "GB/T 22239-2019", "clause": "8.1.4.9"},
        ],
    },
    {
        "code": "C-02",
        "text": "日志是否留存六个月？",
        "legal_basis": [
            {
                "law": "网络安全法",
                "article": "第23条第（三）项",
                "article_pre2026": "第21条第（三）项",
            }
        ],
    },
]


def _text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def _notice_text(app, make, web, started: datetime) -> str:
    with app.app_context():
        template = make.template(key="CIT", items=ITEMS)
        unit = make.unit(kind="private_enterprise")
        lead, member = make.user(role="inspector"), make.user(role="inspector")
        inspection = make.inspection(template=template, unit=unit, members=[lead, member])
        inspection.visit.started_at = started
        db.session.commit()
        items = {i.code: i.id for i in template.items}
        answering.apply_changes(
            inspection.id,
            [
                change(
                    items[code], result="noncompliant", finding_description=f"经查，{code}不符合"
                )
                for code in ("C-01", "C-02")
            ],
            actor=lead,
        )
        services.submit_inspection(
            inspection.id,
            actor=db.session.get(User, lead.id),
            signatory_name="李四",
            signature_png=png_bytes(),
            today=started.date(),
            now=started,
        )
        assert db.session.query(Finding).count() == 2
        inspection_id, username = inspection.id, lead.username
    web.login(username)
    response = web.get(f"/inspections/{inspection_id}/notice")
    assert response.status_code == 200
    return _text(response.get_data(as_text=True))


def test_the_notice_cites_with_chinese_numerals_and_the_full_title_once(app, make, web):
    text = _notice_text(app, make, web, datetime(2026, 3, 2, 2, 0))
    assert "第23条" not in text and "第21条" not in text
    assert "第二十三条（原第二十一条）" in text
    assert "第二十三条第（三）项（原第二十一条第（三）项）" in text
    assert text.count("《中华人民共和国网络安全法》") == 1  # then 《网络安全法》
    assert "《网络安全法》第二十三条" in text
    assert "GB/T22239-20198.1.4.9" in text
    # The item's 整改要求, not the generic fallback, for the item that has one.
    assert "立即完成定级备案，三十日内报送备案证明。" in text


def test_conduct_before_2026_cites_the_old_article_first(app, make, web):
    text = _notice_text(app, make, web, datetime(2025, 12, 30, 2, 0))
    assert "第二十一条（现第二十三条）" in text
    assert "第二十三条（原第二十一条）" not in text
    assert "第八条（现第九条）" in text  # the authority to inspect, in force at the time
    assert "第五十九条（现第六十一条）" in text  # the consequences clause


def test_the_rectification_documents_use_the_same_citation(app, make, web):
    _notice_text(app, make, web, datetime(2026, 3, 2, 2, 0))
    with app.app_context():
        from inspect_app.citations import citer_for

        finding = db.session.query(Finding).order_by(Finding.id).first()
        visit = db.session.get(Inspection, finding.inspection_id).visit
        assert (
            citer_for(visit)
            .bases(finding.legal_basis)
            .startswith(
                "《中华人民共和国网络安全法》（以下简称《网络安全法》）第二十三条（原第二十一条）"
            )
        )
        assert citer_for(visit).on == date(2026, 3, 2)
