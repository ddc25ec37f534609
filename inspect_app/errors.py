"""Domain errors and the app-wide error pages (HTML in both languages, JSON under /api/)."""

import sqlalchemy as sa
from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db


class DomainError(Exception):
    """A refusal by a service, with a message a user can read."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, details=None):
        super().__init__(message)
        self.message = message
        self.details = details


class ValidationFailed(DomainError):
    status_code = 400
    code = "validation_failed"


class NotAllowed(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"


class ConfirmationRequired(DomainError):
    """The command goes ahead only when the user confirms; `details` says what to confirm."""

    status_code = 409
    code = "confirmation_required"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class StorageUnavailable(DomainError):
    """The file store refused a write (disk full, folder not writable): nothing was recorded."""

    status_code = 507
    code = "storage_unavailable"


class StorageUnreachable(DomainError):
    """The file store could not be read (a bucket that does not answer): try again later."""

    status_code = 503
    code = "storage_unreachable"


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Check what you entered and try again."),
        ),
        401: (_("Login required"), _("Please log in.")),
        403: (_("Forbidden"), _("You do not have permission to do this.")),
        404: (_("Not found"), _("The page or record does not exist, or you may not see it.")),
        405: (_("Method not allowed"), _("This address does not accept that kind of request.")),
        409: (_("Conflict"), _("The request conflicts with the current state of the record.")),
        410: (_("No longer available"), _("This file or page is no longer available.")),
        413: (_("File too large"), _("The upload is larger than the server accepts.")),
        429: (_("Too many requests"), _("Too many attempts. Wait a minute and try again.")),
        507: (
            _("Storage full"),
            _("The server could not store the file. Nothing was recorded; try again later."),
        ),
        503: (
            _("Service unavailable"),
            _("The server is not set up correctly for this. Tell the administrator."),
        ),
        500: (
            _("Server error"),
            _("Something went wrong on our side. Your last change may not have been saved."),
        ),
    }


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int, message: str | None = None, *, code: str | None = None, details=None
):
    title, default_message = _titles().get(status, _titles()[500])
    message = message or default_message
    if wants_json():
        body = {"error": {"status": status, "code": code or _code_for(status), "message": message}}
        if details is not None:
            body["error"]["details"] = details
        return jsonify(body), status
    return render_template("errors/error.html", status=status, title=title, message=message), status


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        410: "gone",
        413: "too_large",
        429: "rate_limited",
        500: "server_error",
        503: "unavailable",
        507: "storage_unavailable",
    }.get(status, "error")


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        db.session.rollback()
        return error_response(err.status_code, err.message, code=err.code, details=err.details)

    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        return error_response(
            400,
            _(
                "The form has expired or was not sent from this site. Reload the page and try again."
            ),
            code="csrf_failed",
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        message = None
        if status == 400 and err.description and getattr(err, "user_message", False):
            message = err.description
        if status == 413 and request.max_content_length:
            from .storage import megabytes  # storage imports this module

            message = _(
                "The upload is larger than the %(limit)s MB the server accepts here. Nothing "
                "was stored.",
                limit=megabytes(request.max_content_length),
            )
        return error_response(status, message)

    @app.errorhandler(sa.exc.DataError)
    @app.errorhandler(OverflowError)
    @app.errorhandler(UnicodeEncodeError)
    def _unstorable(err: Exception):
        # A value the database cannot store that slipped past the input checks: the client's
        # request is at fault, not the server, and nothing was written.
        db.session.rollback()
        app.logger.warning("Refused a value the database cannot store", exc_info=err)
        return error_response(
            400, _("A value in the request is out of range or cannot be stored. Check it.")
        )

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)  # no pooled connection free within pool_timeout
    def _database_unreachable(err: Exception):
        # The database restarted, is unreachable or ended the transaction (deadlock, timeout):
        # nothing of this request was committed, and the pool reconnects (pool_pre_ping), so
        # the client may send the same request again; the tablet's outbox does.
        # The session is closed, not rolled back: a rollback would expire the logged-in user,
        # and reading it again for the page's language would need the database that is away.
        db.session.close()
        if "_login_user" not in g:  # it failed loading the user: answer as to a visitor
            g._login_user = app.login_manager.anonymous_user()
        app.logger.warning("Database unavailable: %s", err.__class__.__name__)
        response = app.make_response(
            error_response(
                503,
                _(
                    "The database cannot be reached at the moment. This request changed nothing; "
                    "try again in a minute."
                ),
                code="database_unavailable",
            )
        )
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error")
        return error_response(500)
