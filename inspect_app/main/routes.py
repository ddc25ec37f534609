"""Home page: each role lands on what it works with."""

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_login import current_user, login_required

from ..auth.permissions import can
from ..clock import local_today
from ..dashboard.routes import render_dashboard
from ..inspections.routes import render_my_inspections
from ..rectification import queries as rectification
from ..rectification.routes import unit_home

bp = Blueprint("main", __name__)

# Roles whose home is the dashboard: the year and the current round at a glance.
HOME_IS_DASHBOARD = ("coordinator", "viewer")


@bp.get("/")
@login_required
def index():
    if current_user.role == "unit":
        return unit_home()  # a unit's home is its rectification work
    if current_user.role in HOME_IS_DASHBOARD:
        return render_dashboard()
    counts = None
    if can(current_user, "rectification.view"):
        counts = rectification.counts(
            current_user, today=local_today(), soon_days=current_app.config["DUE_SOON_DAYS"]
        )
    if current_user.role == "inspector":  # today's and this round's inspections
        return render_my_inspections(home=True, counts=counts)
    return render_template("main/index.html", counts=counts)


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so it may control every page."""
    response = send_from_directory(
        current_app.static_folder, "js/sw.js", mimetype="text/javascript"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
