"""The kinds of job feature packages plug in, and what a builder is given and returns.

A feature registers its kinds when its module is imported (create_app imports every blueprint),
so this package never imports a feature:

    jobs.register("export.year", builder=build_year, permission="exports.download",
                  title=year_title, validate=check_year)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

KIND_NAME = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")


class Built(NamedTuple):
    """What a builder returns: the file's content (bytes, or the path of a file it wrote), the
    name it downloads as, and its MIME type."""

    content: bytes | Path
    file_name: str
    mime: str


class Progress:
    """Handed to a builder as its second argument: call it as rows are written.

    `progress(done, total)` may be called as often as you like (every row); the job's row is
    written at most every JOBS_PROGRESS_INTERVAL seconds, and always when `total` changes.
    Also says who the job is for: `owner` (the User, None on the command line), `locale`,
    `job_id` (None on the command line) and `started_at`.
    """

    def __init__(
        self,
        report: Callable[[int, int | None], None] | None = None,
        *,
        interval: float = 1.0,
        owner: Any = None,
        locale: str = "zh_Hans_CN",
        job_id: str | None = None,
        started_at: datetime | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._report = report
        self._interval = interval
        self._clock = clock
        self._last_sent: float | None = None
        self.owner = owner
        self.locale = locale
        self.job_id = job_id
        self.started_at = started_at
        self.done = 0
        self.total: int | None = None
        self._sent: tuple[int, int | None] | None = None

    def __call__(self, done: int, total: int | None = None) -> None:
        done = max(0, int(done))
        total_changed = total is not None and total != self.total
        if total is not None:
            self.total = max(0, int(total))
        self.done = done
        now = self._clock()
        if (
            total_changed
            or self._last_sent is None
            or now - self._last_sent >= self._interval
            or (self.total is not None and done >= self.total)
        ):
            self._send(now)

    def flush(self) -> None:
        """Write the latest numbers now (the runner calls it when the builder returns)."""
        self._send(self._clock())

    def _send(self, now: float) -> None:
        self._last_sent = now
        if self._report is not None and self._sent != (self.done, self.total):
            self._sent = (self.done, self.total)
            self._report(self.done, self.total)


Builder = Callable[[dict[str, Any], Progress], Built | tuple[bytes | Path | str, str, str]]
Validator = Callable[[dict[str, Any], Any], dict[str, Any]]
Title = Any  # a (lazy) string, or a callable(params) -> str


@dataclass(frozen=True)
class JobKind:
    """A registered kind of job."""

    name: str
    builder: Builder
    permission: str
    title: Title
    validate: Validator | None = None

    def title_for(self, params: dict[str, Any]) -> str:
        """The job's title in the current language, e.g. "2026年度汇总"."""
        if callable(self.title):
            return str(self.title(params))
        return str(self.title)


_KINDS: dict[str, JobKind] = {}


def register(
    kind: str,
    *,
    builder: Builder,
    permission: str,
    title: Title,
    validate: Validator | None = None,
) -> JobKind:
    """Make a kind of job startable.

    builder(params, progress) -> (bytes or a path, file name, MIME type): runs in the consumer
    with an app context, in the owner's language (force_locale), reading a consistent snapshot
    of the database; it must not commit. Raise a DomainError for a failure the user should read.
    permission: an action of auth/permissions.py the starter needs (e.g. "exports.download").
    title: a (lazy) string or callable(params) -> str, shown in the job list and page.
    validate(params, actor) -> params: checks and normalises what a form or a caller sent (raise
    ValidationFailed, NotFound...); actor is None on the command line. Without it params pass
    as given. The result must be JSON (it is stored and compared to find a running twin).
    Registering the same kind twice with the same builder is a no-op; another builder under a
    taken name raises ValueError.
    """
    from ..auth.permissions import ROLE_ACTIONS

    if not KIND_NAME.fullmatch(kind) or len(kind) > 60:
        raise ValueError(f"job kind {kind!r}: use lower-case dotted names like 'export.year'")
    if permission not in ROLE_ACTIONS:
        raise ValueError(f"job kind {kind!r}: unknown permission {permission!r}")
    existing = _KINDS.get(kind)
    if existing is not None and existing.builder is not builder:
        raise ValueError(f"job kind {kind!r} is already registered")
    job_kind = JobKind(kind, builder, permission, title, validate)
    _KINDS[kind] = job_kind
    return job_kind


def unregister(kind: str) -> None:
    """Forget a kind (tests)."""
    _KINDS.pop(kind, None)


def get_kind(kind: str) -> JobKind | None:
    return _KINDS.get(kind)


def kinds() -> dict[str, JobKind]:
    """Every registered kind by name."""
    return dict(_KINDS)
