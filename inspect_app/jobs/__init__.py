"""Background jobs with progress: a registry of job kinds, the huey queue, the job rows.

The API feature packages use (docs/jobs.md):

    from inspect_app import jobs

    jobs.register("export.year", builder=..., permission="exports.download", title=...)
    job = jobs.start_job("export.year", {"year": 2026}, actor=user, locale="zh_Hans_CN")
    built = jobs.run_inline("export.year", {"year": 2026}, progress=bar, output="y.xlsx")
"""

from .cli import terminal_progress
from .files import temp_path
from .queue import init_app
from .registry import Built, JobKind, Progress, get_kind, kinds, register, unregister
from .services import (
    JobFileGone,
    JobQueueUnavailable,
    cleanup,
    run_inline,
    start_job,
    visible_job,
)

__all__ = [
    "Built",
    "JobFileGone",
    "JobKind",
    "JobQueueUnavailable",
    "Progress",
    "cleanup",
    "get_kind",
    "init_app",
    "kinds",
    "register",
    "run_inline",
    "start_job",
    "temp_path",
    "terminal_progress",
    "unregister",
    "visible_job",
]
