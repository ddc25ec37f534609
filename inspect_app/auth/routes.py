"""Login (password, then a code when two-step login is on), logout, the account page (password,
two-step login, signed-in devices) and the language setting."""

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ValidationFailed
from ..extensions import limiter, login_manager
from ..i18n import normalise
from . import services, totp
from .forms import ChangePasswordForm, CodeForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"

# Cookie-session keys: the half-way login (password given, code not yet) and where to go after.
PENDING = "mfa_pending"
NEXT = "login_next"


@login_manager.user_loader
def load_user(user_id: str):
    user, ended = services.session_user(user_id)
    if ended:
        g.session_ended = ended
    return user


@bp.before_app_request
def _load_user_first():
    # Load the user before any view runs: the idle and lifetime checks and the once-a-minute
    # last-seen write then commit on their own, never inside a view's transaction.
    if request.endpoint != "static":
        current_user._get_current_object()


def _ended_message() -> str | None:
    ended = g.get("session_ended")
    if ended == "idle":
        minutes = int(current_app.config["SESSION_IDLE_TIMEOUT"].total_seconds() // 60)
        return _(
            "You were logged out after %(n)d minutes without activity. Please log in again.",
            n=minutes,
        )
    if ended == "expired":
        return _("Your login has reached its longest allowed time. Please log in again.")
    return None


@login_manager.unauthorized_handler
def _unauthorized():
    from ..errors import error_response

    ended = _ended_message()
    if request.path.startswith("/api/"):
        return error_response(401, ended or _("Please log in."), code="unauthorized")
    flash(ended or _("Please log in to open this page."), "info")
    return redirect(
        url_for("auth.login", next=request.full_path if request.query_string else request.path)
    )


def _username_key() -> str:
    return "user:" + (request.form.get("username") or "").strip().lower()[:80]


def _pending_key() -> str:
    marker = session.get(PENDING) or {}
    return f"mfa:{marker.get('uid', '')}"


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    # Only failed attempts count against the limit; a successful step redirects.
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _client() -> dict[str, str]:
    return {"ip": request.remote_addr or "", "user_agent": request.user_agent.string or ""}


def _renew_session() -> None:
    """Drop pre-login state; the session identifier changes at login."""
    lang = session.get("lang")
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    if lang:
        session["lang"] = lang


def _complete_login(user, *, remember: bool) -> str:
    """Put the completed login (its token is on user) into the cookies; where to go next."""
    session.pop(PENDING, None)
    target = session.pop(NEXT, None)
    session["sid"] = secrets.token_urlsafe(16)
    login_user(user, remember=remember)
    return _safe_next(target) or url_for("main.index")


def _logged_in(user, *, remember: bool):
    return redirect(_complete_login(user, remember=remember))


def _restart():
    session.pop(PENDING, None)
    flash(_("Please log in again."), "info")
    return redirect(url_for("auth.login"))


def _pending():
    """The pending marker and its user, or (None, None)."""
    marker = session.get(PENDING)
    user = services.pending_user(marker)
    return (marker, user) if user is not None else (None, None)


def _to_pending_step():
    """Send a half-way login to the step it is at (or back to the password when it has none)."""
    marker, user = _pending()
    step = marker.get("step") if user is not None else None
    if step == "code":
        return redirect(url_for(".login_code"))
    if step == "enrol":
        return redirect(url_for(".mfa_enrol"))
    return _restart()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        remember = bool(form.remember.data)
        result = services.log_in_with_password(
            form.username.data, form.password.data, remember=remember, **_client()
        )
        if result is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 200
        _renew_session()
        session[NEXT] = _safe_next(request.args.get("next"))
        if result.token:
            return _logged_in(result.user, remember=remember)
        session[PENDING] = services.pending_marker(
            result.user, remember=remember, next_step=result.next_step
        )
        return redirect(url_for(".login_code" if result.next_step == "code" else ".mfa_enrol"))
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed)
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    marker, user = _pending()
    if user is None or marker.get("step") != "code":
        return _to_pending_step()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            _token, left = services.verify_second_step(
                user, form.code.data, remember=marker["remember"], **_client()
            )
        except ValidationFailed as err:
            flash(err.message, "error")
            return render_template("auth/code.html", form=form), 200
        if left is not None:
            flash(
                ngettext(
                    "You logged in with a recovery code; %(num)d is left. Make new ones on "
                    "your account page.",
                    "You logged in with a recovery code; %(num)d are left. Make new ones on "
                    "your account page.",
                    left,
                ),
                "info",
            )
        return _logged_in(user, remember=marker["remember"])
    return render_template("auth/code.html", form=form)


