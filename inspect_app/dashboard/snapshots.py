"""The dashboard's figures computed ahead of the page loads, shared by every worker and host.

Each process keeps the figures it computed (cache.py) while the data version is unchanged, but
the first load after a change that may move a figure (a submission, a rectification step, a
plan) computed them again: 70–120 ms at a year's full size (bench/README.md), paid by whichever
leader opened the dashboard first, once in each worker. Now each such commit queues the refresh
task (audit's figures_changed signal, after the commit), which computes the coordinators' and
viewers' home (the year's overview, no filters, and its charts), the year's annual report and
the dashboard of the round under way in the job consumer, and stores them here for the data
version it read. The statement a page load reads the data version with also tells whether they
are stored; a load that misses its own process's cache then reads them in one statement
instead of counting again.

Any other view of this year (a round, a lead department, a unit kind) is kept ahead once it has
been opened: a page load that found none stored computes the figures itself, as before, and
queues the keep task, which marks the view as asked for (a row whose key starts with ASKED,
holding its scope) and refreshes; from then on every refresh computes it too, for the
DASHBOARD_KEPT_VIEWS views opened last within ASKED_KEEP (a load that reads a kept view's stored
figures asks again, once an hour in a process, so the mark follows the view's use). Until the
task has run the page computes its figures: what is served is always the figures of the current
data version, read within the cache's bound.

Stored as typed JSON (dataclasses, dates and tuples tagged, decoded only into the figure
classes listed here), not pickle: a row of the database is never code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from huey import crontab
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..audit.services import figures_changed
from ..clock import local_today
from ..extensions import db
from ..labels import LEAD_LABELS
from ..models import UNIT_KINDS, FigureSnapshot, Round, utcnow
from ..reports import figures
from ..transaction import read_snapshot
from . import charts, services

TASK = "dashboard.refresh"
# Every minute: what is missing (a new day's keys) or half as old as DASHBOARD_CACHE_SECONDS is
# computed again, so a page load finds figures made within the bound whenever a consumer runs.
RENEW_TASK = "dashboard.renew"
# Queued by a page load that computed a view with a filter itself: keep that view ahead.
KEEP_TASK = "dashboard.keep"
# An asked-for view's marker: its key starts with this (a sha256 hex never does), its payload is
# the view's scope, its made_at when it was last asked for (computed() and used()); dropped
# after ASKED_KEEP.
ASKED = "asked-"
ASKED_KEEP = timedelta(days=7)
# Part of every stored key: a release that changes what the figures hold changes this, and
# reads none of an older release's rows.
FORMAT = 2  # 2: a unit's row holds its visits against the cap; rates are exact
# Rows of earlier days are read no more (a key holds its day); the task deletes those older
# than this.
KEEP = timedelta(days=2)
# The lock row's key (never a sha256 hex: no figures are stored under it), how long a holder
# may keep it before another refresh takes it over, and how many times one refresh computes
# again for changes made meanwhile before it leaves the rest to the next task.
LOCK = "refresh-lock"
# A round takes about 0.3 s at a year's full size; on SQLite taking the lock or writing may also
# wait for the write lock, up to its busy timeout of 30 s.
LOCK_STALE = timedelta(seconds=90)
ROUNDS = 5
QUIET = 30  # seconds without queueing after the queue could not be reached
QUIET_UNTIL = "dashboard.refresh_quiet_until"  # in app.extensions: this app's own
# In app.extensions: the views this process asked to keep, and until when it does not ask again:
# QUIET seconds after computing one (loads that race the task compute it too; one task is
# enough), ASK_AGAIN after reading one stored (the mark's time follows the view's use).
ASKED_RECENTLY = "dashboard.asked_recently"
ASK_AGAIN = 3600
log = logging.getLogger(__name__)

_CLASSES = {
    cls.__name__: cls
    for cls in (
        figures.Scope,
        figures.InspectionCounts,
        figures.Compliance,
        figures.Coverage,
        figures.Rectification,
        figures.UnitRow,
        figures.RoundRow,
        figures.OverdueRow,
        services.Overview,
        services.DepartmentRow,
        services.AnnualReport,
        charts.Chart,
    )
}


# --- the stored form ------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """The figures as JSON values: a dataclass as {"$": name, "v": [its fields in order]}, a
    date as {"$d": iso}, a tuple as {"$t": [...]}."""
    if dataclasses.is_dataclass(value) and type(value).__name__ in _CLASSES:
        return {
            "$": type(value).__name__,
            "v": [encode(getattr(value, f.name)) for f in dataclasses.fields(value)],
        }
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, tuple):
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise TypeError(f"not a figure: {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$" in value:
            return _CLASSES[value["$"]](*[decode(v) for v in value["v"]])
        if "$d" in value:
            return date.fromisoformat(value["$d"])
        return tuple(decode(v) for v in value["$t"])
    return value


def stored_key(key: tuple) -> str:
    """A cache key (cache.py: its kind, scope or year, day) as the row's key: its text is the
    same in every process (dataclasses, dates, ints and strings only)."""
    return hashlib.sha256(repr((FORMAT, key)).encode()).hexdigest()


# --- reading and writing ----------------------------------------------------------------------------


def storable(key: tuple) -> bool:
    """Whether the task may store figures under this key (targets): this year's dashboard, with
    or without filters, and its charts, this year's annual report, today; and the task is on.
    Any other key (another year or day) is computed without a look here. (The look costs
    nothing: the statement reads the data version anyway.)"""
    if not current_app.config.get("DASHBOARD_REFRESH"):
        return False
    today = local_today()
    match key:
        case ("overview", scope, day):
            return _this_year(scope, today) and day == today
        case ("annual", year, day):
            return year == today.year and day == today
        case ("chart", _name, scope, day, _language):
            return _this_year(scope, today) and day == today
    return False


def _this_year(scope: figures.Scope, today: date) -> bool:
    """A dashboard's scope of this year (its filters: a round, a department, a unit kind)."""
    return (
        isinstance(scope, figures.Scope)
        and type(scope.year) is int
        and scope.year == today.year
        and scope.unit_id is None
    )


