"""Rectification pages: the unit's home, the item page with every step's form, the ledger, the
verification queue with bulk steps, the printed 整改报告 / 约谈记录 / 通报 / 移送函, and the files
attached to steps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_required

from ..auth import permissions
from ..clock import local_today
from ..errors import Conflict, InvalidTransition, StorageUnavailable, ValidationFailed
from ..extensions import db
from ..inspections import services as inspections
from ..models import Attachment, RectificationEvent, RectificationItem
from ..models.rectification import SEVERITIES
from ..web import actor, int_arg, page_arg, send_attachment, year_arg
from . import display, duties, forms, queries, services, states

bp = Blueprint("rectification", __name__, url_prefix="/rectification")


@bp.record_once
def _template_globals(state) -> None:
    # App-wide: the notice (inspections) prints deadlines the same way as these pages.
    state.app.jinja_env.globals.update(display.TEMPLATE_GLOBALS)


# The steps of the item page, by the prefix of their form.
STEPS = {
    "respond": forms.RespondForm,
    "extension": forms.ExtensionRequestForm,
    "decide": forms.DecideExtensionForm,
    "verify": forms.VerifyForm,
    "return": forms.ReturnForm,
    "risk": forms.AcceptRiskForm,
    "escalate": forms.EscalateForm,
    "interview": forms.InterviewForm,
    "notification": forms.NotificationForm,
}
# The statuses a filter may name besides the stored ones.
DERIVED = ("overdue", "due_soon", "extension")


def _soon() -> int:
    return current_app.config["DUE_SOON_DAYS"]


def _unit_step_action(user) -> str:
    """A unit answers for itself; the office enters a paper answer for it (代录)."""
    return "rectification.respond" if user.role == "unit" else "rectification.record_for_unit"


def _permission(step: str, user) -> str:
    return {
        "respond": _unit_step_action(user),
        "extension": _unit_step_action(user),
        "decide": "rectification.extend",
        "verify": "rectification.verify",
        "return": "rectification.verify",
        "risk": "rectification.manage",
        "escalate": "rectification.manage",
        "interview": "rectification.manage",
        "notification": "rectification.manage",
    }[step]


def _step_applies(step: str, item: RectificationItem) -> bool:
    """Whether the step makes sense in the item's state (the services check again)."""
    status = item.status
    return {
        "respond": status in states.UNIT_TURN,
        "extension": status in states.UNIT_TURN and item.pending_extension is None,
        "decide": item.pending_extension is not None,
        "verify": states.can_move(item, "closed"),
        "return": states.can_move(item, "returned"),
        "risk": states.can_move(item, "risk_accepted"),
        "escalate": states.can_move(item, "escalated"),
        "interview": status not in states.DONE_STATES,
        "notification": status not in states.DONE_STATES,
    }[step]


def _new_form(step: str, item: RectificationItem, user, *, submitted: bool = False):
    """The step's form: bound to the posted data (files included), or fresh for the item."""
    kwargs: dict[str, Any] = {"prefix": step}
    if step in ("respond", "extension"):
        kwargs["on_behalf"] = user.role != "unit"
    if submitted:
        return STEPS[step](**kwargs)
    form = STEPS[step](formdata=None, **kwargs)
    form.version.data = item.version
    if step == "notification" and item.unit.parent is not None:
        form.to_body.data = item.unit.parent.name
    if step == "decide" and item.pending_extension is not None:
        form.due_date.data = _iso_day(item.pending_extension.data.get("proposed_date"))
    return form


def _iso_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _uploads(form) -> list[services.Upload]:
    """The files chosen in the form's file inputs (the camera's and the picker's)."""
    field = getattr(form, "files", None)
    if field is None:
        return []
    return [
        services.Upload(upload.read(), upload.filename or "")
        for upload in request.files.getlist(field.name)
        if upload and upload.filename
    ]


# --- the unit's home and the ledger -------------------------------------------------------------


def unit_home():
    """A unit's home is its work: its items by what to do next, and its notices."""
    today = local_today()
    user = actor()
    items = list(
        db.session.scalars(
            queries.items_query(user, queries.ItemFilter(), today=today, soon_days=_soon())
        )
    )
    return render_template(
        "rectification/unit_home.html",
        groups=queries.group_for_unit(items, today, _soon()),
        notices=queries.notices_for(user),
        today=today,
        soon_days=_soon(),
    )


