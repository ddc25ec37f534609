"""The sentences of the annual report (年度通报), written from its figures.

Each sentence states figures; one whose figure is zero is left out or says plainly that there is
none ("无逾期未整改问题"), never "0个". Counts are joined as a Chinese list (、) in Chinese.
"""

from __future__ import annotations

from flask_babel import format_date, format_percent, ngettext
from flask_babel import gettext as _

from ..labels import CATEGORY_LABELS, LEAD_LABELS, label
from .services import AnnualReport

# The issuing office's own department: it inspects "together with" the others, never with itself.
OWN_DEPARTMENT = "CAC"


def _percent(rate: float | None) -> str:
    return format_percent(rate or 0, "#,##0.0%")


def _list(parts: list[str]) -> str:
    return _(", ").join(parts)


def _severity_parts(report: AnnualReport) -> list[str]:
    texts = {
        "high": lambda n: _("%(n)d high-risk", n=n),
        "medium": lambda n: _("%(n)d medium-risk", n=n),
        "low": lambda n: _("%(n)d low-risk", n=n),
    }
    return [texts[code](n) for code, n in report.severity if n and code in texts]


def _named(name: str, n: int) -> str:
    return _("%(name)s (%(n)d)", name=name, n=n)


def overview(report: AnnualReport) -> list[str]:
    out = [
        _(
            "To carry out the network security responsibility system, in %(year)d this office "
            "organised joint network security inspections with the departments concerned. The "
            "results are reported as follows.",
            year=report.year,
        )
    ]
    held = report.rounds_held
    if not held:
        out.append(_("No inspection of the year has been completed yet."))
        return out
    others = [
        d.name or label(LEAD_LABELS, d.code)
        for d in report.departments
        if d.inspections and d.code != OWN_DEPARTMENT
    ]
    counts = {
        "rounds": len(held),
        "planned": report.inspections.total,
        "done": report.inspections.done,
    }
    if others:
        out.append(
            _(
                "Together with %(departments)s, %(rounds)d rounds of inspection were held in the "
                "year: %(done)d of the %(planned)d planned inspections were completed.",
                departments=_list(others),
                **counts,
            )
        )
    else:
        out.append(
            _(
                "%(rounds)d rounds of inspection were held in the year: %(done)d of the "
                "%(planned)d planned inspections were completed.",
                **counts,
            )
        )
    c = report.coverage
    if c.units:
        if c.key_units_total:
            out.append(
                _(
                    "The inspections covered %(units)d units, %(rate)s of the %(total)d units in "
                    "the directory, among them %(key)d of the %(key_total)d key units "
                    "(%(key_rate)s).",
                    units=c.units,
                    rate=_percent(c.rate),
                    total=c.units_total,
                    key=c.key_units,
                    key_total=c.key_units_total,
                    key_rate=_percent(c.key_rate),
                )
            )
        else:
            out.append(
                _(
                    "The inspections covered %(units)d units, %(rate)s of the %(total)d units in "
                    "the directory.",
                    units=c.units,
                    rate=_percent(c.rate),
                    total=c.units_total,
                )
            )
        missed = c.key_units_total - c.key_units
        if missed > 0:
            out.append(
                ngettext(
                    "%(n)d key unit has not been inspected this year.",
                    "%(n)d key units have not been inspected this year.",
                    missed,
                    n=missed,
                )
            )
    return out


def problems(report: AnnualReport) -> list[str]:
    f = report.figures
    if not report.inspections.done and not f.findings:
        return []
    out = []
    if f.findings:
        out.append(
            ngettext(
                "The inspections found %(n)d problem, which is %(parts)s.",
                "The inspections found %(n)d problems, of which %(parts)s.",
                f.findings,
                n=f.findings,
                parts=_list(_severity_parts(report)),
            )
        )
    else:
        out.append(_("The inspections found no problems."))
    comp = report.compliance
    answered = comp.compliant + comp.noncompliant
    if comp.compliant:
        out.append(
            _(
                "%(rate)s of the checklist items answered were compliant (%(compliant)d of "
                "%(answered)d).",
                rate=_percent(comp.rate),
                compliant=comp.compliant,
                answered=answered,
            )
        )
    elif answered:
        out.append(
            ngettext(
                "The %(answered)d checklist item answered was not compliant.",
                "None of the %(answered)d checklist items answered was compliant.",
                answered,
                answered=answered,
            )
        )
    types = [
        _named(label(CATEGORY_LABELS, code) or _("Other"), n) for code, n in report.categories if n
    ]
    if types:
        out.append(_("By type, the problems were mainly in %(types)s.", types=_list(types)))
    if f.repeats:
        out.append(
            ngettext(
                "%(n)d problem had been found before at the same unit and checklist item in an "
                "earlier round.",
                "%(n)d problems had been found before at the same unit and checklist item in an "
                "earlier round.",
                f.repeats,
                n=f.repeats,
            )
        )
    return out


