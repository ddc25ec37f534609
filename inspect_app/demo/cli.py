"""`flask demo seed`: plausible fictional data for trying the app."""

import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
def seed_command(if_empty: bool) -> None:
    """Create demo departments, units, systems, users and the year's rounds (idempotent)."""
    from .seed import has_users, seed

    if if_empty and has_users():
        click.echo("The database already has users: demo data not added.")
        return
    summary = seed()
    click.echo("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
