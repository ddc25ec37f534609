"""Starting and running jobs in huey's immediate mode (the tests' setting): the row, the file,
the audit trail, failures, twins and the progress a running builder writes."""

from __future__ import annotations

import io
import stat
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app

from inspect_app import jobs
from inspect_app.errors import NotAllowed, ValidationFailed
from inspect_app.extensions import db
from inspect_app.jobs import display, files, queue, services
from inspect_app.models import AuditEvent, Job, utcnow

from .kinds import COUNT, FAIL_MESSAGE, MIME, expected_bytes, file_name


def _events(job_id: str) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.object_type == "Job", AuditEvent.object_id == job_id)
            .order_by(AuditEvent.id)
        )
    )


def _jobs_dir() -> Path:
    return Path(current_app.config["JOBS_DIR"])


def _queued(owner, kind=COUNT, params=None, **kw) -> Job:
    """A job row as start_job leaves it before the consumer takes it."""
    params = params if params is not None else {"rows": 5}
    job = Job(
        kind=kind,
        owner_id=owner.id,
        params=params,
        params_key=services.params_key(kind, params),
        locale="zh_Hans_CN",
        **kw,
    )
    db.session.add(job)
    db.session.commit()
    return job


def test_a_started_job_runs_to_completion_in_immediate_mode(ctx, make):
    coordinator = make.user(role="coordinator")
    job = jobs.start_job(COUNT, {"rows": "25"}, actor=coordinator, locale="en")
    assert job.status == "done" and not job.reused
    assert (job.done, job.total) == (25, 25)
    assert job.params == {"rows": 25}  # as the kind's validate normalised it
    assert job.locale == "en"
    assert (job.file_name, job.mime) == (file_name(25), MIME)
    assert files.path_of(job.file_key).read_bytes() == expected_bytes(25)
    assert job.size == len(expected_bytes(25))
    assert job.started_at <= job.finished_at
    assert job.expires_at == job.finished_at + timedelta(hours=24)
    assert _events(job.id) == ["job.start", "job.done"]