def version_and_stored(key: tuple) -> tuple[int | None, datetime | None]:
    """The data version (cache.data_version) and, in the same statement, when the figures stored
    for the key at that version were made (None when there are none)."""
    from .cache import version_select

    version = version_select().scalar_subquery()
    made = (
        sa.select(FigureSnapshot.made_at)
        .where(FigureSnapshot.key == stored_key(key), FigureSnapshot.version == version)
        .scalar_subquery()
    )
    row = db.session.execute(sa.select(version, made)).one()
    return row[0], row[1]


def read(key: tuple, version: int) -> Any | None:
    """The figures stored for the key at this data version (one statement), or None: none are,
    or not in a form this release reads."""
    payload = db.session.scalar(
        sa.select(FigureSnapshot.payload).where(
            FigureSnapshot.key == stored_key(key), FigureSnapshot.version == version
        )
    )
    if payload is None:
        return None
    try:
        return decode(json.loads(payload))
    except (KeyError, TypeError, ValueError):  # not a form this release writes: computed again
        log.warning("A stored figure snapshot could not be read; the figures are computed.")
        return None


def write(key: tuple, version: int, value: Any, made_at: datetime) -> None:
    """Store the figures computed at `version` for the key, unless a newer version is stored;
    `made_at`: when the data they show was read (the bound is counted from then)."""
    row = {
        "key": stored_key(key),
        "version": version,
        "made_at": made_at,
        "payload": json.dumps(encode(value), ensure_ascii=False, separators=(",", ":")),
    }
    stmt = _insert().values(row)
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[FigureSnapshot.key],
            set_={
                "version": stmt.excluded.version,
                "made_at": stmt.excluded.made_at,
                "payload": stmt.excluded.payload,
            },
            where=FigureSnapshot.version <= stmt.excluded.version,
        )
    )


# --- the task ---------------------------------------------------------------------------------