def rectification(report: AnnualReport) -> list[str]:
    f = report.figures
    if not f.findings:
        return []
    day = format_date(report.today, "long")
    if f.closed:
        out = [
            ngettext(
                "As of %(date)s, %(closed)d problem has been rectified and closed, a "
                "rectification rate of %(rate)s.",
                "As of %(date)s, %(closed)d problems have been rectified and closed, a "
                "rectification rate of %(rate)s.",
                f.closed,
                date=day,
                closed=f.closed,
                rate=_percent(f.rate),
            )
        ]
    else:
        out = [_("As of %(date)s, no problem has been closed yet.", date=day)]
    if f.closed_on_time:
        out.append(
            ngettext(
                "Of the %(due)d problem past its deadline or closed, %(on_time)d was closed on "
                "time, an on-time rate of %(rate)s.",
                "Of the %(due)d problems past their deadline or closed, %(on_time)d were closed on "
                "time, an on-time rate of %(rate)s.",
                f.due,
                due=f.due,
                on_time=f.closed_on_time,
                rate=_percent(f.on_time_rate),
            )
        )
    elif f.due:
        out.append(
            ngettext(
                "The %(due)d problem past its deadline or closed was not closed on time.",
                "None of the %(due)d problems past their deadline or closed was closed on time.",
                f.due,
                due=f.due,
            )
        )
    if f.submitted:
        out.append(
            ngettext(
                "For %(n)d problem the unit's report awaits verification.",
                "For %(n)d problems the unit's report awaits verification.",
                f.submitted,
                n=f.submitted,
            )
        )
    if f.overdue:
        out.append(
            ngettext(
                "%(n)d problem is overdue and not rectified, %(days)d days overdue in all.",
                "%(n)d problems are overdue and not rectified, %(days)d days overdue in all.",
                f.overdue,
                n=f.overdue,
                days=f.overdue_days,
            )
        )
        units = [_named(u.name, u.figures.overdue) for u in report.overdue_units]
        out.append(_("Units with overdue problems: %(units)s.", units=_list(units)))
    else:
        out.append(_("No problem is overdue."))
    if report.repeaters:
        units = [_named(name, n) for _id, _code, name, n in report.repeaters]
        out.append(_("Units with problems found again: %(units)s.", units=_list(units)))
    else:
        out.append(_("No unit had a problem found again."))
    if f.escalated:
        out.append(
            ngettext(
                "%(n)d problem was handed over to the competent authorities.",
                "%(n)d problems were handed over to the competent authorities.",
                f.escalated,
                n=f.escalated,
            )
        )
    if f.risk_accepted:
        out.append(
            ngettext(
                "For %(n)d problem a risk was accepted for a time.",
                "For %(n)d problems a risk was accepted for a time.",
                f.risk_accepted,
                n=f.risk_accepted,
            )
        )
    return out


def departments(report: AnnualReport) -> list[str]:
    out = []
    for d in report.departments:
        if d.inspections or d.figures.findings:
            out.append(_department(d.name or label(LEAD_LABELS, d.code), d.inspections, d.figures))
    return out


def _department(name: str, inspections: int, g) -> str:
    """One department's sentence; each case written whole, so translations read naturally."""
    if not g.findings:
        return _(
            "%(name)s took part in %(inspections)d inspections; none of the problems found is "
            "in its lead.",
            name=name,
            inspections=inspections,
        )
    counts = {"name": name, "inspections": inspections, "findings": g.findings}
    if inspections and g.closed:
        text = _(
            "%(name)s took part in %(inspections)d inspections and leads %(findings)d of the "
            "problems found, %(closed)d of them closed (%(rate)s).",
            closed=g.closed,
            rate=_percent(g.rate),
            **counts,
        )
    elif inspections:
        text = _(
            "%(name)s took part in %(inspections)d inspections and leads %(findings)d of the "
            "problems found, none of them closed yet.",
            **counts,
        )
    elif g.closed:
        text = _(
            "%(name)s leads %(findings)d of the problems found, %(closed)d of them closed "
            "(%(rate)s).",
            closed=g.closed,
            rate=_percent(g.rate),
            **counts,
        )
    else:
        text = _(
            "%(name)s leads %(findings)d of the problems found, none of them closed yet.",
            **counts,
        )
    if g.overdue:
        text += ngettext(
            " %(n)d of them is overdue.", " %(n)d of them are overdue.", g.overdue, n=g.overdue
        )
    return text


def closing(report: AnnualReport) -> list[str]:
    f = report.figures
    if f.open + f.returned + f.submitted:
        return [
            _(
                "Units that have not finished rectifying are to complete it by their deadlines "
                "and report through the inspection system."
            )
        ]
    return []


def sections(report: AnnualReport) -> dict[str, list[str]]:
    """The report's paragraphs by section; an empty list means the section is left out."""
    return {
        "overview": overview(report),
        "problems": problems(report),
        "rectification": rectification(report),
        "departments": departments(report),
        "closing": closing(report),
    }
