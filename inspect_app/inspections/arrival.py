"""扫码入企: every unit has a short code (and its QR); the lead inspector scans it on arrival,
which registers the visit's start (time, place, team) on the record.

The code is derived from the unit's id with the app's secret key, so it needs no column and
cannot be guessed. Rotating SECRET_KEY changes every code; the old codes still open while the old
key is in SECRET_KEY_FALLBACKS, so the new ones can be printed meanwhile (docs/deploy.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from datetime import datetime

import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from .. import audit
from ..clock import local_today
from ..errors import InvalidTransition, NotFound
from ..extensions import db
from ..models import Unit, User, Visit, utcnow

CODE_LENGTH = 8


def arrival_code(unit: Unit, key: str | bytes | None = None) -> str:
    """The unit's short code: 8 letters and digits (base32 of a hash of its id keyed with `key`,
    by default SECRET_KEY)."""
    key = key or current_app.config["SECRET_KEY"]
    key = key if isinstance(key, bytes) else str(key).encode()
    digest = hmac.new(key, f"unit-arrival:{unit.id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:CODE_LENGTH]


def qr_svg(url: str) -> bytes:
    """A QR code of the URL as SVG (segno, no network, no JavaScript)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=6, xmldecl=False, border=2)
    return out.getvalue()


def unit_for_code(code: str) -> Unit | None:
    code = (code or "").strip().upper().replace(" ", "")[:CODE_LENGTH]
    if len(code) != CODE_LENGTH:
        return None
    cfg = current_app.config
    keys = [k for k in (cfg["SECRET_KEY"], *cfg["SECRET_KEY_FALLBACKS"]) if k]
    for unit in db.session.scalars(sa.select(Unit).where(Unit.active.is_(True))):
        if any(hmac.compare_digest(arrival_code(unit, key), code) for key in keys):
            return unit
    return None


def register_arrival(code: str, *, actor: User, now: datetime | None = None) -> Visit:
    """Register the arrival of the actor's team at the unit with this code: the visit planned
    for today that the actor leads starts now, at the unit's address.

    Raises NotFound for an unknown code, InvalidTransition when the actor leads no visit of that
    unit today or its arrival is registered already. Commits.
    """
    unit = unit_for_code(code)
    if unit is None:
        raise NotFound(_("No unit has this code. Check the code and try again."))
    visits = db.session.scalars(
        sa.select(Visit)
        .where(
            Visit.unit_id == unit.id,
            Visit.scheduled_on == local_today(),
            Visit.lead_id == actor.id,
        )
        .order_by(Visit.id)
        .with_for_update()
    ).all()
    visit = next((v for v in visits if not v.is_on_record), None)
    if visit is None:
        raise InvalidTransition(_("You lead no visit to %(unit)s today.", unit=unit.name))
    if visit.arrived_at is not None:
        raise InvalidTransition(_("The arrival at %(unit)s is registered already.", unit=unit.name))
    now = (now or utcnow()).replace(second=0, microsecond=0)
    visit.arrived_at = visit.started_at = now
    if not visit.place:
        visit.place = unit.address or unit.name
    audit.record(
        actor,
        "visit.arrive",
        visit,
        after={
            "arrived_at": now,
            "place": visit.place,
            "team": sorted(m.user_id for m in visit.members),
        },
        hidden_from_unit=False,
    )
    db.session.commit()
    return visit