def targets(today: date) -> dict[tuple, Any]:
    """What the task computes: the key the page loads look up (routes.py) and how to compute
    it. The coordinators' and viewers' home is the dashboard of this year without filters, with
    its charts (their titles and labels in each of the app's languages, the figures counted
    once), and the annual report, whose charts are the same; then the same dashboard for the
    round under way (services.current_round), a link away on the home."""
    home = figures.Scope(year=today.year)
    made: dict[tuple, Any] = {
        ("annual", today.year, today): lambda: services.annual_report(today.year, today),
    }
    shown = {}
    for locale in current_app.config["LANGUAGES"]:
        with force_locale(locale):
            shown[locale] = str(get_locale())  # as the chart route spells it
    rounds = _rounds(today)
    under_way = services.current_round(rounds, today)
    scopes = [home]
    if under_way is not None:
        scopes.append(dataclasses.replace(home, round_id=under_way.round_id))
    for scope in asked_scopes(today, {r.round_id for r in rounds}):
        if scope not in scopes:
            scopes.append(scope)
    for scope in scopes:
        made[("overview", scope, today)] = functools.partial(services.overview, scope, today)
        for name in services.CHARTS:
            counted = functools.cache(functools.partial(services.chart_figures, name, scope, today))
            for locale, spelled in shown.items():
                made[("chart", name, scope, today, spelled)] = functools.partial(
                    _in_language, locale, _drawn, name, counted, scope
                )
    return made


def _rounds(today: date) -> list:
    """This year's rounds with what services.current_round reads (the round under way, as the
    home shows it: a round's status and dates)."""
    return db.session.execute(
        sa.select(Round.id.label("round_id"), Round.status, Round.start_date, Round.end_date)
        .where(Round.year == today.year)
        .order_by(Round.seq)
    ).all()


# --- views asked for ---------------------------------------------------------------------------


def _is_asked() -> sa.ColumnElement[bool]:
    return FigureSnapshot.key.startswith(ASKED)


def _asked_key(scope: figures.Scope) -> str:
    return ASKED + stored_key(("asked", scope))[: 64 - len(ASKED)]


def asked_scopes(today: date, round_ids: set[int]) -> list[figures.Scope]:
    """The views opened last (at most DASHBOARD_KEPT_VIEWS, newest first) that are still views
    of this year's dashboard."""
    return [scope for _key, scope in _marks(today, round_ids)]


def _marks(today: date, round_ids: set[int]) -> list[tuple[str, figures.Scope]]:
    """The asked-for marks that are views of this year's dashboard, newest first, at most
    DASHBOARD_KEPT_VIEWS (keep() deletes the others, so these are all there are, or one more)."""
    limit = current_app.config.get("DASHBOARD_KEPT_VIEWS") or 0
    if limit <= 0:
        return []
    rows = db.session.execute(
        sa.select(FigureSnapshot.key, FigureSnapshot.payload)
        .where(_is_asked())
        .order_by(FigureSnapshot.made_at.desc(), FigureSnapshot.key)
    )
    marks = [(key, _view(payload, today, round_ids)) for key, payload in rows]
    return [(key, scope) for key, scope in marks if scope is not None][:limit]


def _view(payload: str, today: date, round_ids: set[int]) -> figures.Scope | None:
    """An asked-for view's scope, if it is one the dashboard shows: this year, not the home (the
    task computes it anyway), a round of this year, a lead department and a unit kind we know.
    None for anything else (the queue's argument is checked like a request's)."""
    try:
        scope = decode(json.loads(payload))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError):
        return None
    if not isinstance(scope, figures.Scope) or not _this_year(scope, today):
        return None
    checks = (
        (scope.round_id, int, round_ids),
        (scope.department, str, LEAD_LABELS),
        (scope.unit_kind, str, UNIT_KINDS),
    )
    for value, kind, allowed in checks:
        if value is not None and (type(value) is not kind or value not in allowed):
            return None
    return None if _is_home(scope) else scope


def _is_home(scope: figures.Scope) -> bool:
    """The year without filters: the task computes it anyway, nothing to ask for."""
    return scope == figures.Scope(year=scope.year)


def computed(key: tuple, value: Any) -> None:
    """A page load computed a dashboard's figures itself, none being stored for the data
    version. For a view with a filter, queue the keep task, so the task computes that view (and
    its charts) ahead from now on; not for a round that is not one of the year's (the page shows
    the year instead). Charts ask nothing: the page that shows them asked."""
    match key:
        case ("overview", scope, _day) if not getattr(value, "round_dropped", False):
            _ask(scope, QUIET)


