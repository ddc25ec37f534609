"""Inspector pages: my inspections, the filling page, submission, printable documents, evidence."""

from __future__ import annotations

import re
import uuid
from types import SimpleNamespace

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from .. import labels, region
from ..auth import permissions
from ..checklists import basis
from ..clock import local_to_utc, local_today, utc_to_local
from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..models import Attachment, Visit
from ..models.inspection import INSPECTION_STATUSES
from ..web import choice_arg, int_arg, send_attachment, year_arg
from . import answering, arrival, evidence, notices, selfcheck, services
from . import record as visit_record
from .forms import (
    ApproveNoticeForm,
    ArriveForm,
    EmptyForm,
    NoticeServedForm,
    RateConductForm,
    ReopenForm,
    SignRecordForm,
    SubmitInspectionForm,
    UploadRecordingForm,
    VisitRecordForm,
)
from .services import ANSWER_FIELDS

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


@bp.route("/arrive", methods=["GET", "POST"])
@login_required
@permissions.action_required("inspection.fill")
def arrive():
    """扫码入企: the unit's QR opens this page with its code; confirming registers the arrival."""
    form = ArriveForm(code=request.args.get("code", "")[:20])
    if form.validate_on_submit():
        visit = arrival.register_arrival(form.code.data, actor=_actor())
        flash(
            _("Arrival at %(unit)s registered; the record starts now.", unit=visit.unit.name),
            "success",
        )
        return redirect(url_for(".record", inspection_id=visit.inspections[0].id))
    return render_template(
        "inspections/arrive.html", form=form
    ), 400 if form.is_submitted() else 200


SELF_RESULTS = {"c": "compliant", "n": "noncompliant", "x": "not_applicable", "": None}


@bp.route("/<int:inspection_id>/self-assessment", methods=["GET", "POST"])
@login_required
def self_assessment(inspection_id: int):
    """The unit's 自查 of an announced visit: the same checklist, its own answers."""
    inspection = selfcheck.load_for_unit(inspection_id, actor=_actor())
    form = EmptyForm()
    if form.validate_on_submit():
        items = selfcheck.items_for(inspection)
        answers = {}
        for item in items:
            code = request.form.get(f"r{item.id}", "")
            if code not in SELF_RESULTS:
                raise ValidationFailed(_("An answer is not one of this checklist's."))
            answers[item.id] = (SELF_RESULTS[code], request.form.get(f"note{item.id}", ""))
        n = selfcheck.save_self_assessment(inspection_id, actor=_actor(), answers=answers)
        flash(_("The self-assessment was saved (%(n)d answers changed).", n=n), "success")
        return redirect(url_for(".self_assessment", inspection_id=inspection_id))
    return render_template(
        "inspections/self_assessment.html",
        inspection=inspection,
        items=selfcheck.items_for(inspection),
        answers=selfcheck.self_answers(inspection),
        form=form,
    )


@bp.post("/visits/<int:visit_id>/rating")
@login_required
def rate_visit(visit_id: int):
    """The unit rates the team's conduct on a visit on record (检查行为评价)."""
    form = RateConductForm()
    permissions.require(_actor(), "selfcheck.fill")
    if not form.validate_on_submit():
        flash(_("Choose a rating from 1 to 5."), "error")
        return redirect(url_for("directory.my_unit"))
    selfcheck.rate_conduct(
        visit_id, actor=_actor(), rating=int(form.rating.data), comment=form.comment.data or ""
    )
    flash(_("Thank you: the office sees your rating."), "success")
    return redirect(url_for("directory.my_unit"))


@bp.get("/<int:inspection_id>")
@login_required
def fill(inspection_id: int):
    return _fill_page(inspection_id)


def _fill_page(inspection_id: int, typed: dict[int, dict] | None = None) -> str:
    """The filling page; `typed`: refused changes of a save without JavaScript by item, shown
    as typed over the stored answers (_as_typed) so nothing typed is lost."""
    ctx = services.fill_context(inspection_id, actor=_actor())
    for item_id, change in (typed or {}).items():
        ctx.answers[item_id] = _as_typed(ctx.answers.get(item_id), change)
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


