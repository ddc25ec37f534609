"""Inspector pages: my inspections, the filling page, documents."""

from flask import Blueprint

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