def used(key: tuple) -> None:
    """A page load read a dashboard's stored figures: for a view with a filter, ask again (once
    an hour in a process), so the view stays among those opened last."""
    match key:
        case ("overview", scope, _day):
            _ask(scope, ASK_AGAIN)


def _ask(scope: figures.Scope, then_not_for: float) -> None:
    app = current_app._get_current_object()
    if not app.config.get("DASHBOARD_KEPT_VIEWS") or _is_home(scope):
        return
    asked = app.extensions.setdefault(ASKED_RECENTLY, {})
    now = time.monotonic()
    if now < asked.get(scope, 0.0):
        return
    if len(asked) > 256:  # a bound on what a process remembers, not on what it asks
        asked.clear()
    asked[scope] = now + then_not_for
    _queue(app, KEEP_TASK, json.dumps(encode(scope), separators=(",", ":")))


def keep(asked: str) -> int:
    """The keep task: mark the view (a scope as JSON, from computed() or used()) as asked for
    now, keep the marks of the DASHBOARD_KEPT_VIEWS views asked for last (a mark that is no
    longer a view of this year's dashboard, its round moved to another year, say, is dropped),
    and refresh. Returns how many figures were computed (0 for a view the dashboard does not
    show, or when the refresh is off). The mark is committed even when another refresh holds
    the lock: the next one, or the renewal within a minute, computes the view."""
    cfg = current_app.config
    limit = cfg.get("DASHBOARD_KEPT_VIEWS") or 0
    if limit <= 0 or not cfg["DASHBOARD_CACHE_SECONDS"] or not cfg.get("DASHBOARD_REFRESH"):
        return 0
    today = local_today()
    round_ids = set(db.session.scalars(sa.select(Round.id).where(Round.year == today.year)))
    scope = _view(asked, today, round_ids)
    if scope is None:
        log.warning("The dashboard's keep task was asked for a view it does not show.")
        return 0
    stmt = _insert().values(
        key=_asked_key(scope),
        version=0,
        made_at=utcnow(),
        payload=json.dumps(encode(scope), separators=(",", ":")),
    )
    db.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[FigureSnapshot.key], set_={"made_at": stmt.excluded.made_at}
        )
    )
    kept = {key for key, _scope in _marks(today, round_ids)}
    db.session.execute(
        sa.delete(FigureSnapshot).where(_is_asked(), FigureSnapshot.key.not_in(kept))
    )
    db.session.commit()
    return refresh()


def _drawn(name: str, counted, scope: figures.Scope):
    """A chart's words in the current language around figures counted once for all."""
    return services.chart_of(name, counted(), scope)


def _in_language(locale: str, fn, *args):
    with force_locale(locale):
        return fn(*args)


def refresh(*, renew_before: datetime | None = None) -> int:
    """Compute and store what is not stored yet for the current data version (or was made
    before `renew_before`); returns how many were computed. Commits.

    One refresh at a time, on every consumer and host (a lock row in the table): a burst of
    changes queues one task while none waits (the task coalesces: jobs/queue.py), and each one
    that finds another running leaves at once.
    The one running looks at the data version again after letting the lock go, and goes on
    while it moved: a change committed while it computed had its task leave before that look,
    so the last version of a burst is computed, one computation at a time (after ROUNDS of
    them the task is queued again, so other jobs get their turn)."""
    if not current_app.config["DASHBOARD_CACHE_SECONDS"]:
        return 0
    from .cache import data_version

    made = 0
    for _round in range(ROUNDS):
        mark = utcnow()
        if not _take_lock(mark):
            return made
        try:
            version, computed = _refresh_once(renew_before)
        finally:
            _let_go(mark)
        made += computed
        if version is None or data_version() == version:
            return made
        renew_before = None
    _queue_refresh(current_app._get_current_object())
    return made


