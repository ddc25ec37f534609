"""Files expire: the cleanup (periodic task and `flask jobs cleanup`) deletes them, marks their
jobs expired, gives up silent jobs and removes files nobody names."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from inspect_app import jobs
from inspect_app.extensions import db
from inspect_app.jobs import files, services
from inspect_app.models import AuditEvent, Job, utcnow

from .kinds import COUNT


def _done_job(make, rows=5) -> Job:
    return jobs.start_job(COUNT, {"rows": rows}, actor=make.user(role="coordinator"))


def test_cleanup_deletes_expired_files_and_marks_their_jobs_expired(ctx, make):
    old, fresh = _done_job(make), _done_job(make)
    old_path = files.path_of(old.file_key)
    report = services.cleanup(now=old.expires_at + timedelta(seconds=1))
    assert report.expired == 2  # both were made just now; a day later both are past
    db.session.refresh(old)
    assert (old.status, old.file_key) == ("expired", None)
    assert not old_path.exists()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "job.expire")
        )
        == 2
    )
    assert fresh.id


def test_cleanup_keeps_files_that_have_not_expired(ctx, make):
    job = _done_job(make)
    report = services.cleanup(now=job.expires_at - timedelta(minutes=1))
    assert report.expired == 0
    db.session.refresh(job)
    assert job.status == "done" and files.path_of(job.file_key) is not None


def test_a_download_after_expiry_is_refused_even_before_the_cleanup_ran(ctx, make):
    job = _done_job(make)
    with pytest.raises(services.JobFileGone):
        services.open_download(job.id, actor=job.owner, now=job.expires_at)


def test_cleanup_gives_up_jobs_that_went_silent(ctx, make):
    owner = make.user(role="coordinator")
    long_ago = utcnow() - current_app.config["JOBS_STALE_AFTER"] - timedelta(seconds=5)
    jobs_ = []
    for status, seen in (("running", long_ago), ("queued", long_ago), ("running", utcnow())):
        job = Job(
            kind=COUNT,
            owner_id=owner.id,
            params={"rows": len(jobs_) + 1},
            params_key=services.params_key(COUNT, {"rows": len(jobs_) + 1}),
            locale="zh_Hans_CN",
            status=status,
            created_at=seen,
            heartbeat_at=seen,
        )
        db.session.add(job)
        jobs_.append(job)
    db.session.commit()
    assert services.cleanup().stalled == 2
    assert [j.status for j in jobs_] == ["failed", "failed", "running"]
    assert jobs_[0].error == "stalled"
    # The consumer that finally takes the given-up queued job leaves it alone.
    services.run_job(jobs_[1].id)
    db.session.refresh(jobs_[1])
    assert jobs_[1].status == "failed"


def test_cleanup_removes_old_files_no_job_names_and_keeps_young_ones(ctx, make):
    job = _done_job(make)
    folder = Path(current_app.config["JOBS_DIR"])
    stray, young = folder / ".tmp-crashed.xlsx", folder / ".tmp-in-progress.xlsx"
    stray.write_bytes(b"left by a crash")
    young.write_bytes(b"a builder is writing this")
    a_day_ago = time.time() - current_app.config["JOB_RETENTION"].total_seconds() - 60
    os.utime(stray, (a_day_ago, a_day_ago))
    os.utime(files.path_of(job.file_key), (a_day_ago, a_day_ago))  # old but named by its job
    report = services.cleanup()
    assert report.stray == 1
    assert not stray.exists() and young.exists()
    assert files.path_of(job.file_key) is not None
    young.unlink()


def test_flask_jobs_cleanup_reports_what_it_did(app, make):
    with app.app_context():
        job = _done_job(make)
        db.session.execute(
            sa.update(Job).where(Job.id == job.id).values(expires_at=utcnow() - timedelta(1))
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "已删除 1 个过期文件" in result.output


def test_the_worker_refuses_to_start_in_immediate_mode(app):
    result = app.test_cli_runner().invoke(args=["jobs", "worker"])
    assert result.exit_code != 0
    assert "JOBS_IMMEDIATE" in result.output
