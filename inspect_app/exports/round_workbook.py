"""The round workbook (第N轮汇总): 说明, 汇总, 问题清单, 整改台账, 统计, 检查明细."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..models import User
from ..reports.figures import Scope
from ..rounds.labels import NATURE_LABELS, THEME_LABELS
from . import common
from .common import Book, ProgressFn, Result
from .sheets import (
    Filter,
    FindingSheets,
    count_ahead,
    round_name,
    write_answers,
    write_per_unit,
    write_statistics,
)

TITLE = _l("Round workbook")


def validate_round(params: dict[str, Any], actor: User | None = None) -> dict[str, Any]:
    """{"year", "seq", "locale", "actor_id"} checked: a year and round number that exist, a
    user who may download exports. Raises ValidationFailed (naming an unknown round),
    NotAllowed."""
    checked = common.check_params(params, actor)
    year, seq = common.year_param(params), common.seq_param(params)
    common.find_round(year, seq)
    common.require(actor or common.load_actor(checked["actor_id"]), "exports.download")
    return {**checked, "year": year, "seq": seq}


def build_round(params: dict[str, Any], progress: ProgressFn | None = None) -> Result:
    """Write the round workbook; returns (path of a new file, download name, MIME type)."""
    return common.build(params, progress, validate=validate_round, write=_write)


def download_name(year: int, seq: int) -> str:
    return _("Inspection summary %(year)d round %(seq)d", year=year, seq=seq) + ".xlsx"


def _write(book: Book, params: dict[str, Any]) -> str:
    rnd = common.find_round(params["year"], params["seq"])
    scope = Scope(rnd.year, round_id=rnd.id)
    where = Filter(round_id=rnd.id)
    count_ahead(book, where)
    names = [
        _("About"),
        _("Summary"),
        _("Finding list"),
        _("Rectification ledger"),
        _("Statistics"),
        _("Answer details"),
    ]
    dates = " – ".join(d.isoformat() for d in (rnd.start_date, rnd.end_date) if d)
    common.readme(
        book,
        rnd.title,
        [
            (_("Round"), round_name(rnd.year, rnd.seq)),
            (_("Title"), rnd.title),
            (_("Theme"), common.label(THEME_LABELS, rnd.theme)),
            (_("Nature of inspection"), common.label(NATURE_LABELS, rnd.nature)),
            (_("Dates"), dates),
            (_("Departments"), "、".join(d.name for d in rnd.departments)),
            (_("Scope"), _("Every unit inspected in this round")),
        ],
        names,
    )
    write_per_unit(book, scope, _("Summary"))
    FindingSheets(book, where).write()
    write_statistics(book, scope, _("Statistics"))
    write_answers(book, where)
    return download_name(rnd.year, rnd.seq)
