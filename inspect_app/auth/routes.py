"""Login, logout, password change and the language setting."""

import secrets
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ValidationFailed
from ..extensions import db, limiter, login_manager
from ..i18n import normalise
from ..models import User
from . import services
from .forms import ChangePasswordForm, LoginForm, LogoutForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

login_manager.login_view = "auth.login"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str):
    ident, _sep, token = user_id.partition(":")
    if not ident.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is None or not secrets.compare_digest(user.session_token, token):
        return None
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    from ..errors import error_response

    if request.path.startswith("/api/"):
        return error_response(401, _("Please log in."), code="unauthorized")
    flash(_("Please log in to open this page."), "info")
    return redirect(
        url_for("auth.login", next=request.full_path if request.query_string else request.path)
    )


def _username_key() -> str:
    return "user:" + (request.form.get("username") or "").strip().lower()[:80]


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed(response) -> bool:
    # Only failed attempts count against the limit; a successful login redirects.
    return response.status_code != 302


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 200
        lang = session.get("lang")
        session.clear()  # drop pre-login state; the session identifier changes at login
        session["sid"] = secrets.token_urlsafe(16)
        if lang:
            session["lang"] = lang
        login_user(user, remember=form.remember.data)
        return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Try again."), "error")
        return redirect(url_for("main.index"))
    services.record_logout(current_user._get_current_object())
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            services.change_password(user, current=form.current.data, new=form.new.data)
        except ValidationFailed as err:
            flash(err.message, "error")
            return render_template("auth/password.html", form=form), 400
        login_user(user)  # keep this session: get_id() carries the new token
        flash(_("Your password has been changed. Other sessions have been signed out."), "success")
        return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)


@bp.post("/language")
@login_required
def language():
    form = LogoutForm()
    locale = normalise(request.form.get("lang"))
    if form.validate_on_submit() and locale:
        services.set_locale(current_user._get_current_object(), locale)
        session["lang"] = locale
    return redirect(_safe_next(request.form.get("next")) or url_for("main.index"))
