"""Inspector pages: my inspections, the filling page, submission, printable documents, evidence."""

from __future__ import annotations

import re
import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import labels
from ..auth import permissions
from ..checklists import basis
from ..clock import local_today
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..models import Attachment
from ..models.inspection import INSPECTION_STATUSES
from ..web import choice_arg, int_arg, send_attachment, year_arg
from . import evidence, services
from .forms import EmptyForm, NoticeServedForm, ReopenForm, SubmitInspectionForm

bp = Blueprint("inspections", __name__, url_prefix="/inspections")


def _actor():
    return current_user._get_current_object()


@bp.get("/")
@login_required
@permissions.action_required("inspection.fill")
def mine():
    return render_my_inspections(home=False)


def render_my_inspections(*, home: bool, counts=None):
    """My inspections grouped today / this round / earlier, filtered by year, round and status;
    on the inspector's home only today's and this round's, unfiltered."""
    today = local_today()
    filters = {"year": today.year, "round": None, "status": None}
    if not home:
        filters = {
            "year": year_arg(today.year),
            "round": int_arg("round", label=_("The round")),
            "status": choice_arg("status", INSPECTION_STATUSES, label=_("The status")),
        }
    inspections = services.my_inspections(
        _actor(), year=filters["year"], round_id=filters["round"], status=filters["status"]
    )
    progress = services.progress_by_inspection(inspections)
    groups = {"today": [], "current": [], "other": []}
    for inspection in inspections:
        if inspection.scheduled_on == today and inspection.is_editable:
            groups["today"].append(inspection)
        elif inspection.round.status == "active" or inspection.is_editable:
            groups["current"].append(inspection)
        elif not home:
            groups["other"].append(inspection)
    return render_template(
        "inspections/mine.html",
        groups=groups,
        progress=progress,
        today=today,
        home=home,
        filters=filters,
        rounds=services.rounds_of_year(filters["year"]),
        statuses=INSPECTION_STATUSES,
        counts=counts,
    )


@bp.get("/<int:inspection_id>")
@login_required
def fill(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=_actor())
    editable = ctx.inspection.is_editable and permissions.can(
        _actor(), "inspection.fill", ctx.inspection
    )
    return render_template(
        "inspections/fill.html",
        ctx=ctx,
        editable=editable,
        form=EmptyForm(),
        finding_prefill=services.finding_prefill,
    )


@bp.get("/<int:inspection_id>/guidance")
@login_required
def guidance(inspection_id: int):
    """How to check each item and its legal basis: a page, or JSON the filling page loads on demand.

    Immutable per checklist version, so browsers may keep it.
    """
    inspection = services.load(inspection_id, actor=_actor())
    items = services.items_of(inspection)
    level = inspection.system.mlps_level if inspection.system is not None else None
    bases = {item.id: basis.resolve(item.legal_basis, level) for item in items}
    if request.args.get("format") == "json":
        response = jsonify(
            {
                str(item.id): {
                    "guidance": item.guidance,
                    "basis": [labels.legal_basis_text(b) for b in bases[item.id]],
                }
                for item in items
                if item.guidance or item.legal_basis
            }
        )
        response.headers["Cache-Control"] = "private, max-age=86400"
        return response
    return render_template(
        "inspections/guidance.html", inspection=inspection, items=items, bases=bases
    )


