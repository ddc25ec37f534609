"""The one huey instance of an app, chosen from its config: a private SQLite file embedded,
Redis with REDIS_URL, immediate mode in the tests; made only when first used."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from inspect_app import ConfigurationError, create_app
from inspect_app.jobs import queue

from ..conftest import make_test_config


def _app(database_url, tmp_path, **config):
    return create_app({**make_test_config(database_url, tmp_path), **config})


def test_the_tests_run_jobs_in_immediate_mode(app):
    assert app.extensions["jobs"].huey.immediate


def test_the_embedded_queue_is_a_sqlite_file_only_the_app_may_read(database_url, tmp_path):
    queue_file = tmp_path / "queue" / "jobs.sqlite"
    app = _app(database_url, tmp_path, JOBS_IMMEDIATE=False, JOBS_SQLITE_FILE=str(queue_file))
    assert not queue_file.exists()  # nothing is opened until a job is queued or a worker runs
    huey = app.extensions["jobs"].huey
    assert type(huey).__name__ == "SqliteHuey" and not huey.immediate
    assert stat.S_IMODE(queue_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(queue_file.parent.stat().st_mode) == 0o700


def test_with_redis_the_queue_is_in_redis_and_gives_up_on_it_within_seconds(database_url, tmp_path):
    """On the server and database configured. A Redis host gone dark (packets dropped, not
    refused) costs a request that queues a task 1 s to connect or 3 s for a reply, not the
    client's default of 5 s (above huey's 1 s wait for a task)."""
    app = _app(
        database_url,
        tmp_path,
        JOBS_IMMEDIATE=False,
        REDIS_URL="redis://127.0.0.1:6379/15",
        RATELIMIT_STORAGE_URI="memory://",
    )
    huey = app.extensions["jobs"].huey
    assert type(huey).__name__ == "RedisHuey"
    kwargs = huey.storage.pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6379, 15)
    assert kwargs["socket_connect_timeout"] == queue.CONNECT_TIMEOUT == 1.0
    assert kwargs["socket_timeout"] == queue.REPLY_TIMEOUT == 3.0


def test_jobs_settings_default_to_the_instance_folder_and_a_day(database_url, tmp_path):
    config = make_test_config(database_url, tmp_path)
    for key in ("JOBS_DIR", "JOBS_SQLITE_FILE"):
        config.pop(key)
    app = create_app(config)
    instance = Path(app.instance_path)
    assert app.config["JOBS_DIR"] == str(instance / "jobs")
    assert app.config["JOBS_SQLITE_FILE"] == str(instance / "jobs.sqlite")
    assert app.config["JOB_RETENTION"] == timedelta(hours=24)


def test_durations_may_be_given_in_seconds_and_must_be_positive(database_url, tmp_path):
    app = _app(database_url, tmp_path, JOB_RETENTION=3600, JOBS_STALE_AFTER=600)
    assert app.config["JOB_RETENTION"] == timedelta(hours=1)
    assert app.config["JOBS_STALE_AFTER"] == timedelta(minutes=10)
    with pytest.raises(ConfigurationError):
        _app(database_url, tmp_path, JOB_RETENTION=0)


def _queued_app(database_url, tmp_path):
    """A real queue (a SQLite file) and no consumer; the dashboard's cache off, so its refresh
    task, run by hand here, does nothing but start."""
    app = _app(
        database_url,
        tmp_path,
        JOBS_IMMEDIATE=False,
        JOBS_SQLITE_FILE=str(tmp_path / "queue.sqlite"),
        DASHBOARD_CACHE_SECONDS=0,
    )
    return app, app.extensions["jobs"]


def test_a_coalescing_task_waits_in_the_queue_once_however_often_it_is_called(
    database_url, tmp_path
):
    """With no consumer running, the dashboard's refresh, called at every change, used to leave
    one task per change in the queue."""
    from inspect_app.dashboard import snapshots

    app, runtime = _queued_app(database_url, tmp_path)
    huey = runtime.huey
    for _ in range(5):
        runtime.call(snapshots.TASK)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())  # as a consumer: the task takes the mark off as it starts
    assert huey.pending_count() == 0
    runtime.call(snapshots.TASK)
    runtime.call(snapshots.TASK)
    assert huey.pending_count() == 1
    # A task with arguments, each call its own work, is queued at every call.
    for _ in range(3):
        runtime.call(snapshots.KEEP_TASK, "{}")
    assert huey.pending_count() == 4


def test_a_call_that_could_not_queue_leaves_no_mark_behind(database_url, tmp_path, monkeypatch):
    from inspect_app.dashboard import snapshots

    app, runtime = _queued_app(database_url, tmp_path)
    huey = runtime.huey

    def refused(task):
        raise ConnectionError("the queue is down")

    monkeypatch.setattr(huey, "enqueue", refused)
    with pytest.raises(ConnectionError):
        runtime.call(snapshots.TASK)
    monkeypatch.undo()
    assert huey.get(queue._waiting(snapshots.TASK), peek=True) is None
    runtime.call(snapshots.TASK)
    assert huey.pending_count() == 1


def test_a_mark_whose_task_was_never_queued_stops_nothing_once_stale(database_url, tmp_path):
    """A process killed between setting the mark and queuing the task would otherwise stop the
    refresh from ever being queued again (with a consumer or without: no cleanup is needed)."""
    import time

    from inspect_app.dashboard import snapshots

    app, runtime = _queued_app(database_url, tmp_path)
    huey = runtime.huey
    mark = queue._waiting(snapshots.TASK)
    huey.put(mark, time.time() - 60)  # recent: its task may still be on its way
    runtime.call(snapshots.TASK)
    assert huey.pending_count() == 0
    huey.put(mark, time.time() - queue.WAITING_STALE - 1)
    runtime.call(snapshots.TASK)
    runtime.call(snapshots.TASK)  # the mark is fresh again
    assert huey.pending_count() == 1
