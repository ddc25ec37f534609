"""`flask export round YEAR SEQ -o FILE`, `flask export year YEAR -o FILE`,
`flask export unit CODE YEAR -o FILE` and `flask export inspection ID -o FILE`."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..i18n import option, select_locale
from . import build_inspection, build_round, build_unit_ledger, build_year

export_cli = AppGroup("export", help=_l("Write Excel workbooks (summaries, ledgers, records)."))

_output = option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help=_l("The file to write (default: the workbook's own name in this folder)."),
)


def _run(builder, params: dict[str, Any], output: Path | None) -> None:
    """Build with a progress bar on stderr, move the file to output; exit 1 with the message
    of a refusal (an unknown round, a bad year)."""
    params = {**params, "locale": select_locale(), "actor_id": None}
    with click.progressbar(length=1, label=_("Writing"), file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            path, name, _mime = builder(params, progress)
        except DomainError as err:
            bar.finish()
            click.echo(err.message, err=True)
            sys.exit(1)
    target = output or Path(name)
    try:
        shutil.move(path, target)
    except OSError as err:
        os.unlink(path)
        click.echo(
            _("Could not write %(file)s: %(error)s", file=target, error=err.strerror), err=True
        )
        sys.exit(1)
    click.echo(_("Wrote %(file)s.", file=target))


@export_cli.command(
    "round", help=_l("The round workbook: summary, findings, ledger, statistics, answers.")
)
@click.argument("year", type=int)
@click.argument("seq", type=int)
@_output
def round_command(year: int, seq: int, output: Path | None) -> None:
    _run(build_round, {"year": year, "seq": seq}, output)


@export_cli.command(
    "year",
    help=_l("The year workbook: units by round, trend, annual figures, repeats, ledger, answers."),
)
@click.argument("year", type=int)
@_output
def year_command(year: int, output: Path | None) -> None:
    _run(build_year, {"year": year}, output)


@export_cli.command("unit", help=_l("One unit's rectification ledger of a year."))
@click.argument("code")
@click.argument("year", type=int)
@_output
def unit_command(code: str, year: int, output: Path | None) -> None:
    _run(build_unit_ledger, {"unit": code, "year": year}, output)


@export_cli.command("inspection", help=_l("One inspection's record: answers and findings."))
@click.argument("inspection_id", type=int)
@_output
def inspection_command(inspection_id: int, output: Path | None) -> None:
    _run(build_inspection, {"inspection_id": inspection_id}, output)
