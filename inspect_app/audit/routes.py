"""Browsing the audit log: coordinators see everything, a unit user only its own unit's events."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth.permissions import action_required, get_visible_or_404
from ..errors import ValidationFailed
from ..labels import OBJECT_TYPE_LABELS
from ..models import AuditEvent
from ..web import date_arg, int_arg
from . import browse

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@login_required
@action_required("audit.view")
def index():
    # Cut to the longest value a column holds (actor_name: 100): a longer one matches nothing.
    args = {
        k: (request.args.get(k) or "").strip()[:100]
        for k in ("action", "actor", "object_type", "object_id", "since", "until")
    }
    since, until = date_arg("since"), date_arg("until")
    if since and until and until < since:
        raise ValidationFailed(_("The end date cannot be before the start date."))
    filters = browse.Filters(
        action=browse.action_choice(args["action"]),
        actor=args["actor"],
        object_type=args["object_type"],
        object_id=args["object_id"],
        since=since,
        until=until,
    )
    page = browse.browse(
        current_user,
        filters,
        per_page=current_app.config["PAGE_SIZE"],
        before=int_arg("before", label=_("The event number")),
        after=int_arg("after", label=_("The event number"), lo=0),  # 0: from the first
    )
    # The kinds of object the app records events on (not a DISTINCT over the whole log, which
    # grows with every answer batch, at every page); one asked for by URL is kept.
    object_types = list(OBJECT_TYPE_LABELS)
    if args["object_type"] and args["object_type"] not in OBJECT_TYPE_LABELS:
        object_types.append(args["object_type"])
    return render_template(
        "audit/index.html",
        page=page,
        args=args,
        query={k: v for k, v in args.items() if v},  # the filters the pager's links keep
        object_types=object_types,
        families=browse.families(),
        chosen=filters.action,
        unlisted=bool(filters.action) and not browse.is_listed(filters.action),
    )


@bp.get("/<int:event_id>")
@login_required
@action_required("audit.view")
def show(event_id: int):
    event = get_visible_or_404(AuditEvent, event_id)
    return render_template("audit/show.html", event=event)
