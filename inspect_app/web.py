"""The route kit every blueprint shares: the acting user, bounded query arguments, the JSON body,
sending a stored file, the request guard that refuses unstorable input before any view runs, and
the id converter for URLs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from . import audit, inputs, storage
from .errors import ValidationFailed
from .models import Attachment, User

MAX_PAGE = 100_000
YEARS = (2000, 2100)


class DbIdConverter(IntegerConverter):
    """`<int:...>` in URLs: ids beyond what the database stores match nothing (a 404), instead
    of reaching a query that overflows."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", inputs.DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def actor() -> User:
    """The logged-in user as the services take it (`actor=`)."""
    return current_user._get_current_object()


def send_attachment(attachment: Attachment, *, variant: str, thumb: bool, name: str):
    """A stored file as a response: the thumbnail (always a JPEG) or the given variant, PDFs as
    downloads, never sniffed (the app-wide nosniff header), cached briefly and per session
    because the bytes depend on who asks (an original or a copy without EXIF)."""
    thumb = thumb and attachment.mime != "application/pdf"
    path = storage.path_for(attachment, "thumbnail" if thumb else variant)
    response = send_file(
        path,
        mimetype="image/jpeg" if thumb else attachment.mime,
        as_attachment=attachment.mime == "application/pdf",
        download_name=f"{name}-{attachment.id}{path.suffix}",
        max_age=600,
        conditional=True,
    )
    response.headers["Cache-Control"] = "private, max-age=600"
    response.vary.add("Cookie")
    return response


def int_arg(
    name: str, *, label: str, default: int | None = None, lo: int = 1, hi: int = inputs.DB_INT_MAX
) -> int | None:
    """The query argument `name` as a whole number in [lo, hi], or `default` when it is absent
    or empty. Raises ValidationFailed (400) naming `label` for anything else."""
    raw = request.args.get(name, "")
    if not raw.strip():
        return default
    value = inputs.whole_number(raw, lo=lo, hi=hi)
    if value is None:
        raise ValidationFailed(
            _("%(what)s must be a whole number from %(lo)d to %(hi)d.", what=label, lo=lo, hi=hi)
        )
    return value


def date_arg(name: str) -> date | None:
    """The query argument `name` as a date (YYYY-MM-DD), None when it is absent or empty. Raises
    ValidationFailed (400) for anything else."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        if len(raw) == 10:  # strptime takes 2026-1-5 too, and any length
            return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        pass
    raise ValidationFailed(_("Enter a date as YYYY-MM-DD."))


def page_arg() -> int:
    return int_arg("page", label=_("The page number"), default=1, hi=MAX_PAGE)


def year_arg(default: int | None = None) -> int | None:
    return int_arg("year", label=_("The year"), default=default, lo=YEARS[0], hi=YEARS[1])


def choice_arg(name: str, choices: tuple[str, ...] | list[str], *, label: str) -> str | None:
    """The query argument `name` when it is one of `choices`, None when absent or empty. Raises
    ValidationFailed (400) naming `label` for anything else."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise ValidationFailed(_("%(what)s has an unknown value.", what=label))
    return raw


def json_body() -> dict[str, Any]:
    """The request's JSON object. Raises ValidationFailed for anything else, including JSON
    nested deeper than any request needs (checked while parsing, not after)."""
    if not request.is_json:
        raise ValidationFailed(_("The request body must be a JSON object."))
    try:
        body = inputs.parse_json(request.get_data(cache=True))
    except inputs.TooDeep:
        raise ValidationFailed(
            _("The JSON is nested too deeply (at most %(n)d levels).", n=inputs.JSON_MAX_DEPTH)
        ) from None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValidationFailed(_("The request body must be a JSON object."))
    return body


def _storable_pair(key, value) -> bool:
    # A multipart part whose name cannot be parsed comes back with the name None.
    return (
        isinstance(key, str)
        and isinstance(value, str)
        and inputs.storable(key)
        and inputs.storable(value)
    )


def _unstorable_input() -> bool:
    if not inputs.storable(request.path):
        return True
    for key, value in request.args.items(multi=True):
        if not _storable_pair(key, value):
            return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for key, value in request.form.items(multi=True):
            if not _storable_pair(key, value):
                return True
        for key, upload in request.files.items(multi=True):
            if not _storable_pair(key, upload.filename or ""):
                return True
    return False


# Endpoints that accept audio and video uploads, with their own request-size limit.
RECORDING_ENDPOINTS = frozenset({"inspections.upload_recording"})


def register_guard(app: Flask) -> None:
    """The input guard: registered before the extensions, so it runs before CSRFProtect reads
    the form (a part without a parsable name made Flask-WTF raise)."""

    @app.before_request
    def _size_limit_for_recordings():
        # First of all hooks, before anything reads the form: audio and video evidence is
        # larger than any other request (EVIDENCE_MEDIA_MAX_BYTES, plus room for the form).
        if request.endpoint in RECORDING_ENDPOINTS:
            request.max_content_length = app.config["EVIDENCE_MEDIA_MAX_BYTES"] + 64 * 1024

    @app.before_request
    def _refuse_unstorable_input():
        # Forms, file names, query strings and paths: a NUL byte can be neither stored nor
        # meant. JSON is checked field by field by the services, so one bad field in a batch
        # of answers does not lose the rest.
        if _unstorable_input():
            raise ValidationFailed(
                _(
                    "The request contains a NUL character or broken text that cannot be stored. "
                    "Remove it and try again."
                )
            )


def register(app: Flask) -> None:
    """Install the id converter (before any blueprint is registered) and the client address
    of the audit log."""
    app.url_map.converters["int"] = DbIdConverter

    @app.before_request
    def _audit_client_address():
        audit.set_client_address(request.remote_addr or "")

    @app.teardown_request
    def _forget_client_address(_exc):
        audit.set_client_address("")
