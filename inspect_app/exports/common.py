"""What every workbook shares: the checks of a job's parameters, one consistent snapshot of the
data, the temporary file, progress over all sheets, the 说明 sheet and display helpers."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook

from .. import audit, inputs, labels, paths
from .. import xlsx as kit
from ..auth import permissions
from ..clock import local_today, zone
from ..errors import NotAllowed, ValidationFailed
from ..extensions import db
from ..i18n import normalise
from ..models import Round, User
from ..transaction import read_snapshot, unit_of_work
from ..web import YEARS

ProgressFn = Callable[[int, int], None]
Result = tuple[str, str, str]  # (path of the written file, download name, MIME type)
PROGRESS_EVERY = 2000
ROUNDS = (1, 6)


# --- parameters -------------------------------------------------------------------------------


def _whole(value: Any, *, lo: int, hi: int, label: str) -> int:
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value if lo <= value <= hi else None
    elif isinstance(value, str):
        number = inputs.whole_number(value, lo=lo, hi=hi)
    if number is None:
        raise ValidationFailed(
            _("%(what)s must be a whole number from %(lo)d to %(hi)d.", what=label, lo=lo, hi=hi)
        )
    return number


def check_params(params: Any, actor: User | None) -> dict[str, Any]:
    """The parameters every kind takes: the language (zh_Hans_CN or en; when absent, the
    language of the moment: the page's where a job is started, the job's where it runs) and who
    asks (actor_id, or the actor the caller names; None on the command line)."""
    if not isinstance(params, dict):
        raise ValidationFailed(_("The export parameters are not valid."))
    locale = (
        normalise(str(params.get("locale") or ""))
        or normalise(str(get_locale() or ""))
        or current_app.config["DEFAULT_LOCALE"]
    )
    actor_id = params.get("actor_id")
    if actor_id is not None:
        actor_id = _whole(actor_id, lo=1, hi=inputs.DB_INT_MAX, label=_("The user"))
    elif actor is not None:
        actor_id = actor.id
    return {"locale": locale, "actor_id": actor_id}


def year_param(params: dict[str, Any]) -> int:
    return _whole(params.get("year"), lo=YEARS[0], hi=YEARS[1], label=_("The year"))


def seq_param(params: dict[str, Any]) -> int:
    return _whole(params.get("seq"), lo=ROUNDS[0], hi=ROUNDS[1], label=_("The round number"))


def id_param(params: dict[str, Any], name: str, label: str) -> int:
    return _whole(params.get(name), lo=1, hi=inputs.DB_INT_MAX, label=label)


def find_round(year: int, seq: int) -> Round:
    """The round `seq` of `year`. Raises ValidationFailed naming it when there is none."""
    rnd = db.session.scalar(sa.select(Round).where(Round.year == year, Round.seq == seq))
    if rnd is None:
        raise ValidationFailed(_("There is no round %(seq)d of %(year)d.", seq=seq, year=year))
    return rnd


def load_actor(actor_id: int | None) -> User | None:
    """The user an export is made for (None: the command line, which is trusted). Raises
    NotAllowed for an unknown or disabled account."""
    if actor_id is None:
        return None
    user = db.session.get(User, actor_id)
    if user is None or not user.is_active:
        raise NotAllowed(_("You do not have permission to do this."))
    return user


def require(actor: User | None, action: str, obj: Any = None) -> None:
    """permissions.require for a real user; the command line may export anything."""
    if actor is not None:
        permissions.require(actor, action, obj)


# --- one snapshot, one file ---------------------------------------------------------------------


def export_dir() -> Path:
    folder = Path(
        current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports"
    )
    paths.private_dir(folder)
    return folder


class Progress:
    """Rows written over the whole workbook, reported as progress(done, total) at most every
    PROGRESS_EVERY rows (sheets report their own rows in batches).

    A sheet expects its rows as it begins; the big ones (the findings, the answers) are counted
    before the first sheet (`ahead`), so the bar does not read full after a small first sheet
    and fall back when the big ones begin."""

    def __init__(self, report: ProgressFn | None):
        self._report = report
        self.total = 0
        self.done = 0
        self._last = 0
        self._ahead: dict[str, int] = {}

    def expect(self, rows: int) -> None:
        self.total += rows

    def ahead(self, key: str, rows: int) -> None:
        """Expect now the rows a later sheet will write, which it then takes (`taken`)."""
        self._ahead[key] = rows
        self.total += rows

    def taken(self, key: str) -> int | None:
        """The rows expected ahead under `key` (once), or None: the sheet expects its own."""
        return self._ahead.pop(key, None)

    def __call__(self, rows: int) -> None:
        self.done += rows
        # Not when the rows reach the total expected so far: a sheet that expects its rows only
        # once written (a few) reaches it on the way; the end is told by finish.
        if self._report is not None and self.done - self._last >= PROGRESS_EVERY:
            self._last = self.done
            self._report(self.done, max(self.total, self.done))

    def finish(self) -> None:
        if self._report is not None:
            self._report(self.done, max(self.total, self.done))


@dataclass
class Book:
    """A write-only workbook being built, with what its sheets need to know."""

    wb: Workbook
    actor: User | None
    today: date
    as_of: datetime  # local (Beijing) time the snapshot was taken
    progress: Progress

    def table(self, title: str, columns: Sequence[kit.Column], **kw) -> kit.TableSheet:
        return kit.TableSheet(self.wb, title, columns, progress=self.progress, **kw)


def build(
    params: dict[str, Any],
    progress: ProgressFn | None,
    *,
    validate: Callable[[dict[str, Any], User | None], dict[str, Any]],
    write: Callable[[Book, dict[str, Any]], str],
) -> Result:
    """Check params, then write the workbook in the asked language from one snapshot into a
    new file of EXPORT_DIR. write(book, params) fills the book and returns the download name.
    Returns (path, download name, MIME type); the caller owns (and deletes) the file."""
    owner = getattr(progress, "owner", None)  # the job runner's Progress says who asked
    locale = normalise(str((params or {}).get("locale") or "")) or getattr(progress, "locale", None)
    with force_locale(locale or current_app.config["DEFAULT_LOCALE"]), read_snapshot():
        checked = validate(params, owner)
        with force_locale(checked["locale"]):
            counter = Progress(progress)
            book = Book(
                wb=Workbook(write_only=True),
                actor=load_actor(checked["actor_id"]),
                today=local_today(),
                as_of=datetime.now(zone()).replace(tzinfo=None, microsecond=0),
                progress=counter,
            )
            fd, name = tempfile.mkstemp(prefix="export-", suffix=".xlsx", dir=export_dir())
            os.close(fd)
            try:
                download_name = write(book, checked)
                book.wb.save(name)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(name)
                raise
            counter.finish()
    return name, safe_file_name(download_name), kit.MIMETYPE


def record_download(
    actor: User, obj: Any, kind: str, file_name: str, *, hidden_from_unit: bool, **details: Any
) -> None:
    """A workbook built in the request (an inspection's record, a unit's ledger) and about to be
    sent: who took which file is on record, as a job's download is (job.download); hidden from
    the unit's own log when it is about work the unit may not see yet (an inspection not on
    record). Commits."""
    with unit_of_work():
        audit.record(
            actor,
            "export.download",
            obj,
            after={"kind": kind, "file_name": file_name, **details},
            hidden_from_unit=hidden_from_unit,
        )


_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def safe_file_name(name: str) -> str:
    """A download name any system saves: no path separators, control or reserved characters."""
    name = _UNSAFE_NAME.sub("_", name).strip(" .") or "export"
    stem, dot, ext = name.rpartition(".")
    if len(name) > 150:
        name = f"{stem[:140]}{dot}{ext}" if dot else name[:150]
    return name


# --- display ------------------------------------------------------------------------------------


def local_date(moment: datetime | None) -> date | None:
    """The Beijing date of a naive-UTC timestamp."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(zone()).date()