def _as_typed(answer, change: dict) -> SimpleNamespace:
    """An answer as a refused form showed it: the typed fields over the stored ones, with the
    stored id and version. A copy, never the stored answer (the session would write it)."""
    values = {name: getattr(answer, name, None) for name in ("id", "version", *ANSWER_FIELDS)}
    values["version"] = values["version"] or 0
    values.update({name: change[name] for name in ANSWER_FIELDS if name in change})
    return SimpleNamespace(**values)


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
                    "guidance": region.regional(item.guidance),
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
    codes = {item.id: item.code for item in ctx.items}
    problems = []
    typed = {}  # refused changes, shown again as typed
    if changes:
        outcomes = answering.apply_changes(inspection_id, changes, actor=_actor())
        problems = [
            {**o, "item_code": codes.get(change["item_id"], "")}
            for o, change in zip(outcomes, changes, strict=True)
            if o["status"] in ("conflict", "rejected")
        ]
        typed = {
            change["item_id"]: change
            for o, change in zip(outcomes, changes, strict=True)
            if o["status"] == "rejected"
        }
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
                    {
                        "status": "rejected",
                        "message": getattr(err, "message", str(err)),
                        "item_code": codes.get(int(key[1:]), ""),
                    }
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
        else:  # which item: a 40-item form gives no other hint
            flash(
                _("%(item)s: %(message)s", item=problem["item_code"], message=problem["message"]),
                "error",
            )
    if not problems and not deleted:
        flash(_("Saved."), "success")
    if typed:  # the page again, not a redirect: what was typed would be lost
        return _fill_page(inspection_id, typed), 422
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


def _served_form(visit, formdata=None) -> NoticeServedForm:
    form = NoticeServedForm(formdata=formdata) if formdata is not None else NoticeServedForm()
    team = [SelectChoice(0, "—")] + [SelectChoice(m.user_id, m.user.name) for m in visit.members]
    form.server_a.choices = form.server_b.choices = team
    return form


def _record_form(visit) -> VisitRecordForm:
    form = VisitRecordForm(
        started_at=utc_to_local(visit.started_at),
        ended_at=utc_to_local(visit.ended_at),
        place=visit.place,
        method=visit.method,
        remote_authorisation=visit.remote_authorisation,
        credentials_shown=visit.credentials_shown,
        unit_reply=visit.unit_reply,
        representative_post=visit.representative_post,
        representative_phone=visit.representative_phone,
        support_staff="\n".join(
            f"{s['name']}, {s['organisation']}" if s.get("organisation") else s["name"]
            for s in visit.support_staff or []
        ),
        unit_statement=visit.unit_statement,
        unit_refused_to_sign=visit.unit_refused_to_sign,
        refusal_witness=visit.refusal_witness,
    )
    return form


@bp.get("/<int:inspection_id>/record")
@login_required
def record(inspection_id: int):
    return _record_page(inspection_id)


def _record_page(inspection_id: int, record_form: VisitRecordForm | None = None, status=200):
    """The record; with `record_form`, the record's form as it was sent (refused: 400)."""
    ctx = services.fill_context(inspection_id, actor=_actor())
    visit = ctx.inspection.visit
    return render_template(
        "inspections/record.html",
        ctx=ctx,
        rec=visit_record.record_context(visit),
        served_form=_served_form(visit),
        approve_form=ApproveNoticeForm(),
        record_form=record_form or _record_form(visit),
        sign_form=SignRecordForm(),
        recording_form=UploadRecordingForm(),
        recordings_removable=not visit_record.record_signed(visit),
        reopen_form=ReopenForm(),
    ), status