def _filters() -> queries.ItemFilter:
    status = (request.args.get("status") or "").strip()
    if status and status not in (*states.TRANSITIONS, *DERIVED):
        raise ValidationFailed(_("Unknown status."))
    severity = (request.args.get("severity") or "").strip()
    if severity and severity not in SEVERITIES:
        raise ValidationFailed(_("Unknown risk level."))
    q = (request.args.get("q") or "").strip()
    if len(q) > 100:
        raise ValidationFailed(_("Search for at most 100 characters."))
    return queries.ItemFilter(
        status=status,
        unit_id=int_arg("unit", label=_("The unit")),
        round_id=int_arg("round", label=_("The round")),
        year=year_arg(),
        severity=severity,
        repeat=request.args.get("repeat") == "1",
        q=q,
    )


def _page(filters: queries.ItemFilter):
    stmt = queries.items_query(actor(), filters, today=local_today(), soon_days=_soon())
    return db.paginate(
        stmt, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )


def _bulk_actions(user, *, queue: bool) -> tuple[str, ...]:
    actions = []
    if permissions.can(user, "rectification.verify"):
        actions += ["verify", "return"]
    if not queue and permissions.can(user, "rectification.extend"):
        actions.append("extend")
    return tuple(actions)


def _render_list(template_args: dict[str, Any], status: int = 200):
    return render_template("rectification/list.html", **template_args), status


@bp.get("/")
@login_required
@permissions.action_required("rectification.view")
def index():
    if actor().role == "unit":
        return unit_home()
    filters = _filters()
    units, rounds = queries.filter_choices(actor())
    actions = _bulk_actions(actor(), queue=False)
    return _render_list(
        {
            "mode": "ledger",
            "page": _page(filters),
            "filters": filters,
            "units": units,
            "rounds": rounds,
            "args": {k: v for k, v in request.args.items() if k != "page" and v},
            "bulk_form": forms.BulkForm(formdata=None, actions=actions) if actions else None,
            "today": local_today(),
            "soon_days": _soon(),
            "counts": queries.counts(actor(), today=local_today(), soon_days=_soon()),
        }
    )


@bp.get("/queue")
@login_required
@permissions.action_required("rectification.verify")
def queue():
    """Responses waiting for verification: the office's, and an inspector's own teams'."""
    filters = queries.ItemFilter(status="submitted")
    actions = _bulk_actions(actor(), queue=True)
    return _render_list(
        {
            "mode": "queue",
            "page": _page(filters),
            "args": {},
            "bulk_form": forms.BulkForm(formdata=None, actions=actions),
            "today": local_today(),
            "soon_days": _soon(),
        }
    )


@bp.post("/bulk")
@login_required
def bulk():
    """Verify, return or extend the checked items, all or nothing; on a refusal the selection is
    shown again with every item's reason, and nothing was changed."""
    user = actor()
    actions = _bulk_actions(user, queue=False)
    if not actions:
        abort(403)
    form = forms.BulkForm(actions=actions)
    versions, garbled = forms.parse_selection(request.form.getlist("item"))
    origin = "queue" if request.form.get("origin") == "queue" else "ledger"
    refusals: dict[int, str] = {}
    if garbled:
        form.form_errors.append(_("The selection was damaged. Reload the page and try again."))
    elif form.validate():
        try:
            done = services.bulk(
                versions,
                form.action.data,
                actor=user,
                today=local_today(),
                note=form.note.data or "",
                due_date=form.due_date.data,
            )
        except ValidationFailed as err:
            form.form_errors.append(err.message)
            for refusal in err.details if isinstance(err.details, list) else []:
                refusals[refusal["item_id"]] = refusal["message"]
        else:
            flash(_("%(n)d items were handled.", n=len(done)), "success")
            return redirect(url_for(".queue" if origin == "queue" else ".index"))
    items = queries.items_by_ids(user, list(versions), today=local_today(), soon_days=_soon())
    return _render_list(
        {
            "mode": "selection",
            "origin": origin,
            "items": items,
            "hidden": [i for i in versions if i not in {item.id for item in items}],
            "refusals": refusals,
            "checked": {i for i in versions if i not in refusals},
            "bulk_form": form,
            "args": {},
            "today": local_today(),
            "soon_days": _soon(),
        },
        400,
    )