def _enrolling():
    """Who is setting up two-step login: the logged-in user, or a user half-way through a login
    whose role requires it (then the marker too)."""
    if current_user.is_authenticated:
        return None, current_user._get_current_object()
    marker, user = _pending()
    if user is None or marker.get("step") != "enrol":
        return None, None
    return marker, user


@bp.get("/mfa")
def mfa_enrol():
    marker, user = _enrolling()
    if user is None:
        return _to_pending_step()
    context = {"user": user, "pending": marker is not None, "form": CodeForm()}
    secret = services.pending_mfa_secret(user)
    if secret is not None:
        uri = totp.provisioning_uri(
            secret, account=user.username, issuer=current_app.config["MFA_ISSUER"]
        )
        context.update(secret=secret, qr=totp.qr_data_uri(uri))
    elif user.mfa_enabled:
        context["left"] = services.recovery_codes_left(user)
    return render_template("auth/mfa.html", **context)


@bp.post("/mfa/start")
@limiter.limit(_login_limit)
def mfa_start():
    marker, user = _enrolling()
    if user is None:
        return _to_pending_step()
    if LogoutForm().validate_on_submit():
        try:
            services.begin_mfa_enrolment(user)
        except ValidationFailed as err:
            flash(err.message, "error")
    return redirect(url_for(".mfa_enrol"))


@bp.post("/mfa/confirm")
@limiter.limit(_login_limit, deduct_when=_failed)
def mfa_confirm():
    marker, user = _enrolling()
    if user is None:
        return _to_pending_step()
    form = CodeForm()
    if not form.validate_on_submit():
        flash(_("Type the 6-digit code your app shows."), "error")
        return redirect(url_for(".mfa_enrol"))
    remember = bool(marker and marker.get("remember"))
    try:
        codes, _token = services.confirm_mfa_enrolment(
            user, form.code.data, log_in=marker is not None, remember=remember, **_client()
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return redirect(url_for(".mfa_enrol"))
    target = url_for(".change_password")
    if marker is not None:
        target = _complete_login(user, remember=remember)
    return render_template("auth/recovery_codes.html", codes=codes, target=target)


@bp.post("/mfa/recovery-codes")
@login_required
@limiter.limit(_login_limit, deduct_when=_failed)
def recovery_codes():
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = services.renew_recovery_codes(
                current_user._get_current_object(), form.code.data
            )
        except ValidationFailed as err:
            flash(err.message, "error")
            return redirect(url_for(".mfa_enrol"))
        return render_template(
            "auth/recovery_codes.html", codes=codes, target=url_for(".change_password")
        )
    flash(_("Type the 6-digit code your app shows."), "error")
    return redirect(url_for(".mfa_enrol"))


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return redirect(url_for("main.index"))
    services.log_out(current_user._get_current_object())
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/sessions/end-others")
@login_required
def end_other_sessions():
    if LogoutForm().validate_on_submit():
        ended = services.log_out_other_devices(current_user._get_current_object())
        flash(
            ngettext(
                "%(num)d other login has been ended; this device stays logged in.",
                "%(num)d other logins have been ended; this device stays logged in.",
                ended,
            ),
            "success",
        )
    return redirect(url_for(".change_password"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    status = 200
    if form.validate_on_submit():
        try:
            services.change_password(user, current=form.current.data, new=form.new.data)
        except ValidationFailed as err:
            flash(err.message, "error")
            status = 400
        else:
            flash(
                _("Your password has been changed. Other sessions have been signed out."),
                "success",
            )
            return redirect(url_for("main.index"))
    return render_template(
        "auth/password.html",
        form=form,
        logins=services.open_sessions(user),
        this_login=user.login_session,
        mfa_required=services.mfa_required(user),
        recovery_left=services.recovery_codes_left(user) if user.mfa_enabled else None,
    ), status


@bp.post("/language")
@login_required
def language():
    form = LogoutForm()
    locale = normalise(request.form.get("lang"))
    if form.validate_on_submit() and locale:
        services.set_locale(current_user._get_current_object(), locale)
        session["lang"] = locale
    return redirect(_safe_next(request.form.get("next")) or url_for("main.index"))
