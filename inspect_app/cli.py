"""App-wide commands: `flask evidence gc|check` for the evidence store, `flask backup|restore`."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import storage
from .i18n import option

evidence_cli = AppGroup("evidence", help=_l("Evidence file commands."))


@evidence_cli.command(
    "gc",
    help=_l(
        "Delete stored files that no attachment names (left by a crash between write and commit)."
    ),
)
@option(
    "--older-than",
    "hours",
    type=click.FloatRange(min=1),
    default=24.0,
    show_default=True,
    help=_l("Only files older than this many hours (younger ones may be uploads in progress)."),
)
def gc_command(hours: float) -> None:
    deleted = storage.collect_garbage(older_than=hours * 3600)
    for key in deleted:
        click.echo(key)
    click.echo(_("%(n)d unused file(s) deleted.", n=len(deleted)))


@evidence_cli.command(
    "check", help=_l("Exit 1 listing every attachment whose file is missing from storage.")
)
def check_command() -> None:
    missing = storage.missing_files()
    for attachment_id, key in missing:
        click.echo(_("Attachment %(id)d: %(key)s is missing.", id=attachment_id, key=key), err=True)
    if missing:
        sys.exit(1)
    click.echo(_("OK: every attachment has its file."))


@click.command(
    "backup",
    help=_l("Write one archive: the database, every evidence file, the audit anchors, a manifest."),
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help=_l("The archive to write (.tar.gz)."),
)
@with_appcontext
def backup_command(output: str) -> None:
    from .backup import BackupFailed, create_backup

    try:
        summary = create_backup(Path(output))
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        _(
            "Backup written to %(path)s: %(rows)d rows in %(tables)d tables, "
            "%(files)d evidence files (%(mb).1f MB).",
            path=summary.path,
            rows=sum(summary.tables.values()),
            tables=len(summary.tables),
            files=summary.files,
            mb=summary.bytes / 1e6,
        )
    )


@click.command(
    "restore",
    help=_l(
        "Restore an archive made by `flask backup` into this empty instance, checking every hash."
    ),
)
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def restore_command(archive: str) -> None:
    from .backup import BackupFailed, restore_backup

    try:
        summary = restore_backup(Path(archive))
    except BackupFailed as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        _(
            "Restored %(rows)d rows in %(tables)d tables and %(files)d evidence files.",
            rows=sum(summary.tables.values()),
            tables=len(summary.tables),
            files=summary.files,
        )
    )
    for problem in summary.problems:
        click.echo(problem, err=True)
    if summary.problems:
        sys.exit(1)
    click.echo(_("Now run `flask audit verify` and `flask evidence check`."))