@bp.post("/<int:inspection_id>/start")
@login_required
def start(inspection_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.start_inspection(inspection_id, actor=_actor())
    return redirect(url_for(".fill", inspection_id=inspection_id))


# The filling page's radio values are one letter to keep a 120-item page light.
RADIO_RESULTS = {"c": "compliant", "n": "noncompliant", "x": "not_applicable"}


def _changes_from_form(ctx: services.FillContext, form) -> list[dict]:
    """Changes for the items whose posted fields differ from the stored answer (no-JS saving)."""
    changes = []
    versions = services.decode_versions(
        form.get("versions", ""), [i.id for i in ctx.applicability.applicable]
    )
    for item in ctx.applicability.applicable:
        if item.id not in versions:
            continue
        answer = ctx.answers.get(item.id)
        posted: dict = {}
        if item.kind == "yes_no":
            posted["result"] = RADIO_RESULTS.get(form.get(f"r{item.id}", ""))
        else:
            raw = form.get(f"val{item.id}", "").strip()
            posted["value"] = raw or None
            if form.get(f"na{item.id}"):
                posted["result"] = "not_applicable"
            else:
                posted["result"] = None
        posted["note"] = form.get(f"n{item.id}", "")
        if f"fd{item.id}" in form:
            posted["finding_description"] = form.get(f"fd{item.id}", "")
            posted["finding_severity"] = form.get(f"fs{item.id}") or None
            days = form.get(f"fdd{item.id}", "").strip()
            posted["finding_deadline_days"] = (
                int(days) if re.fullmatch(r"[0-9]{1,4}", days) else (days or None)
            )
        current = {k: getattr(answer, k) if answer else None for k in posted}
        if current.get("note") is None:
            current["note"] = ""
        if current.get("finding_description") is None and "finding_description" in current:
            current["finding_description"] = ""
        if posted != current:
            base = versions[item.id]
            changes.append(
                {"change_id": str(uuid.uuid4()), "item_id": item.id, "base_version": base, **posted}
            )
    return changes


@bp.post("/<int:inspection_id>/save")
@login_required
def save(inspection_id: int):
    """Saving without JavaScript: the whole form at once, photos included."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ctx = services.fill_context(inspection_id, actor=_actor(), action="inspection.fill")
    changes = _changes_from_form(ctx, request.form)
    problems = []
    if changes:
        outcomes = services.apply_changes(inspection_id, changes, actor=_actor())
        problems = [o for o in outcomes if o["status"] in ("conflict", "rejected")]
    for key, upload in request.files.items(multi=True):
        if re.fullmatch(r"p\d+", key) and upload and upload.filename:
            try:
                evidence.upload_evidence(
                    inspection_id,
                    upload.read(),
                    actor=_actor(),
                    filename=upload.filename,
                    item_id=int(key[1:]),
                )
            except (DomainError, ValueError) as err:
                problems.append(
                    {"status": "rejected", "message": getattr(err, "message", str(err))}
                )
    delete = request.form.get("del", "")
    deleted = re.fullmatch(r"[0-9]{1,9}", delete) and evidence.delete_evidence_of(
        inspection_id, int(delete), actor=_actor()
    )  # a photo's delete button, without JavaScript
    if deleted:
        flash(_("Photo deleted; take another to replace it"), "success")
    for problem in problems:
        if problem["status"] == "conflict":
            flash(
                _(
                    "%(item)s was changed by someone else meanwhile; the current answer is shown.",
                    item=problem["server"]["item_code"],
                ),
                "warning",
            )
        else:
            flash(problem["message"], "error")
    if not problems and not deleted:
        flash(_("Saved."), "success")
    return redirect(url_for(".fill", inspection_id=inspection_id))


def _signature(form: SubmitInspectionForm) -> bytes | None:
    from ..api.routes import decode_png_data_url

    return decode_png_data_url(form.signature.data)


@bp.route("/<int:inspection_id>/submit", methods=["GET", "POST"])
@login_required
def submit(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=_actor())
    if ctx.inspection.is_on_record:  # submitted already (a back button, a second tap)
        flash(_("This inspection has been submitted; here is its record."), "warning")
        return redirect(url_for(".record", inspection_id=inspection_id))
    permissions.require(_actor(), "inspection.fill", ctx.inspection)
    form = SubmitInspectionForm()
    if not form.is_submitted():
        return render_template("inspections/submit.html", ctx=ctx, form=form, missing=ctx.missing())
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        # Name everything that is missing at once, the signature and the items included.
        problems = services.signing_problems(form.signatory_name.data, _signature(form))
        if not form.confirm.data:
            problems.append(services.Missing(_("Tick the lead inspector's confirmation.")))
        missing = problems + ctx.missing()
        return render_template("inspections/submit.html", ctx=ctx, form=form, missing=missing), 400
    try:
        services.submit_inspection(
            inspection_id,
            actor=_actor(),
            signatory_name=form.signatory_name.data,
            signature_png=_signature(form),
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        missing = [services.Missing(**d) for d in (err.details or [])]
        return render_template("inspections/submit.html", ctx=ctx, form=form, missing=missing), 400
    flash(
        _("The inspection has been submitted. Findings and rectification items were created."),
        "success",
    )
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.get("/<int:inspection_id>/record")
@login_required
def record(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=_actor())
    return render_template(
        "inspections/record.html", ctx=ctx, served_form=NoticeServedForm(), reopen_form=ReopenForm()
    )


@bp.get("/<int:inspection_id>/notice")
@login_required
def notice(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=_actor())
    if not ctx.inspection.notice_number:
        abort(404)
    findings = sorted(ctx.inspection.findings, key=lambda f: f.code)
    laws = list(
        dict.fromkeys(f"《{b['law']}》" for f in findings for b in f.legal_basis if "law" in b)
    )
    departments = list(
        dict.fromkeys(m.department.name for m in ctx.inspection.members if m.department)
    )
    return render_template(
        "inspections/notice.html",
        ctx=ctx,
        findings=findings,
        laws=laws,
        departments=departments,
        issuer=current_app.config["NOTICE_ISSUER"],
    )


@bp.post("/<int:inspection_id>/served")
@login_required
def served(inspection_id: int):
    form = NoticeServedForm()
    if not form.validate_on_submit():
        flash(_("Enter the date the notice was served."), "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    services.record_notice_served(inspection_id, actor=_actor(), served_on=form.served_on.data)
    flash(_("The service date was recorded; the deadlines count from it."), "success")
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/reopen")
@login_required
@permissions.action_required("inspection.reopen")
def reopen(inspection_id: int):
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for reopening."), "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    services.reopen_inspection(inspection_id, actor=_actor(), reason=form.reason.data)
    flash(_("The inspection was reopened."), "success")
    return redirect(url_for(".fill", inspection_id=inspection_id))


@bp.get("/evidence/<int:attachment_id>")
@login_required
def evidence_file(attachment_id: int):
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.inspection_id is None:
        abort(404)
    inspection = services.load(attachment.inspection_id, actor=_actor())  # 404 unless visible
    # Units and leaders get a copy without GPS, device or time from the inspector's camera.
    original = permissions.can(_actor(), "evidence.original", inspection)
    variant = "original" if original else "public"
    return send_attachment(
        attachment, variant=variant, thumb=request.args.get("thumb") == "1", name="evidence"
    )
