"""`flask audit verify`: check the hash chain of the audit log."""

import sys

import click
from flask.cli import AppGroup

from .services import verify_chain

audit_cli = AppGroup("audit", help="Audit log commands.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 when the chain is intact, 1 naming the first bad event otherwise."""
    checked, problem = verify_chain()
    if problem is None:
        click.echo(f"OK: {checked} audit events, chain intact.")
        return
    if problem.reason == "prev_hash":
        why = "its prev_hash does not match the event before it (a row was deleted, inserted or edited)"
    else:
        why = "its content does not match its hash (the row was edited)"
    click.echo(f"BROKEN at audit event {problem.event_id}: {why}.", err=True)
    click.echo(f"{checked} events before it are intact.", err=True)
    sys.exit(1)