# --- one item -----------------------------------------------------------------------------------


def _render_item(item_id: int, *, bound: dict[str, Any] | None = None, status: int = 200):
    user = actor()
    item = services.load(item_id, actor=user)
    bound = bound or {}
    step_forms = {}
    for step in STEPS:
        if step in bound:
            step_forms[step] = bound[step]
        elif permissions.can(user, _permission(step, user), item) and _step_applies(step, item):
            step_forms[step] = _new_form(step, item, user)
    today = local_today()
    return render_template(
        "rectification/show.html",
        item=item,
        finding=item.finding,
        inspection=item.finding.inspection,
        evidence=queries.inspection_evidence(item.finding),
        also_found=duties.finding_links(item.finding),
        forms=step_forms,
        open_step=next(iter(bound), None),
        today=today,
        soon_days=_soon(),
        original_due=display.original_due(item),
        extensions=display.extensions(item),
    ), status


@bp.get("/items/<int:item_id>")
@login_required
def show(item_id: int):
    return _render_item(item_id)


def _step(item_id: int, step: str, command: Callable[[Any, RectificationItem], Any], done: str):
    """Load (404 unless visible), authorise (403), check the form, run the one service call.
    A refusal shows the page again with what was typed and the message beside its field."""
    user = actor()
    item = services.load(item_id, actor=user)
    permissions.require(user, _permission(step, user), item)
    form = _new_form(step, item, user, submitted=True)
    if form.validate():
        try:
            command(form, item)
        except (ValidationFailed, Conflict, InvalidTransition, StorageUnavailable) as err:
            form.add_service_error(err)  # said once, in the form: the flash only points there
            if _files_chosen():
                form.form_errors.append(
                    _("Files are not kept when a step is refused: choose them again.")
                )
            flash(_("Check the highlighted fields; nothing was saved."), "error")
            return _render_item(item_id, bound={step: form}, status=err.status_code)
        flash(done, "success")
        return redirect(url_for(".show", item_id=item_id, _anchor="history"))
    if form.stale():
        form.form_errors.append(_("The page was incomplete. Reload it and try again."))
    if _files_chosen():
        form.form_errors.append(_("Files are not kept when a step is refused: choose them again."))
    flash(_("Check the highlighted fields; nothing was saved."), "error")
    return _render_item(item_id, bound={step: form}, status=400)


def _files_chosen() -> bool:
    """Whether the request carries a file (a form's empty file inputs are sent nameless)."""
    return any(f.filename for _name, f in request.files.items(multi=True))


def _version(form) -> int:
    return form.version.data


@bp.post("/items/<int:item_id>/respond")
@login_required
def respond(item_id: int):
    def command(form, item):
        return services.respond(
            item_id,
            actor=actor(),
            cause=form.cause.data,
            measures=form.measures.data,
            completed_on=form.completed_on.data,
            responsible_person=form.responsible_person.data,
            responsible_phone=form.responsible_phone.data or "",
            files=_uploads(form),
            on_behalf=form.on_behalf,
            source=form.source_value(),
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "respond", command, _("The rectification report was submitted."))


@bp.post("/items/<int:item_id>/extension")
@login_required
def request_extension(item_id: int):
    def command(form, item):
        return services.request_extension(
            item_id,
            actor=actor(),
            reason=form.reason.data,
            proposed_date=form.proposed_date.data,
            interim_measures=form.interim_measures.data,
            on_behalf=form.on_behalf,
            source=form.source_value(),
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "extension", command, _("The extension request was sent."))


@bp.post("/items/<int:item_id>/extension/decide")
@login_required
def decide_extension(item_id: int):
    def command(form, item):
        return services.decide_extension(
            item_id,
            actor=actor(),
            grant=form.decision.data == "grant",
            due_date=form.due_date.data,
            reason=form.reason.data or "",
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "decide", command, _("The decision on the extension was recorded."))


