"""`flask demo seed`: plausible fictional data for trying the app."""

import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo data.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create demo departments, units, systems, users and the year's rounds (idempotent)."""
    from .seed import seed

    summary = seed()
    click.echo("Demo data ready: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
