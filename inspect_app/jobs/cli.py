"""`flask jobs worker` runs the job consumer; `flask jobs cleanup` deletes expired files (cron);
`terminal_progress` is the progress bar of CLI commands that run a builder inline."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Iterator

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import option
from . import queue, services

jobs_cli = AppGroup("jobs", help=_l("Background jobs: the consumer and the cleanup."))


@jobs_cli.command(
    "worker",
    help=_l(
        "Run the job consumer until stopped.\n\nCtrl-C (SIGINT) lets running jobs "
        "finish first (a second Ctrl-C stops at once); SIGTERM stops at once "
        "and marks running jobs as interrupted."
    ),
)
@option(
    "--workers",
    "-w",
    type=click.IntRange(1, 32),
    default=None,
    help=_l("Jobs run at once (threads). Default: JOBS_WORKERS."),
)
@option(
    "--no-periodic",
    is_flag=True,
    help=_l(
        "Do not run the cleanup every 15 minutes here (with several consumers, one is enough)."
    ),
)
def worker_command(workers: int | None, no_periodic: bool) -> None:
    runtime = queue.runtime()
    huey = runtime.huey
    if huey.immediate:
        raise click.UsageError(_("JOBS_IMMEDIATE is on: jobs run as they are started, no worker."))
    if not logging.getLogger("huey").handlers and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="[%(asctime)s] %(levelname)s %(name)s: %(message)s"
        )
    where = (
        current_app.config.get("REDIS_URL") and "Redis" or current_app.config["JOBS_SQLITE_FILE"]
    )
    click.echo(
        _(
            "Job consumer: queue %(where)s, files in %(dir)s.",
            where=where,
            dir=current_app.config["JOBS_DIR"],
        ),
        err=True,
    )
    consumer = huey.create_consumer(
        workers=workers or int(current_app.config["JOBS_WORKERS"]),
        worker_type="thread",
        periodic=not no_periodic,
        check_worker_health=True,
        max_delay=2.0,  # an idle queue is looked at every 2 s at most: a job starts promptly
    )
    consumer.run()


@jobs_cli.command(
    "cleanup",
    help=_l("Delete expired job files and give up jobs that stopped reporting (for cron)."),
)
def cleanup_command() -> None:
    report = services.cleanup()
    click.echo(
        _(
            "%(expired)d expired file(s) deleted, %(stalled)d silent job(s) given up, "
            "%(stray)d stray file(s) removed.",
            expired=report.expired,
            stalled=report.stalled,
            stray=report.stray,
        )
    )


@contextlib.contextmanager
def terminal_progress(label: str = "", *, file=None) -> Iterator[Callable[[int, int | None], None]]:
    """A progress callback for run_inline that draws a bar on stderr once the total is known:

    with terminal_progress(_("Rows")) as progress:
        jobs.run_inline("export.year", {"year": 2026}, progress=progress, output=path)
    """
    state: dict = {"bar": None, "shown": 0, "total": None}

    def progress(done: int, total: int | None) -> None:
        if total is not None and total != state["total"]:
            if state["bar"] is not None:
                state["bar"].__exit__(None, None, None)
            state["total"] = total
            state["bar"] = click.progressbar(length=total, label=label, file=file or sys.stderr)
            state["bar"].__enter__()
            state["shown"] = 0
        bar = state["bar"]
        if bar is not None and done > state["shown"]:
            bar.update(min(done, state["total"]) - state["shown"])
            state["shown"] = min(done, state["total"])

    try:
        yield progress
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
