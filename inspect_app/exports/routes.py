"""Downloads: the exports page, round and year workbooks (POST: started as background jobs, whose
page shows the progress and then the file), an inspection's record and a unit's ledger (small:
built in the request). Builders write the file; these views only check, start or call one
builder and send what it wrote."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Blueprint, abort, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required

from .. import jobs
from ..auth import permissions
from ..clock import local_today
from ..extensions import db
from ..models import Inspection, Round, Unit
from ..web import YEARS, year_arg
from . import build_inspection, build_unit_ledger
from .common import record_download
from .forms import StartExportForm

bp = Blueprint("exports", __name__, url_prefix="/exports")

# What the exports page may start with its POST form (the others are links).
STARTABLE = ("export.round", "export.year")


def _params(**values) -> dict:
    return {**values, "locale": str(get_locale()), "actor_id": current_user.id}


def _send(result: tuple[str, str, str], kind: str, obj, *, hidden_from_unit=False, **details):
    """Send the built file (its download on record) and forget it: the open file stays readable
    after the unlink."""
    path, name, mime = result
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed by the response
    finally:
        os.unlink(path)
    try:
        record_download(
            current_user._get_current_object(),
            obj,
            kind,
            name,
            hidden_from_unit=hidden_from_unit,
            **details,
        )
    except BaseException:
        stream.close()
        raise
    response = send_file(stream, mimetype=mime, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/")
@login_required
@permissions.action_required("exports.download")
def index():
    year = year_arg(local_today().year)
    rounds = db.session.scalars(
        sa.select(Round).where(Round.year == year).order_by(Round.seq)
    ).all()
    units = db.session.execute(
        sa.select(Unit.id, Unit.code, Unit.name).where(Unit.active).order_by(Unit.code)
    ).all()
    years = range(max(YEARS[0], local_today().year - 5), local_today().year + 2)
    return render_template(
        "exports/index.html",
        year=year,
        years=years,
        rounds=rounds,
        units=units,
        form=StartExportForm(),
    )


@bp.post("/start")
@login_required
@permissions.action_required("exports.download")
def start():
    """Start a round or year workbook as a background job and show its page (progress, then
    the download); the same export already running is shown instead of a second one."""
    form = StartExportForm()
    if not form.validate_on_submit() or form.kind.data not in STARTABLE:
        abort(400)
    params = {"year": form.year.data}
    if form.kind.data == "export.round":
        params["seq"] = form.seq.data
    job = jobs.start_job(
        form.kind.data, params, actor=current_user._get_current_object(), locale=str(get_locale())
    )
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/inspections/<int:inspection_id>.xlsx")
@login_required
def inspection(inspection_id: int):
    built = build_inspection(_params(inspection_id=inspection_id), None)  # checks the actor may
    inspection = db.session.get(Inspection, inspection_id)
    return _send(
        built, "export.inspection", inspection, hidden_from_unit=not inspection.is_on_record
    )


@bp.get("/units/<int:unit_id>/ledger.xlsx")
@login_required
def unit_ledger(unit_id: int):
    """A unit's rectification ledger of a year; a unit user gets only its own (404 else)."""
    unit = permissions.get_visible_or_404(Unit, unit_id)
    year = year_arg(local_today().year)
    built = build_unit_ledger(_params(unit=unit.code, year=year), None)
    return _send(built, "export.unit_ledger", unit, year=year)
