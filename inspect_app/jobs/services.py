"""Starting, running, finding, downloading and cleaning up jobs.

A job's row is the truth: the web pages, the consumer and the cleanup all read and write it, on
any host. The consumer runs `run_job` in an app context of its own; the running builder reads a
consistent snapshot of the database while its progress is written on a separate connection.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from .. import audit
from ..auth import permissions
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import normalise
from ..models import Job, User, utcnow
from ..models.job import ACTIVE_STATUSES, new_job_id
from ..transaction import read_snapshot, unit_of_work
from . import files, queue, registry
from .registry import Built, Progress

log = logging.getLogger(__name__)
MAX_PARAMS_BYTES = 4096
RECENT_JOBS = 50


class JobFileGone(DomainError):
    """The file was deleted (after JOB_RETENTION) or never made."""

    status_code = 410
    code = "gone"


class JobQueueUnavailable(DomainError):
    status_code = 503
    code = "unavailable"


# --- starting -------------------------------------------------------------------------------------


def params_key(kind: str, params: dict[str, Any]) -> str:
    """A hash of a kind and its parameters: equal for the same job asked twice."""
    try:
        text = json.dumps(params, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise ValidationFailed(_("The job's parameters cannot be stored.")) from None
    if len(text.encode()) > MAX_PARAMS_BYTES:
        raise ValidationFailed(_("The job's parameters are too long."))
    return hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()


def _kind_or_refuse(kind: Any) -> registry.JobKind:
    job_kind = registry.get_kind(kind) if isinstance(kind, str) else None
    if job_kind is None:
        raise ValidationFailed(_("There is no such kind of job."))
    return job_kind


def is_stale(job: Job, now: datetime | None = None) -> bool:
    """Whether an unfinished job has been silent longer than JOBS_STALE_AFTER (its consumer
    died, or no consumer runs)."""
    now = now or utcnow()
    seen = job.heartbeat_at or job.started_at or job.created_at
    return job.is_active and seen < now - current_app.config["JOBS_STALE_AFTER"]


def start_job(
    kind: str,
    params: dict[str, Any] | None,
    *,
    actor: User,
    locale: str | None = None,
    now: datetime | None = None,
) -> Job:
    """Queue a job of a registered kind for actor, in the language `locale` (the page's).

    Starting the same kind with the same parameters again while the first is queued or running
    returns that job (with `reused` set) and queues nothing; a twin silent for longer than
    JOBS_STALE_AFTER is given up and a new job started. Raises ValidationFailed for an unknown
    kind or bad parameters (the kind's validate may raise others), NotAllowed without the
    kind's permission, JobQueueUnavailable when the queue cannot take the job (the row then
    says failed). Commits. In immediate mode the job has run when this returns.
    """
    job_kind = _kind_or_refuse(kind)
    permissions.require(actor, job_kind.permission)
    params = dict(params or {})
    if job_kind.validate is not None:
        params = job_kind.validate(params, actor)
    key = params_key(kind, params)
    now = now or utcnow()
    with unit_of_work():
        # One start at a time per user, so two clicks cannot both miss the other's job.
        db.session.execute(sa.select(User.id).where(User.id == actor.id).with_for_update())
        twin = db.session.scalar(
            sa.select(Job)
            .where(Job.owner_id == actor.id, Job.params_key == key, Job.kind == kind)
            .where(Job.status.in_(ACTIVE_STATUSES))
            .order_by(Job.created_at.desc())
            .limit(1)
        )
        if twin is not None and not is_stale(twin, now):
            twin.reused = True
            return twin
        if twin is not None:
            _fail(twin, "stalled", now=now)
        job_id = new_job_id()
        job = Job(
            id=job_id,
            kind=kind,
            owner_id=actor.id,
            params=params,
            params_key=key,
            locale=normalise(locale) or current_app.config["DEFAULT_LOCALE"],
            status="queued",
            created_at=now,
            heartbeat_at=now,
        )
        db.session.add(job)
        audit.record(actor, "job.start", job, after={"kind": kind, "params": params})
    # Nothing may read through this session before the task is queued: in immediate mode (the
    # tests) the task would run inside the transaction that read, and go when it is rolled back.
    try:
        queue.runtime().enqueue(job_id)
    except Exception:
        log.exception("Could not queue job %s", job_id)
        with unit_of_work():
            queued = _locked(job_id)
            if queued is not None and queued.status == "queued":
                _fail(queued, "queue")
        raise JobQueueUnavailable(
            _("The job queue cannot be reached. Try again later or tell the administrator.")
        ) from None
    db.session.refresh(job)  # in immediate mode it ran meanwhile, in a session of its own
    return job


def start_again(job_id: str, *, actor: User, locale: str | None = None) -> Job:
    """Start a job like one the actor may see (after it failed or its file expired). Raises as
    start_job, and NotFound for a job the actor may not see. Commits."""
    job = visible_job(job_id, actor=actor)
    return start_job(job.kind, job.params, actor=actor, locale=locale)


# --- reading ----------------------------------------------------------------------------------------


def visible_job(job_id: str, *, actor: User) -> Job:
    """A job its owner (or an administrator) asks for. Raises NotFound for anyone else, as for
    a job that does not exist."""
    job = db.session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 36 else None
    if job is None:
        raise NotFound(_("The page or record does not exist, or you may not see it."))
    permissions.require(actor, "jobs.view", job)
    return job


def recent_jobs(actor: User, limit: int = RECENT_JOBS) -> list[Job]:
    """The actor's own jobs, newest first."""
    return list(
        db.session.scalars(
            sa.select(Job)
            .where(Job.owner_id == actor.id)
            .order_by(Job.created_at.desc(), Job.id)
            .limit(limit)
        )
    )


def open_download(job_id: str, *, actor: User, now: datetime | None = None) -> tuple[Path, Job]:
    """The finished file of a job the actor may see, and its row; records the download.

    Raises NotFound (not the actor's job), NotAllowed (the actor lost the kind's permission),
    Conflict (not finished yet), JobFileGone (expired or deleted). Commits.
    """
    now = now or utcnow()
    job = visible_job(job_id, actor=actor)
    job_kind = registry.get_kind(job.kind)
    if job_kind is not None:
        permissions.require(actor, job_kind.permission)
    if job.status == "expired" or (
        job.status == "done" and job.expires_at is not None and job.expires_at <= now
    ):
        raise JobFileGone(
            _("The file was deleted after it expired. Start the job again for a new one.")
        )
    if job.status != "done":
        raise Conflict(_("The file is not ready yet."))
    path = files.path_of(job.file_key or "")
    if path is None:
        raise JobFileGone(_("The file is no longer there. Start the job again for a new one."))
    with unit_of_work():
        audit.record(actor, "job.download", job, after={"file_name": job.file_name})
    return path, job


# --- running ----------------------------------------------------------------------------------------


class _Claim(NamedTuple):
    kind: str
    params: dict[str, Any]
    owner_id: int
    locale: str
    started_at: datetime


def _locked(job_id: str) -> Job | None:
    return db.session.scalar(
        sa.select(Job)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _claim(job_id: str) -> _Claim | None:
    """queued -> running, or None when the job is gone, taken or given up."""
    now = utcnow()
    with unit_of_work():
        job = _locked(job_id)
        if job is None or job.status != "queued":
            return None
        job.status = "running"
        job.started_at = job.heartbeat_at = now
        return _Claim(job.kind, dict(job.params or {}), job.owner_id, job.locale, now)


def _fail(job: Job, error: str, *, message: str | None = None, now: datetime | None = None):
    job.status = "failed"
    job.error = error
    job.message = message
    job.finished_at = now or utcnow()
    audit.record(None, "job.fail", job, after={"error": error})


def _finish(job_id: str, **values) -> bool:
    """running -> done or failed, unless something else ended the job meanwhile (an interrupt,
    the cleanup). Commits."""
    now = utcnow()
    with unit_of_work():
        job = _locked(job_id)
        if job is None or job.status != "running":
            return False
        if values.pop("status") == "failed":
            _fail(job, values.pop("error"), message=values.pop("message", None), now=now)
            return True
        for name, value in values.items():
            setattr(job, name, value)
        job.status = "done"
        job.finished_at = job.heartbeat_at = now
        job.expires_at = now + current_app.config["JOB_RETENTION"]
        audit.record(None, "job.done", job, after={"file_name": job.file_name, "size": job.size})
    return True


def _write_progress(job_id: str, done: int, total: int | None) -> None:
    """The running job's numbers, on a connection of their own: the builder's read transaction
    is still open (and on PostgreSQL a server-side cursor with it)."""
    session = Session(bind=db.engine, join_transaction_mode="create_savepoint")
    try:
        session.execute(
            sa.update(Job)
            .where(Job.id == job_id, Job.status == "running")
            .values(done=done, total=total, heartbeat_at=utcnow())
        )
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()
        log.warning("Could not write the progress of job %s", job_id, exc_info=True)
    finally:
        session.close()


def _checked(result: Any) -> Built:
    """A builder's result as Built; TypeError for anything else (a bug in the builder)."""
    if not isinstance(result, tuple) or len(result) != 3:
        raise TypeError("a job builder must return (bytes or path, file name, mime type)")
    content, file_name, mime = result
    if isinstance(content, bytearray):
        content = bytes(content)
    elif isinstance(content, str | os.PathLike):
        content = Path(content)
    elif not isinstance(content, bytes):
        raise TypeError("a job builder's content must be bytes or a path")
    if not isinstance(mime, str) or "/" not in mime:
        raise TypeError("a job builder must name a MIME type")
    return Built(content, files.safe_file_name(file_name), mime)


def run_job(job_id: str) -> None:
    """Run one queued job to its end: the consumer's task (needs an app context).

    The builder's DomainError fails the job with its message (in the owner's language); any
    other exception fails it with a general message and is logged. A job that is not queued
    (already run, given up) is left alone. Commits.
    """
    claim = _claim(job_id)
    if claim is None:
        return
    job_kind = registry.get_kind(claim.kind)
    if job_kind is None:
        _finish(job_id, status="failed", error="unknown_kind")
        return
    progress = Progress(
        partial(_write_progress, job_id),
        interval=float(current_app.config["JOBS_PROGRESS_INTERVAL"]),
        owner=db.session.get(User, claim.owner_id),
        locale=claim.locale,
        job_id=job_id,
        started_at=claim.started_at,
    )
    try:
        with files.scratch():
            with force_locale(claim.locale), read_snapshot():
                built = _checked(job_kind.builder(claim.params, progress))
            key, size = files.keep(job_id, built.content, built.file_name)
    except DomainError as err:
        _finish(job_id, status="failed", error="builder", message=err.message)
        return
    except Exception:
        log.exception("Job %s (%s) failed", job_id, claim.kind)
        db.session.rollback()
        _finish(job_id, status="failed", error="internal")
        return
    finished = _finish(
        job_id,
        status="done",
        done=progress.done,
        total=progress.total if progress.total is not None else progress.done,
        file_key=key,
        file_name=built.file_name,
        mime=built.mime,
        size=size,
    )
    if not finished:
        files.delete(key)


def mark_interrupted(job_id: str) -> None:
    """Fail a running job whose consumer stopped before it ended. Commits."""
    with unit_of_work():
        job = _locked(job_id)
        if job is not None and job.status == "running":
            _fail(job, "interrupted")


# --- the command line -------------------------------------------------------------------------------


def run_inline(
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    output: str | os.PathLike | None = None,
    locale: str | None = None,
) -> Built:
    """Run a kind's builder here and now, without a row or the queue (the CLI).

    `progress(done, total)` is called as the builder reports (see terminal_progress); the
    kind's validate gets actor=None. With `output` the file is written there (0600) and the
    result's content is that path. Raises what validate and the builder raise. Needs an app
    context; the language is `locale`, else the shell's.
    """
    job_kind = _kind_or_refuse(kind)
    params = dict(params or {})
    if job_kind.validate is not None:
        params = job_kind.validate(params, None)
    params_key(kind, params)
    tracker = Progress(progress, interval=0.2, locale=locale or "", started_at=utcnow())
    language = force_locale(locale) if locale else contextlib.nullcontext()
    with files.scratch():
        with language, read_snapshot():
            built = _checked(job_kind.builder(params, tracker))
        tracker.flush()
        if output is None:
            if isinstance(built.content, Path):  # the scratch file goes: hand over its bytes
                return Built(built.content.read_bytes(), built.file_name, built.mime)
            return built
        target = Path(output)
        _write_private(target, built.content)
    return Built(target, built.file_name, built.mime)


def _write_private(target: Path, content: bytes | Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(content, bytes):
                fh.write(content)
            else:
                with open(content, "rb") as src:
                    shutil.copyfileobj(src, fh)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if isinstance(content, Path):
        content.unlink(missing_ok=True)


# --- cleaning up ------------------------------------------------------------------------------------


class CleanupReport(NamedTuple):
    expired: int
    stalled: int
    stray: int


def cleanup(*, now: datetime | None = None) -> CleanupReport:
    """Delete the files of jobs past expires_at and mark them expired; fail unfinished jobs
    silent for longer than JOBS_STALE_AFTER; delete files no finished job names that are older
    than JOB_RETENTION (crashes, temporary files). Commits."""
    now = now or utcnow()
    cfg = current_app.config
    keys = []
    with unit_of_work():
        expired = db.session.scalars(
            sa.select(Job)
            .where(Job.status == "done", Job.expires_at <= now)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for job in expired:
            keys.append(job.file_key)
            job.status = "expired"
            job.file_key = None
            audit.record(None, "job.expire", job)
        silent_since = now - cfg["JOBS_STALE_AFTER"]
        stalled = db.session.scalars(
            sa.select(Job)
            .where(
                Job.status.in_(ACTIVE_STATUSES),
                sa.func.coalesce(Job.heartbeat_at, Job.created_at) < silent_since,
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for job in stalled:
            _fail(job, "stalled", now=now)
    for key in keys:
        files.delete(key)
    referenced = set(
        db.session.scalars(
            sa.select(Job.file_key).where(Job.status == "done", Job.file_key.is_not(None))
        )
    )
    stray = files.stray(referenced, older_than=cfg["JOB_RETENTION"].total_seconds())
    files.remove_stray(stray)
    return CleanupReport(len(expired), len(stalled), len(stray))
