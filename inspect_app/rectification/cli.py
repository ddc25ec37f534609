"""`flask rectification remind`: the daily run for cron (expired risks, reminders, e-mail)."""

from datetime import date, datetime

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..clock import local_today
from ..i18n import option

rectification_cli = AppGroup("rectification", help=_l("Rectification commands."))


@rectification_cli.command(
    "remind",
    help=_l(
        "Reopen expired risk acceptances, store due and overdue reminders, "
        "e-mail what is new.\n\nSafe to run as often as you like: each reminder "
        "is stored and e-mailed once."
    ),
)
@option(
    "--today",
    "today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=_l("Run as on this day (YYYY-MM-DD); by default today in the office's time zone."),
)
def remind_command(today: datetime | None) -> None:
    from ..notifications import mail
    from . import reminders, services

    day: date = today.date() if today else local_today()
    reopened = services.reopen_expired_risks(today=day)
    click.echo(
        ngettext(
            "Risk acceptances ended: %(num)d item is open again.",
            "Risk acceptances ended: %(num)d items are open again.",
            len(reopened),
        )
    )
    done = reminders.add_reminders(today=day)
    click.echo(
        _(
            "Reminders stored: %(soon)d item(s) due soon, %(overdue)d overdue; "
            "%(n)d notification(s).",
            soon=done.due_soon,
            overdue=done.overdue,
            n=done.notifications,
        )
    )
    report = mail.send_pending()
    if not report.configured:
        click.echo(_("E-mail: MAIL_SERVER is not set, so nothing was mailed."))
        return
    click.echo(
        _(
            "E-mail: %(messages)d message(s) sent with %(n)d notification(s).",
            messages=report.messages,
            n=report.notifications,
        )
    )
    for failure in report.failures:
        click.echo(
            _(
                "E-mail to %(user)s <%(address)s> failed: %(error)s. It is tried again next run.",
                user=failure.username,
                address=failure.address,
                error=failure.error,
            ),
            err=True,
        )
    if report.unreachable:
        click.echo(
            _(
                "E-mail: the mail server could not be reached (%(error)s); %(n)d message(s) "
                "wait for the next run.",
                error=report.unreachable,
                n=report.waiting,
            ),
            err=True,
        )
