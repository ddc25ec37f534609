"""Directory: departments, units, systems and users (placeholder until the directory pages land)."""

from flask import Blueprint, render_template
from flask_login import login_required

from ..auth.permissions import action_required

bp = Blueprint("directory", __name__, url_prefix="/directory")


@bp.get("/units")
@login_required
@action_required("directory.edit")
def units():
    return render_template("directory/placeholder.html")
