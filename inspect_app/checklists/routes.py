"""Coordinator pages for checklist templates."""

from flask import Blueprint

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
