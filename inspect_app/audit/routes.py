"""Browsing the audit log: coordinators see everything, a unit user only its own unit's events."""

from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from ..auth.permissions import action_required, get_visible_or_404, scope
from ..clock import day_end_utc, day_start_utc
from ..extensions import db
from ..labels import OBJECT_TYPE_LABELS
from ..models import AuditEvent
from ..web import page_arg

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _parse_date(value: str | None):
    try:
        return datetime.strptime(value, "%Y-%m-%d") if value else None
    except ValueError:
        return None


@bp.get("/")
@login_required
@action_required("audit.view")
def index():
    args = {
        k: (request.args.get(k) or "").strip()
        for k in ("action", "actor", "object_type", "object_id", "since", "until")
    }
    stmt = scope(sa.select(AuditEvent), AuditEvent, current_user)
    if args["action"]:
        stmt = stmt.where(AuditEvent.action.startswith(args["action"]))
    if args["actor"]:
        stmt = stmt.where(AuditEvent.actor_name.contains(args["actor"]))
    if args["object_type"]:
        stmt = stmt.where(AuditEvent.object_type == args["object_type"])
    if args["object_id"]:
        stmt = stmt.where(AuditEvent.object_id == args["object_id"])
    if since := _parse_date(args["since"]):
        stmt = stmt.where(AuditEvent.created_at >= day_start_utc(since))
    if until := _parse_date(args["until"]):
        stmt = stmt.where(AuditEvent.created_at < day_end_utc(until))
    page = db.paginate(
        stmt.order_by(AuditEvent.id.desc()),
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    # The kinds of object the app records events on (not a DISTINCT over the whole log, which
    # grows with every answer batch, at every page); one asked for by URL is kept.
    object_types = list(OBJECT_TYPE_LABELS)
    if args["object_type"] and args["object_type"] not in OBJECT_TYPE_LABELS:
        object_types.append(args["object_type"])
    return render_template("audit/index.html", page=page, args=args, object_types=object_types)


@bp.get("/<int:event_id>")
@login_required
@action_required("audit.view")
def show(event_id: int):
    event = get_visible_or_404(AuditEvent, event_id)
    return render_template("audit/show.html", event=event)
