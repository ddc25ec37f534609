"""`flask audit verify` and `flask audit anchor`: check the chain, and write its head outside."""

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import option
from .anchor import AnchorError, Verdict, anchor_log, verify_log
from .services import ChainProblem

audit_cli = AppGroup("audit", help=_l("Audit log commands."))


def describe(problem: ChainProblem) -> str:
    """One sentence, in the user's language, saying what is wrong and where."""
    d, n = problem.detail, problem.event_id
    if problem.reason == "prev_hash":
        why = _(
            "its prev_hash does not match the event before it (a row was deleted, inserted or edited)"
        )
    elif problem.reason == "hash":
        why = _(
            "its content does not match its hash (the row was edited, or its hash was recomputed "
            "without the audit key)"
        )
    elif problem.reason == "unkeyed_after_keyed":
        why = _(
            "it is marked as an unkeyed (legacy SHA-256) event but follows a keyed one (its hash "
            "scheme was changed, or it was written without the audit key)"
        )
    elif problem.reason == "unknown_key":
        why = _(
            "it was hashed with audit key %(key)s, which is not configured (add that key to "
            "AUDIT_HMAC_OLD_KEYS, see docs/audit.md)",
            key=d.get("key_id") or "?",
        )
    elif problem.reason == "retired_key":
        why = _(
            "it was hashed with audit key %(key)s, retired before the key of the events before it "
            "(it was written or rewritten with an old key; AUDIT_HMAC_OLD_KEYS lists keys oldest "
            "first)",
            key=d.get("key_id") or "?",
        )
    elif problem.reason == "scheme":
        why = _("its hash scheme is unknown (the row was edited)")
    elif problem.reason == "tail":
        why = _(
            "it is missing: the newest events were deleted (the log ends before the chain head)"
        )
    elif problem.reason == "head_behind":
        why = _(
            "the log goes on past the chain head, which points to event %(head)d (the head was "
            "moved back)",
            head=d["head"],
        )
    elif problem.reason == "anchor_gone":
        return _(
            "BROKEN: the log was truncated after the anchor of %(at)s: event %(id)d with hash "
            "%(hash)s is gone.",
            at=d["at"],
            id=n,
            hash=d["hash"],
        )
    elif problem.reason == "anchor_hash":
        return _(
            "BROKEN: the log was rewritten after the anchor of %(at)s: event %(id)d no longer has "
            "the anchored hash %(hash)s.",
            at=d["at"],
            id=n,
            hash=d["hash"],
        )
    elif problem.reason == "anchor_count":
        return _(
            "BROKEN: the log was truncated after the anchor of %(at)s: it held %(count)d events "
            "then and holds %(now)d now.",
            at=d["at"],
            count=d["count"],
            now=d["now"],
        )
    elif problem.reason == "anchor_key":
        return _(
            "BROKEN: line %(line)d of the anchor file %(path)s was signed with audit key %(key)s, "
            "which is not configured.",
            line=d["line"],
            path=d["path"],
            key=d["key_id"],
        )
    elif problem.reason == "anchor_unreadable":
        return _(
            "BROKEN: the anchor file %(path)s cannot be read: %(error)s.",
            path=d["path"],
            error=d["error"],
        )
    else:  # anchor_invalid
        return _(
            "BROKEN: line %(line)d of the anchor file %(path)s is not a valid anchor (the file "
            "was edited).",
            line=d.get("line", 0),
            path=d.get("path", ""),
        )
    return _("BROKEN at audit event %(id)d: %(why)s.", id=n, why=why)


def _report_problems(verdict: Verdict) -> None:
    for problem in verdict.problems:
        click.echo(describe(problem), err=True)
    if verdict.walk.problem is not None:
        click.echo(_("%(n)d events before it are intact.", n=verdict.checked), err=True)
    else:
        click.echo(
            _(
                "The %(n)d events left chain correctly: the log was cut or rewritten together "
                "with its chain head, which only the anchor shows.",
                n=verdict.checked,
            ),
            err=True,
        )


def _anchor_file() -> str:
    return current_app.config["AUDIT_ANCHOR_FILE"]


@audit_cli.command(
    "verify",
    help=_l(
        "Exit 0 when the log is intact, 1 naming what is wrong otherwise.\n\n"
        "Checks every event's hash (keyed ones with the audit key), that the "
        "chain reaches its head, and that the log still holds what the last "
        "anchor recorded."
    ),
)
def verify_command() -> None:
    verdict = verify_log(_anchor_file())
    if verdict.problems:
        _report_problems(verdict)
        sys.exit(1)
    click.echo(_("OK: %(n)d audit events, chain intact.", n=verdict.checked))
    if verdict.anchor is None:
        click.echo(
            _(
                "No anchor yet in %(path)s: run `flask audit anchor` regularly (docs/audit.md); "
                "without one, deleting the newest events goes unnoticed.",
                path=_anchor_file(),
            )
        )
    else:
        click.echo(
            _(
                "The log still holds event %(id)d anchored at %(at)s.",
                id=verdict.anchor.event_id,
                at=verdict.anchor.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            )
        )


@audit_cli.command(
    "anchor",
    help=_l(
        "Verify the log, then append its head (event, hash, count, time, MAC) "
        "to the anchor file.\n\nExit 1 without writing when the log is broken or "
        "the anchor cannot be written."
    ),
)
@option("--syslog", is_flag=True, help=_l("Also send the anchor line to the local syslog."))
def anchor_command(syslog: bool) -> None:
    address = current_app.config["AUDIT_SYSLOG_ADDRESS"] if syslog else None
    try:
        anchor, verdict = anchor_log(_anchor_file(), syslog_address=address)
    except AnchorError as err:
        click.echo(_anchor_error(err), err=True)
        sys.exit(1)
    if anchor is None:
        _report_problems(verdict)
        click.echo(_("No anchor was written: the log is broken."), err=True)
        sys.exit(1)
    click.echo(
        _(
            "Anchored event %(id)d (%(n)d events, hash %(hash)s) in %(path)s.",
            id=anchor.event_id,
            n=anchor.count,
            hash=anchor.hash,
            path=_anchor_file(),
        )
    )
    if syslog:
        click.echo(_("The anchor was also sent to syslog."))


def _anchor_error(err: AnchorError) -> str:
    d = err.detail
    if err.reason == "syslog":
        return _(
            "Cannot send to syslog at %(address)s (%(error)s): no anchor was written. Run "
            "without --syslog, or set AUDIT_SYSLOG_ADDRESS to the syslog socket.",
            address=d["address"],
            error=d["error"],
        )
    if err.reason == "syslog_after_file":
        return _(
            "The anchor was written to %(path)s but could not be sent to syslog at %(address)s "
            "(%(error)s).",
            path=d["path"],
            address=d["address"],
            error=d["error"],
        )
    return _("Cannot write the anchor file %(path)s: %(error)s.", path=d["path"], error=d["error"])