def _refresh_once(renew_before: datetime | None) -> tuple[int | None, int]:
    """Count what is due in one snapshot of the data (on SQLite without holding the write lock
    all that time, on PostgreSQL at one version: the label is exact), then write it in a short
    transaction."""
    from .cache import data_version

    today = local_today()
    read_at = utcnow()  # before the snapshot: the figures are no older than this
    with read_snapshot():
        version = data_version()
        if version is None:
            return None, 0
        wanted = {stored_key(key): (key, compute) for key, compute in targets(today).items()}
        stored = {
            row.key: row
            for row in db.session.execute(
                sa.select(FigureSnapshot.key, FigureSnapshot.version, FigureSnapshot.made_at).where(
                    FigureSnapshot.key.in_(list(wanted))
                )
            )
        }
        counted = []
        for name, (key, compute) in wanted.items():
            row = stored.get(name)
            current = row is not None and row.version == version
            if current and (renew_before is None or row.made_at >= renew_before):
                continue
            counted.append((key, compute()))
    for key, value in counted:
        write(key, version, value, read_at)
    now = utcnow()
    db.session.execute(
        sa.delete(FigureSnapshot).where(
            FigureSnapshot.key != LOCK,
            sa.or_(
                sa.and_(~_is_asked(), FigureSnapshot.made_at < now - KEEP),
                sa.and_(_is_asked(), FigureSnapshot.made_at < now - ASKED_KEEP),
            ),
        )
    )
    db.session.commit()
    return version, len(counted)


def _take_lock(mark: datetime) -> bool:
    """Take the lock row (made, or taken over when older than LOCK_STALE: a consumer stopped at
    once, or killed, while it held it; its threads end without a `finally`); commits. False
    when another refresh holds it."""
    insert = _insert()
    stmt = insert.values(key=LOCK, version=0, made_at=mark, payload="")
    taken = db.session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[FigureSnapshot.key],
            set_={"made_at": stmt.excluded.made_at},
            where=FigureSnapshot.made_at < mark - LOCK_STALE,
        ).returning(FigureSnapshot.key)
    )
    db.session.commit()
    return taken is not None


def _let_go(mark: datetime) -> None:
    db.session.rollback()  # a computation that failed leaves nothing half written
    db.session.execute(
        sa.delete(FigureSnapshot).where(FigureSnapshot.key == LOCK, FigureSnapshot.made_at == mark)
    )
    db.session.commit()


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(FigureSnapshot)


def renew() -> int:
    """The periodic task: refresh, also computing again what is half as old as the cache's
    bound (DASHBOARD_CACHE_SECONDS, which stands for changes made outside the app)."""
    seconds = current_app.config["DASHBOARD_CACHE_SECONDS"]
    if not seconds or not current_app.config.get("DASHBOARD_REFRESH"):
        return 0
    return refresh(renew_before=utcnow() - timedelta(seconds=seconds / 2))


def _queue_refresh(app: Flask, **_kw) -> None:
    """figures_changed's receiver: queue the task (in immediate mode, the tests', run it now).
    A queue that cannot be reached costs the next page loads their figures, nothing more; after
    a failure this process does not try again for QUIET seconds, so requests do not each wait
    for an unreachable queue."""
    cfg = app.config
    if not cfg.get("DASHBOARD_REFRESH") or not cfg.get("DASHBOARD_CACHE_SECONDS"):
        return
    _queue(app, TASK)


def _queue(app: Flask, task: str, *args: str) -> None:
    runtime = app.extensions.get("jobs")
    if runtime is None or not runtime.has_task(task):
        return
    if time.monotonic() < app.extensions.get(QUIET_UNTIL, 0.0):
        return
    try:
        runtime.call(task, *args)
    except Exception:
        app.extensions[QUIET_UNTIL] = time.monotonic() + QUIET
        log.exception("Could not queue the dashboard's %s; not trying for %d s", task, QUIET)


figures_changed.connect(_queue_refresh)


def init_app(app: Flask) -> None:
    """Add the refresh tasks to the app's job queue (after jobs.init_app)."""
    runtime = app.extensions["jobs"]
    runtime.add_task(TASK, refresh, coalesce=True)  # one waiting covers every change before it
    runtime.add_task(KEEP_TASK, keep)
    runtime.add_task(RENEW_TASK, renew, periodic=crontab())  # every minute
