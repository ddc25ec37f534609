"""Home page: each role lands on what it works with."""

from flask import Blueprint, current_app, render_template, send_from_directory
from flask_login import login_required

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("main/index.html")


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
