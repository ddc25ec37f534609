"""The one huey instance of an app, made from its config, and the tasks it runs.

SqliteHuey on a file in instance/ (one host), RedisHuey when REDIS_URL is set (several hosts),
and immediate mode (every job runs inline as it is started) when JOBS_IMMEDIATE is on, as in the
tests. Tasks carry only a job id: everything else is in the job's row. Each task runs in an app
context of its own, pushed on the app the consumer created once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.signals import SIGNAL_INTERRUPTED

from ..paths import private_dir

RUN_TASK = "jobs.run"
CLEANUP_TASK = "jobs.cleanup"
CONNECT_TIMEOUT = 1.0  # seconds to reach Redis
REPLY_TIMEOUT = 3.0  # seconds for its reply
# A coalescing task's "one is waiting" mark older than this does not stop a call from queuing
# the task: the process that set it may have died before queuing it (after a backlog that long,
# one more task is queued, nothing worse).
WAITING_STALE = 900  # seconds
log = logging.getLogger(__name__)


class Runtime:
    """An app's queue: huey is made on first use, so starting the app (a CLI command, the
    gunicorn master) opens no queue connection or file."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None
        self._lock = threading.Lock()
        self.run_task = None
        self.cleanup_task = None
        self._extra: dict[str, tuple] = {}  # add_task's (function, schedule), by name
        self._tasks: dict = {}

    @property
    def huey(self) -> Huey:
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    self._huey = self._make()
        return self._huey

    def _make(self) -> Huey:
        cfg = self.app.config
        immediate = bool(cfg["JOBS_IMMEDIATE"])
        name = cfg["JOBS_QUEUE_NAME"]
        if cfg.get("REDIS_URL"):
            # A Redis host gone dark costs a request that queues a task this long to find out
            # (to connect, or for a reply on a pooled connection), not the client's default of
            # 5 s; the reply's timeout stays above huey's 1 s wait for a task (BRPOP).
            pool = redis.ConnectionPool.from_url(
                cfg["REDIS_URL"],
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=REPLY_TIMEOUT,
            )
            huey: Huey = RedisHuey(name, connection_pool=pool, immediate=immediate, results=False)
        else:
            path = Path(cfg["JOBS_SQLITE_FILE"])
            if not immediate:
                _private_file(path)
            huey = SqliteHuey(name, filename=str(path), immediate=immediate, results=False)
        app = self.app

        def run_job(job_id: str) -> None:
            from . import services

            with _context(app):
                services.run_job(job_id)

        def cleanup() -> None:
            from . import services

            with _context(app):
                services.cleanup()

        def interrupted(signal, task, *args, **kwargs) -> None:
            # The consumer stopped at once (SIGTERM) while this job ran: say so in its row.
            if task.name == RUN_TASK and task.args:
                from . import services

                with _context(app):
                    services.mark_interrupted(task.args[0])

        for task_name, (fn, periodic, coalesce) in self._extra.items():
            make = (
                huey.task if periodic is None else functools.partial(huey.periodic_task, periodic)
            )
            starting = functools.partial(huey.delete, _waiting(task_name)) if coalesce else None
            self._tasks[task_name] = make(name=task_name)(_in_context(app, fn, starting))
        self.run_task = huey.task(name=RUN_TASK)(run_job)
        self.cleanup_task = huey.periodic_task(crontab(minute="*/15"), name=CLEANUP_TASK)(cleanup)
        huey.signal(SIGNAL_INTERRUPTED)(interrupted)
        return huey

    def add_task(
        self,
        name: str,
        fn: Callable[..., None],
        *,
        periodic: crontab | None = None,
        coalesce: bool = False,
    ):
        """A task of another package, run in an app context of its own (the dashboard's
        refresh); its arguments, if any, are plain values (huey pickles them into the queue);
        with `periodic` (no arguments), run on that schedule by consumers started without
        --no-periodic. With `coalesce` (a task without arguments whose run covers every call
        made before it starts), a call while one is queued and not started queues nothing: a
        burst of calls, or hours without a consumer, leaves one task waiting, not one per call.
        Added while the app is made, before the queue is first used."""
        if self._huey is not None:
            raise RuntimeError("tasks are added before the queue is first used")
        self._extra[name] = (fn, periodic, coalesce)

    def has_task(self, name: str) -> bool:
        return name in self._extra

    def call(self, name: str, *args: str | int) -> None:
        """Queue an added task with its arguments (in immediate mode: run it now). A coalescing
        task is queued only when none is waiting: a mark in the queue's own storage (lost with
        the queue, never without it) says one is, and the task takes it off as it starts."""
        huey = self.huey
        coalesce = self._extra[name][2]
        if coalesce and not _mark_waiting(huey, _waiting(name)):
            return
        try:
            self._tasks[name](*args)
        except BaseException:
            if coalesce:  # not queued: the next call queues it
                with contextlib.suppress(Exception):
                    huey.delete(_waiting(name))
            raise

    def enqueue(self, job_id: str) -> None:
        """Queue a job's task (in immediate mode: run it now, before returning)."""
        self.huey  # noqa: B018 - makes the tasks
        self.run_task(job_id)


@contextlib.contextmanager
def _context(app: Flask):
    """A fresh app context for one task, with its own database session, also when the task
    runs inline inside a request (immediate mode)."""
    with app.app_context():
        yield


def _waiting(task_name: str) -> str:
    return f"waiting:{task_name}"


def _mark_waiting(huey: Huey, mark: str) -> bool:
    """Set a coalescing task's mark; False when one set less than WAITING_STALE ago is there
    (the task it stands for is waiting). One that is gone by the time it is read was taken off
    by its task as it started: this call queues another."""
    if huey.put_if_empty(mark, time.time()):
        return True
    since = huey.get(mark, peek=True)
    if since is not None and time.time() - float(since) <= WAITING_STALE:
        return False
    huey.put(mark, time.time())
    return True


def _in_context(
    app: Flask, fn: Callable[..., None], starting: Callable[[], object] | None = None
) -> Callable[..., None]:
    def task(*args) -> None:
        if starting is not None:
            starting()
        with _context(app):
            fn(*args)

    task.__name__ = fn.__name__
    return task


def _private_file(path: Path) -> None:
    """Create the queue's SQLite file 0600 before SQLite creates it under the umask."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def init_app(app: Flask) -> None:
    """Fill in the jobs settings and attach the app's queue (app.extensions["jobs"])."""
    from datetime import timedelta

    cfg = app.config
    instance = Path(app.instance_path)
    cfg["JOBS_DIR"] = str(cfg.get("JOBS_DIR") or instance / "jobs")
    cfg["JOBS_SQLITE_FILE"] = str(cfg.get("JOBS_SQLITE_FILE") or instance / "jobs.sqlite")
    for key in ("JOB_RETENTION", "JOBS_STALE_AFTER"):
        if isinstance(cfg[key], int | float):
            cfg[key] = timedelta(seconds=cfg[key])
        if not isinstance(cfg[key], timedelta) or cfg[key] <= timedelta(0):
            from .. import ConfigurationError

            raise ConfigurationError(f"{key} must be a positive number of seconds.")
    app.extensions["jobs"] = Runtime(app)


def runtime() -> Runtime:
    return current_app.extensions["jobs"]
