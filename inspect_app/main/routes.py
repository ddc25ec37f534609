"""Home page: each role lands on what it works with."""

import functools
import hashlib
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

from ..auth.permissions import can
from ..clock import local_today
from ..dashboard.routes import render_dashboard
from ..extensions import db
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
    """The service worker, served from the root so it may control every page.

    Its version is the app's and a hash of the static files: a changed file makes the browsers
    install a new worker, which stores the new files (and keeps the pages and the outbox).
    """
    source = (Path(current_app.static_folder) / "js" / "sw.js").read_text(encoding="utf-8")
    response = current_app.response_class(
        source.replace("__SW_VERSION__", offline_version()), mimetype="text/javascript"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def offline_version() -> str:
    """The service worker's version (shown in the footer): SERVICE_WORKER_VERSION when set."""
    return current_app.config.get("SERVICE_WORKER_VERSION") or _static_version(
        current_app.static_folder
    )


@functools.cache
def _static_version(folder: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and path.suffix in (".js", ".css", ".svg"):
            digest.update(path.name.encode() + path.read_bytes())
    return f"{app_version()}-{digest.hexdigest()[:8]}"


@functools.cache
def app_version() -> str:
    try:
        return metadata.version("inspect-app")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "dev"


bp.add_app_template_global(app_version, "app_version")


@bp.get("/offline")
def offline():
    """What a page not stored for offline use shows when the network is gone (kept by /sw.js)."""
    return render_template("main/offline.html")


@bp.get("/healthz")
def healthz():
    """Liveness: this process serves requests (touches neither the database nor Redis)."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Readiness: the database answers (one `SELECT 1`); 503 when it does not, so a load
    balancer or monitor can tell a host that runs from one that can serve."""
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except (sa.exc.DBAPIError, sa.exc.TimeoutError):
        db.session.close()
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}