def test_job_files_are_private_to_the_app(ctx, make):
    job = jobs.start_job(COUNT, {"rows": 3}, actor=make.user(role="coordinator"))
    assert stat.S_IMODE(_jobs_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE(files.path_of(job.file_key).stat().st_mode) == 0o600


def test_a_builder_may_return_a_file_it_wrote_which_is_moved_into_place(ctx, make):
    job = jobs.start_job(COUNT, {"rows": 7, "as_path": "1"}, actor=make.user(role="viewer"))
    assert job.status == "done"
    assert files.path_of(job.file_key).read_bytes() == expected_bytes(7)
    assert not [p for p in _jobs_dir().iterdir() if p.name.startswith(files.TEMP_PREFIX)]


def test_a_failing_builder_marks_the_job_failed_with_its_message_and_leaves_no_file(ctx, make):
    before = set(_jobs_dir().iterdir()) if _jobs_dir().exists() else set()
    job = jobs.start_job(
        COUNT, {"rows": 10, "fail": "1", "as_path": "1"}, actor=make.user(role="coordinator")
    )
    assert job.status == "failed"
    assert (job.error, job.message) == ("builder", FAIL_MESSAGE.format(n=6))
    assert job.file_key is None and job.expires_at is None
    assert set(_jobs_dir().iterdir()) == before  # not even the half-written scratch file
    assert display.error_text(job) == FAIL_MESSAGE.format(n=6)
    assert _events(job.id) == ["job.start", "job.fail"]


def test_a_crashing_builder_fails_the_job_with_a_general_message(ctx, make, caplog):
    job = jobs.start_job(COUNT, {"rows": 10, "crash": "1"}, actor=make.user(role="coordinator"))
    assert (job.status, job.error, job.message) == ("failed", "internal", None)
    assert "the test builder crashed" in caplog.text  # logged for the administrator
    assert "the test builder crashed" not in display.error_text(job)


def test_starting_the_same_job_again_returns_the_one_under_way(ctx, make):
    coordinator, other = make.user(role="coordinator"), make.user(role="coordinator")
    running = _queued(coordinator, status="running", started_at=utcnow(), heartbeat_at=utcnow())
    events = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

    again = jobs.start_job(COUNT, {"rows": "5"}, actor=coordinator)  # "5" validates to 5

    assert again.id == running.id and again.reused and again.status == "running"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == events
    assert jobs.start_job(COUNT, {"rows": 6}, actor=coordinator).id != running.id
    assert jobs.start_job(COUNT, {"rows": 5}, actor=other).id != running.id


def test_a_finished_job_is_not_a_twin_a_new_one_starts(ctx, make):
    coordinator = make.user(role="coordinator")
    first = jobs.start_job(COUNT, {"rows": 5}, actor=coordinator)
    second = jobs.start_job(COUNT, {"rows": 5}, actor=coordinator)
    assert first.id != second.id and not second.reused


def test_a_twin_silent_for_too_long_is_given_up_and_a_new_job_started(ctx, make):
    coordinator = make.user(role="coordinator")
    long_ago = utcnow() - current_app.config["JOBS_STALE_AFTER"] - timedelta(minutes=1)
    dead = _queued(coordinator, status="running", started_at=long_ago, heartbeat_at=long_ago)
    fresh = jobs.start_job(COUNT, {"rows": 5}, actor=coordinator)
    assert fresh.id != dead.id and fresh.status == "done"
    db.session.refresh(dead)
    assert (dead.status, dead.error) == ("failed", "stalled")


def test_unknown_kind_and_bad_parameters_are_refused_and_nothing_is_stored(ctx, make):
    coordinator = make.user(role="coordinator")
    with pytest.raises(ValidationFailed):
        jobs.start_job("no.such.kind", {}, actor=coordinator)
    with pytest.raises(ValidationFailed):
        jobs.start_job(COUNT, {"rows": "many"}, actor=coordinator)
    with pytest.raises(ValidationFailed):
        jobs.start_job(COUNT, {"rows": 0}, actor=coordinator)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_parameters_too_long_to_store_are_refused(ctx, make):
    jobs.register("test.echo", builder=_echo, permission="exports.download", title="echo")
    try:
        with pytest.raises(ValidationFailed):
            jobs.start_job("test.echo", {"x": "长" * 4000}, actor=make.user(role="admin"))
    finally:
        jobs.unregister("test.echo")


def _echo(params, progress):
    return b"echo", "echo.txt", "text/plain"


@pytest.mark.parametrize("role", ["inspector", "unit"])
def test_users_without_the_kinds_permission_cannot_start_it(ctx, make, role):
    with pytest.raises(NotAllowed):
        jobs.start_job(COUNT, {"rows": 5}, actor=make.user(role=role))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_progress_reaches_the_row_while_the_builder_runs(ctx, make):
    seen = []

    def peek(params, progress):
        progress(0, 4000)
        for n in range(1, 4001):
            progress(n)
            if n == 2500:  # what a reloaded page would read now
                seen.append(db.session.execute(sa.select(Job.done, Job.total)).one())
        return b"x", "x.txt", "text/plain"

    current_app.config["JOBS_PROGRESS_INTERVAL"] = 0
    jobs.register("test.peek", builder=peek, permission="exports.download", title="peek")
    try:
        job = jobs.start_job("test.peek", {}, actor=make.user(role="coordinator"))
    finally:
        jobs.unregister("test.peek")
        current_app.config["JOBS_PROGRESS_INTERVAL"] = 1.0
    assert seen == [(2500, 4000)]
    assert (job.done, job.total) == (4000, 4000)


def test_the_builder_runs_in_the_owners_language_and_knows_the_owner(ctx, make):
    from flask_babel import get_locale

    got = {}

    def who(params, progress):
        got.update(locale=str(get_locale()), owner=progress.owner.username, job=progress.job_id)
        return b"x", "x.txt", "text/plain"

    owner = make.user(role="viewer", username="job_owner")
    jobs.register("test.who", builder=who, permission="exports.download", title="who")
    try:
        job = jobs.start_job("test.who", {}, actor=owner, locale="en")
    finally:
        jobs.unregister("test.who")
    assert got == {"locale": "en", "owner": "job_owner", "job": job.id}


def test_a_job_whose_queue_cannot_be_reached_fails_and_says_so(ctx, make, monkeypatch):
    def unreachable(job_id):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(queue.runtime(), "enqueue", unreachable)
    with pytest.raises(services.JobQueueUnavailable) as refused:
        jobs.start_job(COUNT, {"rows": 5}, actor=make.user(role="coordinator"))
    assert refused.value.status_code == 503
    job = db.session.scalar(sa.select(Job))
    assert (job.status, job.error) == ("failed", "queue")


def test_a_job_that_is_not_queued_is_not_run_twice(ctx, make):
    job = jobs.start_job(COUNT, {"rows": 5}, actor=make.user(role="coordinator"))
    finished = job.finished_at
    services.run_job(job.id)  # huey delivering the task a second time
    db.session.refresh(job)
    assert job.status == "done" and job.finished_at == finished
    assert _events(job.id) == ["job.start", "job.done"]


def test_a_queued_job_of_a_kind_no_longer_registered_fails(ctx, make):
    job = _queued(make.user(role="coordinator"), kind="gone.kind", params={})
    services.run_job(job.id)
    db.session.refresh(job)
    assert (job.status, job.error) == ("failed", "unknown_kind")


def test_an_interrupted_job_is_marked_so_and_its_late_result_is_dropped(ctx, make):
    job = _queued(make.user(role="coordinator"))
    services._claim(job.id)
    services.mark_interrupted(job.id)
    # The builder's thread ends after its consumer stopped: the row stays failed, no file kept.
    assert not services._finish(job.id, status="done", file_key="x", done=1, total=1)
    db.session.refresh(job)
    assert (job.status, job.error, job.file_key) == ("failed", "interrupted", None)


def test_progress_writes_are_throttled_but_a_new_total_and_the_end_always_go_out():
    sent, clock = [], [0.0]
    progress = jobs.Progress(lambda d, t: sent.append((d, t)), interval=1.0, clock=lambda: clock[0])
    progress(0, 100)
    for n in range(1, 50):
        progress(n)
    clock[0] = 1.5
    progress(50)
    progress(51, 200)  # a new total
    progress(200)
    assert sent == [(0, 100), (50, 100), (51, 200), (200, 200)]


def test_run_inline_builds_the_file_with_progress_and_without_a_row(ctx, tmp_path):
    seen = []
    out = tmp_path / "out.csv"
    built = jobs.run_inline(
        COUNT,
        {"rows": "2000", "as_path": "1"},
        progress=lambda d, t: seen.append((d, t)),
        output=out,
    )
    assert built == (out, file_name(2000), MIME)
    assert out.read_bytes() == expected_bytes(2000)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert seen[0] == (0, 2000) and seen[-1] == (2000, 2000)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0
    assert not [p for p in _jobs_dir().iterdir() if p.name.startswith(files.TEMP_PREFIX)]


def test_run_inline_refuses_bad_parameters(ctx):
    with pytest.raises(ValidationFailed):
        jobs.run_inline(COUNT, {"rows": -1})


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_progress_draws_a_bar_once_the_total_is_known(ctx):
    terminal = _Terminal()
    with jobs.terminal_progress("Rows", file=terminal) as progress:
        jobs.run_inline(COUNT, {"rows": 300}, progress=progress)
    assert "Rows" in terminal.getvalue() and "100%" in terminal.getvalue()


def test_registering_a_kind_checks_its_name_permission_and_builder():
    with pytest.raises(ValueError):
        jobs.register("Bad Name", builder=_echo, permission="exports.download", title="x")
    with pytest.raises(ValueError):
        jobs.register("test.perm", builder=_echo, permission="no.such.action", title="x")
    with pytest.raises(ValueError):  # taken by the test kinds with another builder
        jobs.register(COUNT, builder=_echo, permission="exports.download", title="x")


def test_safe_file_names_keep_chinese_and_the_extension_but_no_paths():
    assert (
        files.safe_file_name("2026年第3轮网络安全检查汇总.xlsx")
        == "2026年第3轮网络安全检查汇总.xlsx"
    )
    assert files.safe_file_name("../../etc/passwd") == "etc_passwd"
    assert files.safe_file_name("a\x00b\nc.csv") == "a_b_c.csv"
    assert files.safe_file_name("") == "download"
    long = files.safe_file_name("长" * 300 + ".xlsx")
    assert len(long) == 150 and long.endswith(".xlsx")