@bp.post("/items/<int:item_id>/verify")
@login_required
def verify(item_id: int):
    def command(form, item):
        return services.verify(
            item_id,
            actor=actor(),
            note=form.note.data or "",
            recheck=form.recheck(),
            files=_uploads(form),
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "verify", command, _("The item was verified and closed."))


@bp.post("/items/<int:item_id>/return")
@login_required
def return_item(item_id: int):
    def command(form, item):
        return services.return_item(
            item_id,
            actor=actor(),
            reason=form.reason.data,
            due_date=form.due_date.data,
            recheck=form.recheck(),
            files=_uploads(form),
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "return", command, _("The item was returned to the unit."))


@bp.post("/items/<int:item_id>/accept-risk")
@login_required
def accept_risk(item_id: int):
    def command(form, item):
        return services.accept_risk(
            item_id,
            actor=actor(),
            reason=form.reason.data,
            until=form.until.data,
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "risk", command, _("The risk was accepted."))


@bp.post("/items/<int:item_id>/escalate")
@login_required
def escalate(item_id: int):
    def command(form, item):
        return services.escalate(
            item_id,
            actor=actor(),
            to=form.to.data,
            body=form.body.data,
            reason=form.reason.data,
            expected_version=_version(form),
        )

    return _step(item_id, "escalate", command, _("The item was handed over."))


@bp.post("/items/<int:item_id>/interview")
@login_required
def interview(item_id: int):
    def command(form, item):
        return services.record_interview(
            item_id,
            actor=actor(),
            held_on=form.held_on.data,
            place=form.place.data,
            office_people=form.office_people.data,
            unit_people=form.unit_people.data,
            content=form.content.data,
            commitments=form.commitments.data or "",
            files=_uploads(form),
            expected_version=_version(form),
            today=local_today(),
        )

    return _step(item_id, "interview", command, _("The interview record was saved."))


@bp.post("/items/<int:item_id>/notification")
@login_required
def notification(item_id: int):
    def command(form, item):
        return services.record_notification(
            item_id,
            actor=actor(),
            to_body=form.to_body.data,
            content=form.content.data,
            expected_version=_version(form),
        )

    return _step(item_id, "notification", command, _("The notification was recorded."))


# --- files and printed documents ----------------------------------------------------------------


@bp.get("/files/<int:attachment_id>")
@login_required
def file(attachment_id: int):
    """A file attached to a step, for whoever may see the item (404 for other units')."""
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.rectification_event_id is None:
        abort(404)
    event = db.session.get(RectificationEvent, attachment.rectification_event_id)
    item = services.load(event.item_id, actor=actor())
    original = permissions.can(actor(), "evidence.original", item)
    return send_attachment(
        attachment,
        variant="original" if original else "public",
        thumb=request.args.get("thumb") == "1",
        name="rectification",
    )


DOCUMENTS = {
    "interview": "rectification/interview_record.html",
    "notification": "rectification/notification_doc.html",
    "escalated": "rectification/escalation_doc.html",
}


@bp.get("/steps/<int:step_id>/document")
@login_required
def document(step_id: int):
    """The printed record of a step: 约谈记录, 通报 or 移送函."""
    event = db.session.get(RectificationEvent, step_id)
    if event is None:
        abort(404)
    item = services.load(event.item_id, actor=actor())
    if event.kind not in DOCUMENTS:
        abort(404)
    return render_template(
        DOCUMENTS[event.kind],
        event=event,
        item=item,
        finding=item.finding,
        inspection=item.finding.inspection,
        issuer=current_app.config["NOTICE_ISSUER"],
        today=local_today(),
        original_due=display.original_due(item),
    )


@bp.get("/notices/<int:inspection_id>/report")
@login_required
def report(inspection_id: int):
    """The unit's 整改报告 for every item of one notice, to sign, seal and send on paper."""
    inspection = inspections.load(inspection_id, actor=actor())
    if not inspection.notice_number:
        abort(404)
    return render_template(
        "rectification/report.html",
        inspection=inspection,
        findings=queries.notice_findings(inspection),
        issuer=current_app.config["NOTICE_ISSUER"],
    )
