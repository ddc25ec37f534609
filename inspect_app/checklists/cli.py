"""`flask checklists ...`: validate, load, export-xlsx, import-xlsx.

Messages are in Chinese unless `--lang en` is given or LANG starts with "en". Problems go to
stderr as `file:line:column: path.to.field: message (expected …)`; any problem exits 1.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..i18n import option
from . import loader, services, xlsx
from .errors import ChecklistError, Problem

checklists_cli = AppGroup("checklists", help=_l("Checklist template commands."))

lang_option = option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default=None,
    help=_l("Language of the messages (default: Chinese, or English when LANG starts with en)."),
)


def _output(help_text):
    """The -o option of a command that writes a file (required)."""
    return option(
        "-o",
        "--output",
        "output",
        required=True,
        type=click.Path(dir_okay=False, writable=True),
        help=help_text,
    )


def _locale(lang: str | None) -> str:
    if lang == "en" or (lang is None and os.environ.get("LANG", "").lower().startswith("en")):
        return "en"
    if lang == "zh":
        return "zh_Hans_CN"
    return current_app.config.get("DEFAULT_LOCALE", "zh_Hans_CN")


@contextmanager
def _speaking(lang: str | None):
    with force_locale(_locale(lang)):
        yield


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(_("%(n)d problem(s) found; nothing was saved.", n=len(problems)), err=True)


def _paths_or_default(paths: tuple[str, ...]) -> tuple[str, ...]:
    """No paths means the repository's checklists/ folder, when it exists."""
    if paths:
        return paths
    folder = loader.default_folder()
    if not folder.is_dir():
        return ()
    shown = os.path.relpath(folder)  # messages and source_path read "checklists/resp.yaml"
    return (str(folder) if shown.startswith("..") else shown,)


@checklists_cli.command(
    "validate",
    help=_l("Check checklist files (default: the checklists/ folder) and report every problem."),
)
@click.argument("paths", nargs=-1)
@lang_option
def validate_command(paths: tuple[str, ...], lang: str | None) -> None:
    with _speaking(lang):
        paths = _paths_or_default(paths)
        if not paths:
            click.echo(_("Nothing to validate: no checklist files found."))
            return
        parsed, problems = services.validate_paths(paths)
        if problems:
            _report(problems)
            sys.exit(1)
        if not parsed:
            click.echo(_("Nothing to validate: no checklist files found."))
            return
        for pf in parsed:
            t = pf.template
            click.echo(
                _(
                    "%(source)s: %(key)s version %(version)s is valid (%(n)d items).",
                    source=pf.source,
                    key=t.key,
                    version=t.version,
                    n=sum(len(s.items) for s in t.sections),
                )
            )


@checklists_cli.command(
    "load",
    help=_l(
        "Load checklist files into the database in one transaction (default: "
        "the checklists/ folder)."
    ),
)
@click.argument("paths", nargs=-1)
@lang_option
def load_command(paths: tuple[str, ...], lang: str | None) -> None:
    with _speaking(lang):
        paths = _paths_or_default(paths)
        if not paths:
            click.echo(_("Nothing to load: no checklist files found."))
            return
        try:
            results = services.load_paths(paths)
        except ChecklistError as err:
            _report(err.problems)
            sys.exit(1)
        except DomainError as err:
            click.echo(_("Error: %(message)s", message=err.message), err=True)
            sys.exit(1)
        if not results:
            click.echo(_("Nothing to load: no checklist files found."))
            return
        for r in results:
            if r.status == "added":
                line = _(
                    "%(source)s: %(key)s version %(version)s loaded (%(n)d items).",
                    source=r.source,
                    key=r.key,
                    version=r.version,
                    n=r.items,
                )
            else:
                line = _(
                    "%(source)s: %(key)s version %(version)s unchanged.",
                    source=r.source,
                    key=r.key,
                    version=r.version,
                )
            click.echo(line)


@checklists_cli.command(
    "export-xlsx",
    help=_l(
        "Write a loaded template version as an Excel workbook (sheets settings, items, options)."
    ),
)
@click.argument("key")
@option(
    "--version", "version", default=None, help=_l("Version to export (default: the latest loaded).")
)
@_output(_l("The workbook to write (.xlsx)."))
@lang_option
def export_xlsx_command(key: str, version: str | None, output: str, lang: str | None) -> None:
    with _speaking(lang):
        template = services.find_version(key, version)
        if template is None:
            click.echo(
                _(
                    "Error: no loaded checklist %(key)s %(version)s.",
                    key=key,
                    version=version or "",
                ),
                err=True,
            )
            sys.exit(1)
        Path(output).write_bytes(xlsx.build_workbook(template.definition))
        click.echo(
            _(
                "Wrote %(key)s version %(version)s to %(path)s.",
                key=template.key,
                version=template.version,
                path=output,
            )
        )


@checklists_cli.command(
    "import-xlsx",
    help=_l("Turn a checklist workbook into a YAML file, with the same validation as YAML files."),
)
@click.argument("file", type=click.Path(dir_okay=False))
@_output(_l("The YAML file to write."))
@lang_option
def import_xlsx_command(file: str, output: str, lang: str | None) -> None:
    with _speaking(lang):
        if not Path(file).is_file():
            _report([Problem(file, message=_("no such file or folder"))])
            sys.exit(1)
        pf = loader.parse_path(Path(file), file, fmt="xlsx")
        problems = pf.problems + services.check_against_database([pf])
        if problems:
            _report(problems)
            sys.exit(1)
        text = xlsx.to_yaml(
            pf.template,
            header=_(
                "Generated from %(file)s by flask checklists import-xlsx.", file=Path(file).name
            ),
        )
        Path(output).write_text(text, encoding="utf-8")
        click.echo(
            _(
                "Wrote %(key)s version %(version)s to %(path)s.",
                key=pf.template.key,
                version=pf.template.version,
                path=output,
            )
        )
