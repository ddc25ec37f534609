"""`flask audit verify`: check the hash chain of the audit log."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from .services import verify_chain

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 when the chain is intact, 1 naming the first bad event otherwise."""
    checked, problem = verify_chain()
    if problem is None:
        click.echo(_("OK: %(n)d audit events, chain intact.", n=checked))
        return
    if problem.reason == "prev_hash":
        why = _(
            "its prev_hash does not match the event before it (a row was deleted, inserted or edited)"
        )
    elif problem.reason == "tail":
        why = _(
            "it is missing: the newest events were deleted (the log ends before the chain head)"
        )
    else:
        why = _("its content does not match its hash (the row was edited)")
    click.echo(_("BROKEN at audit event %(id)d: %(why)s.", id=problem.event_id, why=why), err=True)
    click.echo(_("%(n)d events before it are intact.", n=checked), err=True)
    sys.exit(1)
