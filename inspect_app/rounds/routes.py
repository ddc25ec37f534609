"""Coordinator pages for rounds, targets and team assignment."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from .. import inputs
from ..auth.permissions import action_required, can
from ..clock import local_today
from ..errors import ValidationFailed
from ..extensions import db
from ..labels import INSPECTION_STATUS_LABELS, UNIT_KIND_LABELS
from ..models import UNIT_KINDS, Inspection, Round, User
from ..web import YEARS, year_arg
from . import services, visits
from .forms import (
    DEFAULT_PREPARATION,
    AdvanceServedForm,
    ApprovePlanForm,
    AssignEntry,
    EditRoundForm,
    TeamEntry,
    parse_filters,
)
from .labels import (
    NATURE_LABELS,
    ROUND_STATUS_LABELS,
    TARGET_LABELS,
    THEME_LABELS,
    label,
)

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "round_status_label": lambda c: label(ROUND_STATUS_LABELS, c),
        "theme_label": lambda c: label(THEME_LABELS, c),
        "nature_label": lambda c: label(NATURE_LABELS, c),
        "inspection_status_label": lambda c: label(INSPECTION_STATUS_LABELS, c),
        "target_label": lambda c: label(TARGET_LABELS, c),
        "unit_kind_label": lambda c: label(UNIT_KIND_LABELS, c),
    }


def _actor() -> User:
    return current_user._get_current_object()


def _round_in_path(round_id: int, inspection_id: int) -> Inspection:
    inspection = db.get_or_404(Inspection, inspection_id)
    if inspection.round_id != round_id:
        abort(404)
    return inspection


# --- rounds -----------------------------------------------------------------------------------


@bp.get("/")
@login_required
@action_required("rounds.view")
def index():
    this_year = local_today().year
    year = year_arg(this_year)
    years = sorted(
        set(services.years_with_rounds()) | {this_year - 1, this_year, this_year + 1, year}
    )
    return render_template(
        "rounds/index.html",
        year=year,
        years=years,
        rows=services.round_rows(year),
        missing=services.missing_seqs(year),
        today=local_today(),
    )


@bp.post("/plan")
@login_required
@action_required("rounds.edit")
def plan():
    year = inputs.whole_number(request.form.get("year", ""), lo=YEARS[0], hi=YEARS[1]) or 0
    seq = inputs.whole_number(request.form.get("seq", ""), lo=1, hi=6)
    try:
        if seq:
            services.add_round(year, seq, actor=_actor())
            flash(_("Round %(seq)d of %(year)d has been added.", seq=seq, year=year), "success")
        else:
            services.plan_year(year, actor=_actor())
            flash(_("The six rounds of %(year)d have been planned.", year=year), "success")
    except ValidationFailed as err:
        flash(err.message, "error")
    return redirect(url_for(".index", year=year or None))


@bp.get("/<int:round_id>")
@login_required
@action_required("rounds.view")
def show(round_id: int):
    rnd = db.get_or_404(Round, round_id)
    return render_template(
        "rounds/show.html",
        rnd=rnd,
        inspections=services.round_inspections(round_id),
        drafts=services.draft_notices(round_id),
        unfinished=services.unfinished_count(round_id),
        moves=services.ROUND_TRANSITIONS.get(rnd.status, ()),
        editable=can(current_user, "rounds.edit") and rnd.status != "closed",
        today=local_today(),
    )


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("rounds.edit")
def edit(round_id: int):
    rnd = db.get_or_404(Round, round_id)
    services.ensure_round_open(rnd)
    form = EditRoundForm(obj=rnd)
    if not form.is_submitted():
        form.departments.data = [d.id for d in rnd.departments]
    form.departments.choices = [SelectChoice(d.id, d.name) for d in services.all_departments()]
    if form.validate_on_submit():
        try:
            services.update_round(round_id, actor=_actor(), **_round_values(form))
        except ValidationFailed as err:
            form.add_errors(err.details)
            flash(err.message, "error")
        else:
            flash(_("The round has been saved."), "success")
            return redirect(url_for(".show", round_id=round_id))
    status = 400 if form.is_submitted() else 200
    return render_template("rounds/edit.html", rnd=rnd, form=form), status


def _round_values(form: EditRoundForm) -> dict[str, Any]:
    return {
        "title": form.title.data,
        "theme": form.theme.data,
        "nature": form.nature.data,
        "start_date": form.start_date.data,
        "end_date": form.end_date.data,
        "department_ids": form.departments.data or [],
        "notes": form.notes.data or "",
    }


@bp.get("/<int:round_id>/close")
@login_required
@action_required("rounds.edit")
def close(round_id: int):
    rnd = db.get_or_404(Round, round_id)
    return render_template(
        "rounds/close.html",
        rnd=rnd,
        unfinished=services.unfinished_count(round_id),
        moves=services.ROUND_TRANSITIONS.get(rnd.status, ()),
    )


@bp.post("/<int:round_id>/status")
@login_required
@action_required("rounds.edit")
def status(round_id: int):
    db.get_or_404(Round, round_id)
    to = request.form.get("to", "")
    try:
        rnd = services.change_round_status(
            round_id, to, actor=_actor(), confirmed=request.form.get("confirm") == "1"
        )
    except services.ConfirmationRequired as err:
        flash(err.message, "warning")
        return redirect(url_for(".close", round_id=round_id))
    except ValidationFailed as err:
        flash(err.message, "error")
        return redirect(url_for(".show", round_id=round_id))
    flash(
        _("The round is now %(status)s.", status=label(ROUND_STATUS_LABELS, rnd.status)), "success"
    )
    return redirect(url_for(".show", round_id=round_id))


# --- targets and teams ------------------------------------------------------------------------


@bp.route("/<int:round_id>/targets", methods=["GET", "POST"])
@login_required
@action_required("rounds.edit")
def assign(round_id: int):
    rnd = db.get_or_404(Round, round_id)
    services.ensure_round_open(rnd)
    filters, args = parse_filters(request.args)
    entry, over_cap, code = AssignEntry(), None, 200
    if request.method == "POST":
        entry = AssignEntry.from_form(request.form)
        try:
            _assign(round_id, entry)
        except services.ConfirmationRequired as err:
            over_cap = err.details["over_cap"]
            flash(err.message, "warning")
        except ValidationFailed as err:
            code = 400
            flash(err.message, "error")
        else:
            return redirect(url_for(".show", round_id=round_id))
    candidates, truncated = services.target_candidates(rnd, filters)
    return render_template(
        "rounds/assign.html",
        rnd=rnd,
        args=args,
        filters=filters,
        candidates=candidates,
        truncated=truncated,
        templates=services.templates_for(filters.target),
        inspectors=services.eligible_inspectors(),
        entry=entry,
        over_cap=over_cap,
        unit_kinds=UNIT_KINDS,
    ), code


def _assign(round_id: int, entry: AssignEntry) -> services.Assignment:
    result = services.assign_targets(
        round_id,
        entry.targets,
        actor=_actor(),
        template_id=entry.template_id,
        scheduled_on=entry.scheduled_on,
        team=entry.team(),
        lead_id=entry.lead_id,
        confirmed_over_cap=entry.confirmed_over_cap,
    )
    n = len(result.inspections)
    flash(
        ngettext(
            "%(num)d inspection has been planned.", "%(num)d inspections have been planned.", n
        ),
        "success",
    )
    for warning in result.warnings:
        flash(warning, "warning")
    return result


@bp.route("/<int:round_id>/inspections/<int:inspection_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("rounds.edit")
def inspection_edit(round_id: int, inspection_id: int):
    inspection = _round_in_path(round_id, inspection_id)
    services.ensure_not_started(inspection)
    entry, code = _entry_of(inspection), 200
    if request.method == "POST":
        entry = TeamEntry.from_form(request.form)
        try:
            _done, warnings = services.update_planned_inspection(
                inspection_id,
                actor=_actor(),
                scheduled_on=entry.scheduled_on,
                team=entry.team(),
                lead_id=entry.lead_id,
            )
        except ValidationFailed as err:
            code = 400
            flash(err.message, "error")
        else:
            flash(_("The inspection has been saved."), "success")
            for warning in warnings:
                flash(warning, "warning")
            return redirect(url_for(".show", round_id=round_id))
    return render_template(
        "rounds/inspection_edit.html",
        rnd=inspection.round,
        inspection=inspection,
        inspectors=services.eligible_inspectors(),
        entry=entry,
    ), code


def _entry_of(inspection: Inspection) -> TeamEntry:
    day = inspection.scheduled_on
    return TeamEntry(
        member_ids=[m.user_id for m in inspection.members],
        lead_id=inspection.lead_id,
        certificates={m.user_id: m.certificate_no for m in inspection.members},
        scheduled_on=day,
        date_text=day.isoformat() if day else "",
    )


@bp.post("/<int:round_id>/inspections/<int:inspection_id>/remove")
@login_required
@action_required("rounds.edit")
def inspection_remove(round_id: int, inspection_id: int):
    _round_in_path(round_id, inspection_id)
    services.remove_planned_inspection(inspection_id, actor=_actor())
    flash(_("The planned inspection has been removed."), "success")
    return redirect(url_for(".show", round_id=round_id))


# --- visits: plan approval and the 检查通知书 ------------------------------------------------------


@bp.get("/visits/<int:visit_id>")
@login_required
@action_required("rounds.view")
def visit(visit_id: int):
    v = visits.load_visit(visit_id, actor=current_user._get_current_object())
    return render_template(
        "rounds/visit.html",
        visit=v,
        regulator_warnings=services.regulator_warnings([v.unit], [m.department for m in v.members]),
        approve_form=ApprovePlanForm(preparation=str(DEFAULT_PREPARATION)),
        served_form=AdvanceServedForm(),
    )


@bp.post("/visits/<int:visit_id>/approve")
@login_required
@action_required("rounds.edit")
def approve_visit(visit_id: int):
    form = ApprovePlanForm()
    if not form.validate_on_submit():
        flash(_("The text is too long."), "error")
        return redirect(url_for(".visit", visit_id=visit_id))
    v = visits.approve_plan(
        visit_id, actor=current_user._get_current_object(), preparation=form.preparation.data
    )
    flash(
        _(
            "The plan was approved; inspection notice %(number)s issued.",
            number=v.advance_notice_number,
        ),
        "success",
    )
    return redirect(url_for(".advance_notice", visit_id=visit_id))


@bp.get("/visits/<int:visit_id>/advance-notice")
@login_required
@action_required("rounds.view")
def advance_notice(visit_id: int):
    from ..inspections.notices import notice_document

    v = visits.load_visit(visit_id, actor=current_user._get_current_object())
    if v.advance_notice_number is None:
        abort(404)
    return render_template("rounds/advance_notice.html", visit=v, doc=notice_document(v))


@bp.post("/visits/<int:visit_id>/advance-served")
@login_required
@action_required("rounds.edit")
def advance_served(visit_id: int):
    form = AdvanceServedForm()
    if not form.validate_on_submit():
        flash(_("Enter the date the inspection notice was served."), "error")
        return redirect(url_for(".visit", visit_id=visit_id))
    visits.record_advance_served(
        visit_id, actor=current_user._get_current_object(), served_on=form.served_on.data
    )
    flash(_("The service date of the inspection notice was recorded."), "success")
    return redirect(url_for(".visit", visit_id=visit_id))
