"""Coordinator pages for rounds, targets and team assignment."""

from flask import Blueprint

bp = Blueprint("rounds", __name__, url_prefix="/rounds")