def label(mapping: dict, code: str | None) -> str:
    return labels.label(mapping, code) if code else ""


def basis_text(entries: Any) -> str:
    if not isinstance(entries, list):
        return ""
    return "；".join(labels.legal_basis_text(e) for e in entries if isinstance(e, dict))


def local_time(moment: datetime | None) -> datetime | None:
    """A naive-UTC timestamp as naive Beijing time, to the minute (a cell holds no zone)."""
    if moment is None:
        return None
    local = moment.replace(tzinfo=UTC).astimezone(zone()).replace(tzinfo=None)
    return local.replace(second=0, microsecond=0)


def actor_name(actor: User | None) -> str:
    return actor.name if actor is not None else _("Command line")


def readme(book: Book, title: str, facts: Sequence[tuple[str, Any]], sheets: Sequence[str]):
    """The 说明 sheet: what the workbook covers (facts as label/value rows), who made it when,
    the data's date, the definitions of its figures and what each sheet holds."""
    sheet = book.table(
        _("About"),
        [kit.Column(_("Entry"), 22, "bold"), kit.Column(_("Content"), 90, "wrap")],
        lines=[(title,), ()],
        filter=False,
    )
    rows: list[tuple[str, Any]] = [
        *facts,
        (_("Generated by"), actor_name(book.actor)),
        (_("Generated at"), book.as_of.strftime("%Y-%m-%d %H:%M")),
        (
            _("Data as of"),
            _(
                "%(time)s (Beijing time), one snapshot of the database",
                time=book.as_of.strftime("%Y-%m-%d %H:%M"),
            ),
        ),
        (_("Overdue as of"), book.today),
    ]
    for key, value in rows:
        sheet.row((key, value))
    sheet.row(())
    for key, value in definitions():
        sheet.row((key, value))
    sheet.row(())
    sheet.row((_("Sheets"), "、".join(sheets)))
    book.progress.expect(sheet.rows_written)  # before close, which reports them
    sheet.close()


def definitions() -> list[tuple[str, str]]:
    """How the figures are counted (reports/figures.py is the one definition)."""
    return [
        (
            _("Compliance rate"),
            _(
                "Compliant answers / (compliant + non-compliant) answers of submitted or closed "
                "inspections."
            ),
        ),
        (_("Rectification rate"), _("Closed (verified) items / all findings.")),
        (
            _("On-time rate"),
            _(
                "Items closed by their due date (Beijing date) / items due (due date passed, or "
                "closed)."
            ),
        ),
        (
            _("Overdue"),
            _(
                "Pending or returned items past their due date; overdue days = the date above "
                "minus the due date."
            ),
        ),
        (_("Repeat finding"), _("The same unit and checklist item found in an earlier round.")),
    ]
