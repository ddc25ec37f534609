"""How a job reads on its page, in the list and in the JSON the page polls: title, status,
progress and error, in the reader's language."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import Job
from . import registry

STATUS_LABELS = {
    "queued": _l("Waiting"),
    "running": _l("Running"),
    "done": _l("Done"),
    "failed": _l("Failed"),
    "expired": _l("Expired"),
}

ERROR_MESSAGES = {
    "internal": _l(
        "Something went wrong while making the file. Start the job again; if it fails again, "
        "tell the administrator."
    ),
    "interrupted": _l("The job runner stopped while making the file. Start the job again."),
    "stalled": _l(
        "The job stopped reporting progress and was given up. Start the job again; if this "
        "happens again, tell the administrator."
    ),
    "unknown_kind": _l("This kind of job no longer exists."),
    "queue": _l("The job queue cannot be reached. Try again later or tell the administrator."),
}


def title(job: Job) -> str:
    """The title its kind gives it ("2026年度汇总"), or the kind's name."""
    kind = registry.get_kind(job.kind)
    if kind is None:
        return job.kind
    try:
        return kind.title_for(job.params or {})
    except Exception:  # a title must never break the page that lists the job
        return job.kind


def status_label(job: Job) -> str:
    return str(STATUS_LABELS.get(job.status, job.status))


def progress_text(job: Job) -> str:
    """ "12,000 / 288,000 rows written" (已写 12,000 / 288,000 行), or what the job waits for."""
    if job.status == "queued":
        return _("Waiting for the job runner to start it…")
    done = format_number(job.done or 0)
    if job.total is None:
        return _("%(done)s rows written", done=done)
    return _("%(done)s / %(total)s rows written", done=done, total=format_number(job.total))


def error_text(job: Job) -> str:
    if job.status != "failed":
        return ""
    if job.error == "builder" and job.message:
        return job.message
    return str(ERROR_MESSAGES.get(job.error or "internal", ERROR_MESSAGES["internal"]))


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_number(max(1, round(size / 1024))))
    return _("%(n)s MB", n=format_number(round(size / 1024 / 1024, 1)))


def status_payload(job: Job) -> dict[str, Any]:
    """What the job page polls for (static/js/jobs.js)."""
    return {
        "id": job.id,
        "status": job.status,
        "status_label": status_label(job),
        "done": job.done or 0,
        "total": job.total,
        "percent": job.percent,
        "text": progress_text(job),
        "error": error_text(job) or None,
        "download_url": url_for("jobs.download", job_id=job.id) if job.status == "done" else None,
    }
