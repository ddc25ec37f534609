"""Figures kept between page loads until the data changes.

At a year's full size (270,000 answers, 27,500 findings) the dashboard's statements take 40–80 ms
(a pass over the findings and a cross table); every page load and every chart would pay it
again. The audit chains' heads move with every change the app makes (each command writes its
audit event in its own transaction) and count the events that may change a figure, so they
serve as the figures' version: one cheap statement tells whether what this process computed is
still true. DASHBOARD_CACHE_SECONDS bounds the age of an entry anyway, for changes made outside
the app (a restore, a hand edit); 0 turns the cache off.

For the keys the refresh task may store (snapshots.py: this year's dashboard, with or without
filters, its charts, the annual report), the same statement that reads the data version tells
whether the task stored their figures for it, and a miss in this process reads them (one more
statement) rather than computing them; they are kept no longer than DASHBOARD_CACHE_SECONDS from
when the task read the data. A load of a view with a filter that finds none stored computes them
and asks the task to keep that view ahead from then on (snapshots.computed); one that reads them
asks again now and then, so the view stays among those kept (snapshots.used).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from threading import Lock
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import AuditHead, utcnow
from . import snapshots

SIZE = 32


def data_version() -> int | None:
    """The events that may change a figure, counted over the audit chains' heads: it grows with
    every commit that holds one (audit.services.may_change_figures), and not with answers to
    inspections not yet done, logins or background jobs, which change no figure (so a field
    day's answer batches do not turn the figures kept cold)."""
    return db.session.scalar(version_select())


def version_select() -> sa.Select:
    """data_version's statement (snapshots.py reads it beside the stored figures' time)."""
    return sa.select(sa.func.sum(AuditHead.figure_events))


class FigureCache:
    """The last few results by key, each valid for one data version and a bounded time."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self.items: OrderedDict[Hashable, tuple[Any, float, Any]] = OrderedDict()
        self.lock = Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        seconds = current_app.config["DASHBOARD_CACHE_SECONDS"]
        if not seconds:
            return compute()
        now, stored_at = time.monotonic(), None
        storable = snapshots.storable(key)
        if storable:  # the version, and whether the task stored the figures
            version, stored_at = snapshots.version_and_stored(key)
        else:
            version = data_version()
        with self.lock:
            hit = self.items.get(key)
            if hit is not None and hit[0] == version and hit[1] > now:
                self.items.move_to_end(key)
                return hit[2]
        value, expires = None, now + seconds
        if stored_at is not None:
            age = (utcnow() - stored_at).total_seconds()
            # computed ahead within the bound: kept no longer than it (made "in the future" by
            # more than a second, by a host whose clock is ahead: not used)
            if -1.0 <= age < seconds:
                value = snapshots.read(key, version)
                if value is not None:
                    expires = now + seconds - max(age, 0.0)
                    snapshots.used(key)  # a view kept ahead: still opened
        if value is None:
            value = compute()
            if storable and stored_at is None:  # none stored: a view to keep ahead?
                snapshots.computed(key, value)
        with self.lock:
            self.items[key] = (version, expires, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def figures_cache() -> FigureCache:
    """This app's cache (an app built in the same process, a test's, has its own)."""
    return current_app.extensions.setdefault("dashboard.figures", FigureCache())
