"""A small site for the rectification page tests: one unit with items in several states under two
notices (one served, one not), another unit with its own item, and every kind of user.

Dates count from the real today, as the pages do (local_today)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from PIL import Image

from inspect_app.clock import local_today
from inspect_app.extensions import db
from inspect_app.models import Attachment, AuditEvent, RectificationEvent, RectificationItem

from ..conftest import Browser


@dataclass
class Site:
    today: date
    items: dict[str, int] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # who -> username
    ids: dict[str, int] = field(default_factory=dict)


def build(make) -> Site:
    today = local_today()
    site = Site(today=today)
    unit = make.unit(code="U-PG1", name="页面测试单位")
    parent = make.unit(code="U-PG0", name="市卫生健康委员会")
    unit.parent_id = parent.id
    other = make.unit(code="U-PG2", name="别家测试单位")
    lead, member, outsider = (make.user(role="inspector") for _ in range(3))
    served = make.inspection(
        unit=unit,
        members=[lead, member],
        status="submitted",
        notice_number="页测整改〔2026〕第71号",
        notice_issued_on=today - timedelta(days=21),
        notice_served_on=today - timedelta(days=20),
    )
    unserved = make.inspection(
        unit=unit,
        members=[lead, member],
        status="submitted",
        notice_number="页测整改〔2026〕第72号",
        notice_issued_on=today - timedelta(days=1),
    )
    elsewhere = make.inspection(
        unit=other, status="submitted", notice_number="页测整改〔2026〕第73号"
    )

    def item(name, inspection, *, due, days=30, description=None, **kw):
        finding = make.finding(
            inspection,
            due_date=due,
            code=f"PG-{name.upper()}",
            description=description or f"检查发现{name}问题",
            legal_basis=[{"law": "网络安全法", "article": "第23条", "article_pre2026": "第21条"}],
            **kw,
        )
        finding.rectification.deadline_days = days
        db.session.commit()
        site.items[name] = finding.rectification.id
        site.codes[name] = finding.code

    item("open", served, due=today + timedelta(days=10), days=30)
    item("overdue", served, due=today - timedelta(days=5), days=15)
    item("soon", served, due=today + timedelta(days=3), days=23)
    item("unserved", unserved, due=None, days=15)
    item("other", elsewhere, due=today + timedelta(days=10))
    site.ids = {
        "unit": unit.id,
        "other_unit": other.id,
        "served": served.id,
        "unserved": unserved.id,
        "elsewhere": elsewhere.id,
        "lead": lead.id,
    }
    site.users = {
        "liaison": make.user(role="unit", unit=unit).username,
        "other_liaison": make.user(role="unit", unit=other).username,
        "admin": make.user(role="admin").username,
        "office": make.user(role="coordinator").username,
        "office2": make.user(role="coordinator").username,
        "viewer": make.user(role="viewer").username,
        "lead": lead.username,
        "outsider": outsider.username,
    }
    return site


def browser(app, site: Site, who: str) -> Browser:
    b = Browser(app.test_client())
    b.login(site.users[who])
    return b


def jpeg(color=(30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def version(app, item_id: int) -> int:
    with app.app_context():
        return db.session.get(RectificationItem, item_id).version


def item(app, item_id: int) -> dict:
    """The item's state, its steps and how many audit events exist (plain values)."""
    with app.app_context():
        row = db.session.get(RectificationItem, item_id)
        events = db.session.scalars(
            db.select(RectificationEvent)
            .where(RectificationEvent.item_id == item_id)
            .order_by(RectificationEvent.id)
        ).all()
        return {
            "status": row.status,
            "version": row.version,
            "due_date": row.due_date,
            "events": [e.kind for e in events],
            "event_ids": [e.id for e in events],
            "audit": db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)),
        }


def files_of(app, event_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(Attachment.id).where(Attachment.rectification_event_id == event_id)
            )
        )


def respond_form(version: int, **kw) -> dict:
    form = {
        "respond-version": str(version),
        "respond-cause": "管理制度未落实到人",
        "respond-measures": "已任命网络安全负责人并印发文件",
        "respond-completed_on": local_today().isoformat(),
        "respond-responsible_person": "李四",
        "respond-responsible_phone": "0997-1234567",
    }
    form.update(kw)
    return form


def text(response) -> str:
    return response.get_data(as_text=True)


def visible_text(html: str) -> str:
    """The page's text without tags (to look for words, not markup)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def fetch(b, url: str):
    """GET a file and close the response (an open file handle fails the run)."""
    response = b.get(url)
    response.get_data()
    response.close()
    return response
