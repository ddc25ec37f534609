"""`flask users create|unlock|reset-mfa|reseal-mfa`: accounts from the command line."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import labels
from ..errors import DomainError
from ..i18n import CommandOption, option
from ..models import ROLES
from . import services

users_cli = AppGroup("users", help=_l("User account commands."))


@users_cli.command("create", help=_l("Create USERNAME with ROLE; the password is prompted for."))
@click.argument("username")
@option("--role", type=click.Choice(ROLES), required=True, help=_l("The account's role."))
@option("--unit", "unit_code", help=_l("Unit code (for --role unit)."))
@option("--department", "department_code", help=_l("Department code (for --role inspector)."))
@option("--name", "display_name", default="", help=_l("Display name."))
@option("--email", default="", help=_l("E-mail address for reminders (optional)."))
@click.password_option(cls=CommandOption, help=_l("Prompted for when not given."))
def create_command(username, role, unit_code, department_code, display_name, email, password):
    try:
        user = services.create_user(
            username,
            password,
            role,
            unit_code=unit_code,
            department_code=department_code,
            display_name=display_name,
            email=email,
        )
    except DomainError as err:
        click.echo(_("Error: %(message)s", message=err.message), err=True)
        sys.exit(1)
    click.echo(
        _(
            "Created user %(name)s (%(role)s).",
            name=user.username,
            role=labels.label(labels.ROLE_LABELS, user.role),
        )
    )


@users_cli.command("unlock", help=_l("Clear USERNAME's failed logins and lock."))
@click.argument("username")
def unlock_command(username):
    try:
        user = services.unlock_account(services.user_by_username(username).id, actor=None)
    except DomainError as err:
        click.echo(_("Error: %(message)s", message=err.message), err=True)
        sys.exit(1)
    click.echo(_("Unlocked %(name)s.", name=user.username))


@users_cli.command(
    "reset-mfa",
    help=_l(
        "Turn two-step login off for USERNAME (lost phone); every session of the account ends."
    ),
)
@click.argument("username")
def reset_mfa_command(username):
    try:
        user = services.reset_mfa(services.user_by_username(username).id, actor=None)
    except DomainError as err:
        click.echo(_("Error: %(message)s", message=err.message), err=True)
        sys.exit(1)
    click.echo(
        _(
            "Two-step login of %(name)s has been reset; it is set up again at the next login.",
            name=user.username,
        )
    )


@users_cli.command(
    "reseal-mfa",
    help=_l(
        "Seal every two-step secret under the current SECRET_KEY (after "
        "rotating it; the old key stays in SECRET_KEY_FALLBACKS until this has "
        "run)."
    ),
)
def reseal_mfa_command():
    result = services.reseal_mfa_secrets()
    click.echo(
        _(
            "Two-step secrets: %(resealed)d sealed again under the current key, %(current)d "
            "already under it.",
            resealed=result.resealed,
            current=result.current,
        )
    )
    if result.unreadable:
        click.echo(
            _(
                "No configured key opens the two-step secret of: %(names)s. Reset their two-step "
                "login (flask users reset-mfa USERNAME).",
                names=", ".join(result.unreadable),
            ),
            err=True,
        )
        sys.exit(1)
