"""The dashboard (/dashboard/), its charts as SVG images, and the annual report (年度通报)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from babel.numbers import parse_pattern
from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_percent, get_locale
from flask_login import login_required
from markupsafe import Markup, escape

from ..auth.permissions import action_required
from ..clock import local_today
from ..labels import (
    CATEGORY_LABELS,
    LEAD_LABELS,
    RECTIFICATION_STATUS_LABELS,
    SEVERITY_LABELS,
    UNIT_KIND_LABELS,
    label,
)
from ..models import UNIT_KINDS
from ..reports.figures import Scope
from ..rounds.labels import ROUND_STATUS_LABELS, THEME_LABELS
from ..web import year_arg
from . import annual as annual_text
from . import charts, services
from .cache import figures_cache
from .filters import query_args, scope_from_args

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

# An SVG shown as an image runs no script, but pygal styles it with a <style> element: this one
# response may use inline styles and nothing else (the page's own CSP forbids them).
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"
# Units in the dashboard's table unless all are asked for (?units=all): a year may have hundreds.
UNIT_ROWS = 30
# Rates as 85.3%, the pattern parsed once rather than for each of the page's rates.
PERCENT = parse_pattern("#,##0.0%")
# Query values written as they are: what urlencode leaves unchanged (ids, codes such as "closed").
PLAIN = re.compile(r"[A-Za-z0-9_.~-]+")
# An id no page has, put in a link built once and replaced by each row's own (Links._path).
SLOT = 987654321


def num(value, url: str | None) -> Markup:
    """A number, linked to the list behind it when there is one: the page's ~200 numbers, which
    a Jinja macro (_macros.html, the key figures' own) draws several times slower."""
    if url:
        return Markup(f'<a href="{escape(url)}">{escape(value)}</a>')
    return escape(value)


def percent(rate: float | None) -> str:
    """A rate as 85.3% in the user's language; a dash when there is nothing to divide."""
    return "—" if rate is None else format_percent(rate, PERCENT)


class Links:
    """The lists behind the numbers. A link is given only where the list shows exactly the rows
    counted: the rectification ledger filters by year, round, unit, status, risk level and
    repeat, but not by lead department or unit kind, so under those filters its numbers are
    plain text; and the ledger is another blueprint's, linked only once it is installed."""

    def __init__(self, scope: Scope):
        self.scope = scope
        views = current_app.view_functions
        self.has_ledger = "rectification.index" in views
        self.has_items = "rectification.show" in views
        self._ledger_path: str | None = None
        self._paths: dict[str, str] = {}

    def _exact(self, *, for_unit: bool = False) -> bool:
        return not self.scope.department and (for_unit or not self.scope.unit_kind)

    def ledger(self, *, unit: int | None = None, round: int | None = None, **filters):
        if not self.has_ledger or not self._exact(for_unit=unit is not None):
            return None
        args = {
            "year": self.scope.year,
            "round": round or self.scope.round_id,
            "unit": unit or self.scope.unit_id,
            **filters,
        }
        # What url_for builds (the path, then the arguments in order, encoded as Werkzeug
        # does), with the path built once: a page has a hundred and more of these links. Ids
        # and codes are written as they are, anything else encoded.
        if self._ledger_path is None:
            self._ledger_path = url_for("rectification.index")
        pairs = [(k, v) for k, v in args.items() if v]
        if all(type(v) is int or PLAIN.fullmatch(str(v)) for _k, v in pairs):
            query = "&".join(f"{k}={v}" for k, v in pairs)
        else:
            query = urlencode(pairs, safe="!$'()*,/:;?@")
        return f"{self._ledger_path}?{query}" if query else self._ledger_path

    def _path(self, endpoint: str, key: str, value: int) -> str:
        """url_for(endpoint, key=value) for an integer value, built once for the page with a
        placeholder id that each call replaces."""
        path = self._paths.get(endpoint)
        if path is None:
            path = self._paths[endpoint] = url_for(endpoint, **{key: SLOT})
        return path.replace(str(SLOT), str(int(value)))

    def item(self, item_id: int) -> str | None:
        return self._path("rectification.show", "item_id", item_id) if self.has_items else None

    def unit(self, unit_id: int) -> str:
        """The unit's page in the directory."""
        return self._path("directory.unit_show", "unit_id", unit_id)

    def inspections(self, round_id: int | None) -> str | None:
        """The round's inspections (rounds.show), or the year's rounds."""
        if not self._exact():
            return None
        if round_id:
            return self._path("rounds.show", "round_id", round_id)
        return url_for("rounds.index", year=self.scope.year)

    def chart(self, name: str) -> str:
        return url_for("dashboard.chart", name=name, **query_args(self.scope))

    def dashboard(self, **changes) -> str:
        return url_for("dashboard.index", **query_args(self.scope, **changes))


def _remembered(names: dict):
    """label(names, code), each code looked up once for the page: the units table asks for the
    same few kinds of unit thirty times, and each lookup goes through the catalog."""
    seen: dict = {}

    def lookup(code):
        if code not in seen:
            seen[code] = label(names, code)
        return seen[code]

    return lookup


def _labels() -> dict:
    return {
        "percent": percent,
        "num": num,
        "lead_label": _remembered(LEAD_LABELS),
        "category_label": _remembered(CATEGORY_LABELS),
        "unit_kind_label": _remembered(UNIT_KIND_LABELS),
        "round_status_label": _remembered(ROUND_STATUS_LABELS),
        "theme_label": _remembered(THEME_LABELS),
        "severity_label": _remembered(SEVERITY_LABELS),
        "rectification_status_label": _remembered(RECTIFICATION_STATUS_LABELS),
    }


def render_dashboard():
    """The dashboard page for the query string's filters (also the home page of coordinators
    and viewers, main.index)."""
    today = local_today()
    scope = scope_from_args(today)
    overview = figures_cache().get(
        ("overview", scope, today), lambda: services.overview(scope, today)
    )
    return render_template(
        "dashboard/index.html",
        o=overview,
        links=Links(overview.scope),
        years=range(today.year - 4, today.year + 2),
        departments=LEAD_LABELS,
        unit_kinds=UNIT_KINDS,
        unit_rows=UNIT_ROWS,
        all_units=request.args.get("units") == "all",
        **_labels(),
    )


@bp.get("/")
@login_required
@action_required("reports.view")
def index():
    return render_dashboard()


@bp.get("/charts/<name>.svg")
@login_required
@action_required("reports.view")
def chart(name: str):
    """One chart as an SVG image, for the same filters as the page; 304 when the browser holds
    the drawing of the same data (its ETag)."""
    if name not in services.CHARTS:
        abort(404)
    today = local_today()
    scope = scope_from_args(today)
    data = figures_cache().get(
        ("chart", name, scope, today, str(get_locale())),
        lambda: services.chart(name, scope, today),
    )
    digest = data.digest()
    if request.if_none_match.contains(digest):
        response = Response(status=304)
    else:
        response = Response(charts.cache.get(data, digest), mimetype="image/svg+xml")
    response.set_etag(digest)
    response.headers["Content-Security-Policy"] = CHART_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Private to the user, and checked with the server (a 304) at every use: figures change.
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/annual")
@login_required
@action_required("reports.view")
def annual():
    """The annual report (年度通报) of a year, printable on A4."""
    today = local_today()
    year = year_arg(today.year)
    report = figures_cache().get(
        ("annual", year, today), lambda: services.annual_report(year, today)
    )
    issuer = current_app.config["NOTICE_ISSUER"]
    return render_template(
        "dashboard/annual.html",
        r=report,
        text=annual_text.sections(report),
        issuer=issuer,
        dated=format_date(today, "long"),
        links=Links(Scope(report.year)),
        **_labels(),
    )