@bp.post("/<int:inspection_id>/visit-record")
@login_required
def update_record(inspection_id: int):
    services.load(inspection_id, actor=_actor(), action="inspection.fill")  # 404/403 first
    form = VisitRecordForm()
    if not form.validate_on_submit():  # shown again as typed: nothing entered is lost
        flash(_("The record could not be saved: check the times and the lengths."), "error")
        return _record_page(inspection_id, form, 400)
    try:
        visit_record.update_record(
            inspection_id,
            actor=_actor(),
            started_at=local_to_utc(form.started_at.data) if form.started_at.data else None,
            ended_at=local_to_utc(form.ended_at.data) if form.ended_at.data else None,
            method=form.method.data,
            support_staff=visit_record.parse_support_staff(form.support_staff.data),
            credentials_shown=form.credentials_shown.data,
            unit_refused_to_sign=form.unit_refused_to_sign.data,
            **{name: getattr(form, name).data or "" for name in visit_record.TEXT_LIMITS},
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return _record_page(inspection_id, form, 400)
    flash(_("The inspection record was saved."), "success")
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/sign-record")
@login_required
def sign_record(inspection_id: int):
    from ..api.routes import decode_png_data_url

    services.load(inspection_id, actor=_actor(), action="inspection.fill")  # 404/403 first
    form = SignRecordForm()
    if not form.validate_on_submit():
        flash(_("Sign in the box first."), "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    try:
        visit_record.sign_record(
            inspection_id, actor=_actor(), signature_png=decode_png_data_url(form.signature.data)
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    flash(_("Your signature was added to the record."), "success")
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.get("/visit-files/<int:attachment_id>")
@login_required
def visit_file(attachment_id: int):
    """A signature on a visit's record or 送达回证, to whoever may see the visit."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.visit_id is None or attachment.mime != "image/png":
        abort(404)
    visit = permissions.get_visible_or_404(Visit, attachment.visit_id, _actor())
    permissions.require(_actor(), "inspection.view", visit)
    return send_attachment(attachment, variant="original", thumb=False, name="signature")


@bp.post("/<int:inspection_id>/recordings")
@login_required
def upload_recording(inspection_id: int):
    """An audio or video recording for the visit's record (its own request-size limit: web.py)."""
    services.load(inspection_id, actor=_actor(), action="inspection.fill")  # 404/403 first
    form = UploadRecordingForm()
    if not form.validate_on_submit():
        flash(" ".join(form.file.errors) or _("Choose a recording to upload."), "error")
        return _record_page(inspection_id, status=400)
    try:
        visit_record.attach_recording(
            inspection_id, form.file.data.stream, actor=_actor(), filename=form.file.data.filename
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return _record_page(inspection_id, status=400)
    flash(_("The recording was added to the evidence list."), "success")
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/recordings/<int:attachment_id>/remove")
@login_required
def remove_recording(inspection_id: int, attachment_id: int):
    """Take a recording off the visit's record, until the notice is approved."""
    visit_record.remove_recording(inspection_id, attachment_id, actor=_actor())
    flash(_("The recording was removed from the evidence list."), "success")
    return redirect(url_for(".record", inspection_id=inspection_id))


@bp.get("/recordings/<int:attachment_id>")
@login_required
def recording_file(attachment_id: int):
    """A recording, to whoever may see the visit; byte ranges, so a browser can seek in it."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.kind not in visit_record.RECORDING_KINDS:
        abort(404)
    visit = permissions.get_visible_or_404(Visit, attachment.visit_id, _actor())
    permissions.require(_actor(), "inspection.view", visit)
    return send_attachment(attachment, variant="original", thumb=False, name="recording")


@bp.get("/<int:inspection_id>/notice")
@login_required
def notice(inspection_id: int):
    ctx = services.fill_context(inspection_id, actor=_actor())
    visit = ctx.inspection.visit
    # A draft is the office's until it is approved: the unit sees only the issued notice.
    if visit.notice_status is None or (
        visit.notice_status == "draft" and not permissions.can(_actor(), "inspection.fill", visit)
    ):
        abort(404)
    return render_template(
        "inspections/notice.html",
        ctx=ctx,
        doc=notices.notice_document(visit),
        receipt=notices.receipt_signature(visit),
    )


@bp.post("/<int:inspection_id>/notice/approve")
@login_required
@permissions.action_required("notice.approve")
def approve_notice(inspection_id: int):
    form = ApproveNoticeForm()
    if not form.validate_on_submit():
        flash(_("The approval could not be read; try again."), "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    visit = notices.approve_notice(
        inspection_id,
        actor=_actor(),
        legal_review=form.legal_review.data,
        legal_review_note=form.legal_review_note.data or "",
    )
    flash(_("The notice was approved as %(number)s.", number=visit.notice_number), "success")
    return redirect(url_for(".notice", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/served")
@login_required
def served(inspection_id: int):
    from ..api.routes import decode_png_data_url

    ctx = services.fill_context(inspection_id, actor=_actor(), action="inspection.fill")
    form = _served_form(ctx.inspection.visit, request.form)
    if not form.validate_on_submit():
        flash(_("Enter the date, method and place of service."), "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    try:
        notices.record_notice_served(
            inspection_id,
            actor=_actor(),
            served_on=form.served_on.data,
            served_time=form.served_time.data,
            method=form.method.data,
            place=form.place.data,
            server_ids=[uid for uid in (form.server_a.data, form.server_b.data) if uid],
            recipient_name=form.recipient_name.data,
            signature_png=decode_png_data_url(form.signature.data) if form.signature.data else None,
            refused=form.refused.data,
            witness=form.witness.data,
            note=form.note.data or "",
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return redirect(url_for(".record", inspection_id=inspection_id))
    flash(_("The service was recorded; the deadlines count from its date."), "success")
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
