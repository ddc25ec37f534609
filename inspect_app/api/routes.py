"""JSON API v1, used by the tablet's offline client and by integrations; see /api/v1/openapi.json."""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import inputs
from ..clock import local_today
from ..errors import ValidationFailed, error_response
from ..inspections import evidence, services
from ..web import json_body, year_arg
from . import openapi, serializers

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _require_login():
    if request.endpoint in ("api.csrf_token", "api.openapi_document"):
        return None
    if not current_user.is_authenticated:
        return error_response(401, _("Please log in."), code="unauthorized")
    return None


@bp.get("/csrf")
def csrf_token():
    """A fresh CSRF token for this session; the offline client fetches it before replaying."""
    return jsonify({"csrf_token": generate_csrf()})


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


@bp.get("/me")
def me():
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


@bp.get("/inspections")
def list_inspections():
    year = year_arg(local_today().year)
    actor = current_user._get_current_object()
    inspections = services.my_inspections(actor, year=year)
    progress = services.progress_by_inspection(inspections)
    return jsonify(
        {"inspections": [serializers.inspection_summary(i, progress[i.id]) for i in inspections]}
    )


@bp.get("/inspections/<int:inspection_id>")
def get_inspection(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=current_user._get_current_object())
    return jsonify(serializers.inspection_detail(ctx))


@bp.post("/inspections/<int:inspection_id>/answers")
def post_answers(inspection_id: int):
    body = json_body()
    results = services.apply_changes(
        inspection_id, body.get("changes"), actor=current_user._get_current_object()
    )
    return jsonify({"results": results})


@bp.post("/inspections/<int:inspection_id>/evidence")
def post_evidence(inspection_id: int):
    upload = request.files.get("file")
    if upload is None:
        raise ValidationFailed(_("Choose a file to upload."))
    item_id = inputs.whole_number(request.form.get("item_id", ""), lo=1, hi=inputs.DB_INT_MAX)
    attachment = evidence.upload_evidence(
        inspection_id,
        upload.read(),
        actor=current_user._get_current_object(),
        filename=upload.filename or "",
        item_id=item_id,
    )
    return jsonify(serializers.attachment_dict(attachment)), 201


@bp.delete("/evidence/<int:attachment_id>")
def delete_evidence(attachment_id: int):
    evidence.delete_evidence(attachment_id, actor=current_user._get_current_object())
    return "", 204


def decode_png_data_url(value: str | None) -> bytes | None:
    """The bytes of a `data:image/png;base64,...` URL, or None when absent or malformed."""
    if not value or not isinstance(value, str) or not value.startswith("data:image/png;base64,"):
        return None
    try:
        return base64.b64decode(value.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        return None


@bp.post("/inspections/<int:inspection_id>/submit")
def submit(inspection_id: int):
    body = json_body()
    inspection = services.submit_inspection(
        inspection_id,
        actor=current_user._get_current_object(),
        signatory_name=str(body.get("signatory_name") or ""),
        signature_png=decode_png_data_url(body.get("signature")),
    )
    return jsonify(serializers.inspection_summary(inspection))
