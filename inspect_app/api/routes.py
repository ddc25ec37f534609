"""JSON API v1 (the offline client and integrations use it)."""

from flask import Blueprint, jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/csrf")
def csrf_token():
    """A fresh CSRF token for this session; the offline client fetches it before replaying."""
    return jsonify({"csrf_token": generate_csrf()})


@bp.get("/me")
def me():
    if not current_user.is_authenticated:
        from ..errors import error_response

        return error_response(401, code="unauthorized")
    return jsonify(
        {
            "id": current_user.id,
            "username": current_user.username,
            "role": current_user.role,
            "unit_id": current_user.unit_id,
            "department_id": current_user.department_id,
            "locale": current_user.locale,
        }
    )
