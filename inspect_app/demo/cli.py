"""`flask demo seed`: plausible fictional data for trying the app."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import option

demo_cli = AppGroup("demo", help=_l("Demo data."))


@demo_cli.command(
    "seed",
    help=_l("Create demo departments, units, systems, users and the year's rounds (idempotent)."),
)
@option("--if-empty", is_flag=True, help=_l("Do nothing when the database already has users."))
def seed_command(if_empty: bool) -> None:
    from .seed import has_users, seed

    if if_empty and has_users():
        click.echo(_("The database already has users: demo data not added."))
        return
    summary = seed()
    click.echo(
        _(
            "Demo data ready: %(departments)d departments, %(units)d units, %(systems)d systems, "
            "%(users)d users, %(rounds)d rounds, %(inspections)d inspections added.",
            **summary,
        )
    )
