"""JSON API v1, used by the tablet's offline client and by integrations; see /api/v1/openapi.json."""

from __future__ import annotations

import base64
import binascii
from datetime import date

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from .. import inputs
from ..clock import local_today
from ..errors import ValidationFailed, error_response
from ..extensions import db
from ..inspections import answering, evidence, services
from ..rectification import queries as rectification_queries
from ..rectification import services as rectification
from ..web import int_arg, json_body, page_arg, year_arg
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
    results = answering.apply_changes(
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


# --- rectification --------------------------------------------------------------------------


def _body() -> tuple[dict, list]:
    """The fields of a write (a JSON object, or a multipart form with `file` parts) and its
    files as rectification Uploads."""
    if request.mimetype == "multipart/form-data":
        uploads = [
            rectification.Upload(f.read(), f.filename or "")
            for f in request.files.getlist("file")
            if f
        ]
        return request.form.to_dict(), uploads
    return json_body(), []


def _date_field(body: dict, name: str):
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        raise ValidationFailed(
            _("%(field)s must be a date as YYYY-MM-DD.", field=name), details={"field": name}
        ) from None


def _version(body: dict) -> int | None:
    version = body.get("version")
    if version in (None, ""):
        return None
    if isinstance(version, str) and version.isascii() and version.isdigit() and len(version) < 10:
        return int(version)
    if type(version) is not int:
        raise ValidationFailed(_("version must be a whole number."), details={"field": "version"})
    return version


def _text_field(body: dict, name: str) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s must be text.", field=name), details={"field": name})
    return value


def _item_json(item_id: int):
    item = rectification.load(item_id, actor=current_user._get_current_object())
    return jsonify(serializers.item_detail(item, today=local_today()))


@bp.get("/rectification/items")
def list_items():
    actor = current_user._get_current_object()
    filters = rectification_queries.ItemFilter(
        status=request.args.get("status", ""),
        unit_id=int_arg("unit_id", label="unit_id"),
        round_id=int_arg("round_id", label="round_id"),
        year=year_arg(),
        severity=request.args.get("severity", ""),
        repeat=request.args.get("repeat") in ("1", "true"),
        q=request.args.get("q", "")[:100],
    )
    today = local_today()
    stmt = rectification_queries.items_query(
        actor, filters, today=today, soon_days=current_app.config["DUE_SOON_DAYS"]
    )
    page = db.paginate(
        stmt,
        page=page_arg(),
        per_page=int_arg("per_page", label="per_page", default=50, hi=200),
        error_out=False,
    )
    return jsonify(
        {
            "items": [serializers.item_summary(i, today=today) for i in page.items],
            "page": page.page,
            "pages": page.pages,
            "total": page.total,
        }
    )


@bp.get("/rectification/items/<int:item_id>")
def get_item(item_id: int):
    return _item_json(item_id)


@bp.post("/rectification/items/<int:item_id>/response")
def respond(item_id: int):
    body, uploads = _body()
    rectification.respond(
        item_id,
        actor=current_user._get_current_object(),
        cause=_text_field(body, "cause"),
        measures=_text_field(body, "measures"),
        completed_on=_date_field(body, "completed_on"),
        responsible_person=_text_field(body, "responsible_person"),
        responsible_phone=_text_field(body, "responsible_phone"),
        files=uploads,
        on_behalf=body.get("on_behalf") in (True, "1", "true"),
        source=_text_field(body, "source"),
        expected_version=_version(body),
        today=local_today(),
    )
    return _item_json(item_id)


@bp.post("/rectification/items/<int:item_id>/extension-request")
def request_extension(item_id: int):
    body = json_body()
    rectification.request_extension(
        item_id,
        actor=current_user._get_current_object(),
        reason=_text_field(body, "reason"),
        proposed_date=_date_field(body, "proposed_date"),
        interim_measures=_text_field(body, "interim_measures"),
        on_behalf=body.get("on_behalf") is True,
        source=_text_field(body, "source"),
        expected_version=_version(body),
        today=local_today(),
    )
    return _item_json(item_id)


@bp.post("/rectification/items/<int:item_id>/extension-decision")
def decide_extension(item_id: int):
    body = json_body()
    if not isinstance(body.get("grant"), bool):
        raise ValidationFailed(_("grant must be true or false."), details={"field": "grant"})
    rectification.decide_extension(
        item_id,
        actor=current_user._get_current_object(),
        grant=body["grant"],
        due_date=_date_field(body, "due_date"),
        reason=_text_field(body, "reason"),
        expected_version=_version(body),
        today=local_today(),
    )
    return _item_json(item_id)


def _recheck(body: dict):
    checked_on = _date_field(body, "recheck_on")
    if checked_on is None:
        return None
    return rectification.Recheck(checked_on, _text_field(body, "recheck_by"))


@bp.post("/rectification/items/<int:item_id>/verify")
def verify(item_id: int):
    body, uploads = _body()
    rectification.verify(
        item_id,
        actor=current_user._get_current_object(),
        note=_text_field(body, "note"),
        recheck=_recheck(body),
        files=uploads,
        expected_version=_version(body),
        today=local_today(),
    )
    return _item_json(item_id)


@bp.post("/rectification/items/<int:item_id>/return")
def return_item(item_id: int):
    body, uploads = _body()
    rectification.return_item(
        item_id,
        actor=current_user._get_current_object(),
        reason=_text_field(body, "reason"),
        due_date=_date_field(body, "due_date"),
        recheck=_recheck(body),
        files=uploads,
        expected_version=_version(body),
        today=local_today(),
    )
    return _item_json(item_id)


@bp.post("/rectification/items/<int:item_id>/escalate")
def escalate(item_id: int):
    body = json_body()
    rectification.escalate(
        item_id,
        actor=current_user._get_current_object(),
        to=_text_field(body, "to"),
        body=_text_field(body, "body"),
        reason=_text_field(body, "reason"),
        expected_version=_version(body),
    )
    return _item_json(item_id)


@bp.post("/rectification/bulk")
def bulk():
    body = json_body()
    selected = body.get("items")
    if not isinstance(selected, list) or len(selected) > 500:
        raise ValidationFailed(_("items must be a list of at most 500 {id, version}."))
    versions = {}
    for entry in selected:
        if not isinstance(entry, dict) or type(entry.get("id")) is not int:
            raise ValidationFailed(_("items must be a list of at most 500 {id, version}."))
        versions[entry["id"]] = _version(entry)
    today = local_today()
    items = rectification.bulk(
        versions,
        _text_field(body, "action"),
        actor=current_user._get_current_object(),
        today=today,
        note=_text_field(body, "note"),
        due_date=_date_field(body, "due_date"),
    )
    return jsonify({"items": [serializers.item_summary(i, today=today) for i in items]})
