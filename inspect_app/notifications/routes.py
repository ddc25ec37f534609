"""The bell's pages: the list of one's own notifications, opening one, marking all read."""

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..web import page_arg
from . import messages, services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _link(notification) -> str | None:
    found = messages.target(notification, current_app.view_functions)
    return url_for(found[0], **found[1]) if found else None


@bp.get("/")
@login_required
def index():
    page = db.paginate(
        services.list_query(current_user),
        page=page_arg(),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
    )
    entries = [(n, messages.text(n), _link(n)) for n in page.items]
    return render_template("notifications/index.html", page=page, entries=entries)


@bp.post("/<int:notification_id>/open", endpoint="open")
@login_required
def open_one(notification_id: int):
    """Mark read, then go where the notification leads (or back to the list)."""
    notification = services.open_notification(notification_id, actor=current_user)
    return redirect(_link(notification) or url_for(".index"))


@bp.post("/read-all")
@login_required
def read_all():
    n = services.mark_all_read(actor=current_user)
    flash(
        ngettext("%(num)d notification marked read.", "%(num)d notifications marked read.", n),
        "success",
    )
    return redirect(url_for(".index"))


def unread_notifications() -> int | None:
    """The bell's count: one query per page at most, none for anonymous pages. None when the
    database cannot answer (an error page must still render)."""
    if not current_user.is_authenticated:
        return None
    if "unread_notifications" not in g:
        try:
            g.unread_notifications = services.unread_count(current_user)
        except SQLAlchemyError:
            db.session.rollback()
            g.unread_notifications = None
    return g.unread_notifications


@bp.app_context_processor
def _bell() -> dict:
    return {"unread_notifications": unread_notifications}
