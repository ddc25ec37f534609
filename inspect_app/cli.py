"""App-wide commands: `flask evidence gc` and `flask evidence check` for the evidence store."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from . import storage

evidence_cli = AppGroup("evidence", help="Evidence file commands.")


@evidence_cli.command("gc")
@click.option(
    "--older-than",
    "hours",
    type=click.FloatRange(min=1),
    default=24.0,
    show_default=True,
    help="Only files older than this many hours (younger ones may be uploads in progress).",
)
def gc_command(hours: float) -> None:
    """Delete stored files that no attachment names (left by a crash between write and commit)."""
    deleted = storage.collect_garbage(older_than=hours * 3600)
    for key in deleted:
        click.echo(key)
    click.echo(_("%(n)d unused file(s) deleted.", n=len(deleted)))


@evidence_cli.command("check")
def check_command() -> None:
    """Exit 1 listing every attachment whose file is missing from storage."""
    missing = storage.missing_files()
    for attachment_id, key in missing:
        click.echo(_("Attachment %(id)d: %(key)s is missing.", id=attachment_id, key=key), err=True)
    if missing:
        sys.exit(1)
    click.echo(_("OK: every attachment has its file."))
