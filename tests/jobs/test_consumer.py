"""A real consumer: `flask jobs worker` in a subprocess takes a job queued by this process in
the SQLite queue file, runs it while this process watches the row move, and the file downloads
through the route. Own committed database: the consumer cannot see a test's transaction."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from inspect_app import create_app, jobs
from inspect_app.extensions import db
from inspect_app.models import Job, User

from ..conftest import Browser, make_test_config
from ..factories import Factory
from .kinds import COUNT, expected_bytes
from .worker_app import start_worker, stop_worker


@pytest.fixture(scope="module")
def queued_app(new_database_url, tmp_path_factory):
    """An app with a real queue (SqliteHuey on a file), its own migrated database, a user."""
    tmp = tmp_path_factory.mktemp("consumer")
    config = make_test_config(new_database_url(), tmp)
    config.update(JOBS_IMMEDIATE=False, JOBS_PROGRESS_INTERVAL=0.05)
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        Factory().user(role="coordinator", username="consumer_coord")
        db.session.remove()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_app(queued_app):
    """The same app and database with the queue in Redis (as with INSPECT_REDIS_URL)."""
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    try:
        store.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    name = f"test-jobs-{uuid.uuid4().hex}"
    config = {**queued_app.config, "REDIS_URL": REDIS_URL, "JOBS_QUEUE_NAME": name}
    config["RATELIMIT_STORAGE_URI"] = "memory://"  # the limiter of the other tests stays
    app = create_app(
        {k: v for k, v in config.items() if k.isupper() and k != "SQLALCHEMY_ENGINE_OPTIONS"}
    )
    yield app
    for key in store.keys(f"*{name}*"):
        store.delete(key)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def worker(queued_app, tmp_path):
    log = tmp_path / "worker.log"
    process = start_worker(queued_app.config, log)
    yield process
    stop_worker(process)
    print(log.read_text(errors="replace")[-4000:])  # shown when the test fails


def _row(app, job_id):
    with app.app_context():
        row = db.session.execute(
            sa.select(Job.status, Job.done, Job.total, Job.error, Job.message).where(
                Job.id == job_id
            )
        ).one()
        db.session.remove()
        return row


def _wait(app, job_id, until, timeout=90.0):
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = _row(app, job_id)
        seen.append(row)
        if until(row):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there: last {seen[-1:]}")


def _coordinator():
    return db.session.scalar(sa.select(User).where(User.username == "consumer_coord"))


def test_a_consumer_process_runs_a_queued_job_and_the_file_downloads(queued_app, worker):
    with queued_app.app_context():
        job = jobs.start_job(COUNT, {"rows": 3000, "delay": 0.3, "read": "1"}, actor=_coordinator())
        job_id, status = job.id, job.status
        db.session.remove()
    assert status == "queued"  # a real queue: this process does not run it

    seen = _wait(queued_app, job_id, lambda row: row.status not in ("queued", "running"))
    assert seen[-1].status == "done", (seen[-1], worker.poll())
    assert (seen[-1].done, seen[-1].total) == (3000, 3000)
    # The row moved while it ran: a page reloaded meanwhile showed rows written so far.
    partial = [row.done for row in seen if row.status == "running" and 0 < row.done < 3000]
    assert partial and partial == sorted(partial)

    browser = Browser(queued_app.test_client())
    browser.login("consumer_coord")
    html = browser.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "已写 3,000 / 3,000 行" in html
    response = browser.get(f"/jobs/{job_id}/file")
    assert response.status_code == 200 and response.get_data() == expected_bytes(3000)
    response.close()


def test_a_consumer_stopped_at_once_marks_its_running_job_interrupted(queued_app, worker):
    with queued_app.app_context():
        job_id = jobs.start_job(COUNT, {"rows": 100, "delay": 2}, actor=_coordinator()).id
        db.session.remove()
    _wait(queued_app, job_id, lambda row: row.status == "running")
    stop_worker(worker)  # SIGTERM: stop now
    row = _row(queued_app, job_id)
    assert (row.status, row.error) == ("failed", "interrupted")


def test_with_redis_a_consumer_process_runs_the_job(redis_app, tmp_path):
    """Several hosts: the web app and a consumer anywhere share the queue in Redis."""
    worker = start_worker(redis_app.config, tmp_path / "worker.log")
    try:
        with redis_app.app_context():
            job_id = jobs.start_job(COUNT, {"rows": 1234}, actor=_coordinator()).id
            db.session.remove()
        seen = _wait(redis_app, job_id, lambda row: row.status not in ("queued", "running"))
    finally:
        stop_worker(worker)
    log = (tmp_path / "worker.log").read_text()
    assert (seen[-1].status, seen[-1].done) == ("done", 1234), log
    assert "队列 Redis" in log
    assert type(redis_app.extensions["jobs"].huey).__name__ == "RedisHuey"


def test_in_redis_the_refresh_waits_in_the_queue_once(redis_app):
    """jobs/queue.py: the coalescing mark is Redis's SET NX in the queue's own store."""
    from inspect_app.dashboard import snapshots

    runtime = redis_app.extensions["jobs"]
    for _ in range(4):
        runtime.call(snapshots.TASK)
    assert runtime.huey.pending_count() == 1
    runtime.huey.flush()  # the mark goes with the queue


def test_a_change_that_may_move_a_figure_has_the_consumer_compute_the_dashboard(queued_app, worker):
    """dashboard/snapshots.py: the commit queues the refresh task, this process does not run it,
    the consumer stores the year's overview, its charts and the annual report for the new data
    version."""
    from inspect_app import audit
    from inspect_app.clock import local_today
    from inspect_app.dashboard import snapshots
    from inspect_app.dashboard.cache import data_version
    from inspect_app.models import FigureSnapshot

    queued_app.config["DASHBOARD_CACHE_SECONDS"] = 300
    try:
        with queued_app.app_context():
            # a consumer stopped at once by an earlier test may have left the refresh's lock
            # (taken over after LOCK_STALE): not this test's subject
            db.session.execute(
                sa.delete(FigureSnapshot).where(FigureSnapshot.key == snapshots.LOCK)
            )
            audit.record(None, "round.update", object_type="Round", object_id=1)
            db.session.commit()
            version = data_version()
            expected = len(snapshots.targets(local_today()))  # the home, its charts, the report
            db.session.remove()
    finally:
        queued_app.config["DASHBOARD_CACHE_SECONDS"] = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with queued_app.app_context():
            stored = db.session.scalars(sa.select(FigureSnapshot.version)).all()
            db.session.remove()
        if stored == [version] * expected:  # (the renewal may have stored an older version)
            break
        time.sleep(0.1)
    assert stored == [version] * expected, worker.poll()


def test_a_view_asked_for_is_kept_by_the_consumer(queued_app, worker):
    """dashboard/snapshots.py: a page load that computed a view with a filter queues the keep
    task with the view's scope; the consumer marks it asked for and stores its figures."""
    import json

    from inspect_app.clock import local_today
    from inspect_app.dashboard import snapshots
    from inspect_app.models import FigureSnapshot
    from inspect_app.reports.figures import Scope

    scope = Scope(year=local_today().year, department="PSB")
    overview = snapshots.stored_key(("overview", scope, local_today()))
    with queued_app.app_context():
        db.session.execute(sa.delete(FigureSnapshot).where(FigureSnapshot.key == snapshots.LOCK))
        db.session.commit()
        queued_app.extensions["jobs"].call(snapshots.KEEP_TASK, json.dumps(snapshots.encode(scope)))
        db.session.remove()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with queued_app.app_context():
            keys = set(db.session.scalars(sa.select(FigureSnapshot.key)))
            db.session.remove()
        if overview in keys:
            break
        time.sleep(0.1)
    assert overview in keys and snapshots._asked_key(scope) in keys, worker.poll()
