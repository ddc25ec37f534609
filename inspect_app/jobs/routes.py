"""Job pages: my jobs, one job's progress (polled by static/js/jobs.js), its file."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.routing import BaseConverter

from ..errors import ValidationFailed
from ..models import utcnow
from . import display, services
from .forms import StartJobForm

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


class JobIdConverter(BaseConverter):
    """A job id in a URL: a UUID's characters, so /jobs/start is never taken for a job."""

    regex = r"[0-9a-fA-F-]{1,36}"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("job", JobIdConverter))

# How often a page without JavaScript reloads itself while its job runs (seconds).
REFRESH_SECONDS = 5


def _locale() -> str:
    return str(get_locale() or "")


@bp.get("/")
@login_required
def index():
    hours = round(current_app.config["JOB_RETENTION"].total_seconds() / 3600)
    return render_template(
        "jobs/index.html", jobs=services.recent_jobs(current_user), retention_hours=hours
    )


@bp.post("/start")
@login_required
def start():
    form = StartJobForm()
    if not form.validate_on_submit():
        raise ValidationFailed(_("There is no such kind of job."))
    job = services.start_job(
        form.kind.data, form.params(request.form), actor=current_user, locale=_locale()
    )
    if job.reused:
        flash(_("This job was already under way; here it is."), "info")
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.get("/<job:job_id>")
@login_required
def show(job_id: str):
    job = services.visible_job(job_id, actor=current_user)
    return render_template(
        "jobs/show.html",
        job=job,
        now=utcnow(),
        stale=services.is_stale(job),
        refresh=REFRESH_SECONDS,
    )


@bp.get("/<job:job_id>/status")
@login_required
def status(job_id: str):
    job = services.visible_job(job_id, actor=current_user)
    return jsonify(display.status_payload(job))


@bp.get("/<job:job_id>/file")
@login_required
def download(job_id: str):
    path, job = services.open_download(job_id, actor=current_user)
    response = send_file(
        path, mimetype=job.mime, as_attachment=True, download_name=job.file_name, max_age=0
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/<job:job_id>/again")
@login_required
def again(job_id: str):
    job = services.start_again(job_id, actor=current_user, locale=_locale())
    return redirect(url_for("jobs.show", job_id=job.id))


for _name, _helper in {
    "job_title": display.title,
    "job_status_label": display.status_label,
    "job_progress_text": display.progress_text,
    "job_error_text": display.error_text,
    "job_size_text": display.size_text,
}.items():
    bp.add_app_template_global(_helper, _name)
