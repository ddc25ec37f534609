"""Directory pages: departments, units, systems, accounts, the unit's own page and Excel import."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import xlsx as kit
from ..auth import services as auth_services
from ..auth.permissions import action_required, can, get_visible_or_404
from ..errors import ValidationFailed
from ..extensions import db
from ..models import ROLES, UNIT_KINDS, Department, System, Unit, User
from ..rectification import queries as rectification
from ..web import int_arg, page_arg
from . import importer, services
from .forms import (
    MLPS_LEVEL_LABELS,
    CreateUserForm,
    DepartmentForm,
    EditUserForm,
    ImportForm,
    ResetPasswordForm,
    SystemForm,
    UnitForm,
)

bp = Blueprint("directory", __name__, url_prefix="/directory")

KINDS = "any(units, systems)"
FINDINGS_SHOWN = 20  # the unit page's history; the ledger filtered by unit has them all


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {"mlps_label": lambda level: str(MLPS_LEVEL_LABELS.get(level, level or ""))}


def _actor() -> User:
    return current_user._get_current_object()


def _args(*names: str) -> dict[str, str]:
    return {name: (request.args.get(name) or "").strip() for name in names}


def _paginate(stmt):
    return db.paginate(
        stmt, page=page_arg(), per_page=current_app.config["PAGE_SIZE"], error_out=False
    )


def _submit(form, command: Callable[[], Any]) -> Any:
    """Run command when the form is valid; on a service refusal put its messages on the form."""
    if not form.validate_on_submit():
        if form.is_submitted():  # the fields say what is wrong; the top of the page says so too
            flash(_("Please correct the marked fields."), "error")
        return None
    try:
        return command()
    except ValidationFailed as err:
        form.add_errors(err.details if isinstance(err.details, dict) else None)
        flash(err.message, "error")
        return None


def _render_form(template: str, form, **context):
    status = 400 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


# --- departments ------------------------------------------------------------------------------


@bp.get("/departments")
@login_required
@action_required("directory.view")
def departments():
    items = db.session.scalars(services.department_query(_actor())).all()
    return render_template("directory/departments.html", departments=items)


@bp.route("/departments/new", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def department_new():
    form = DepartmentForm()
    if _submit(form, lambda: services.create_department(form.values(), actor=_actor())):
        flash(_("The department has been added."), "success")
        return redirect(url_for(".departments"))
    return _render_form("directory/department_form.html", form, department=None)


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def department_edit(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department)
    if _submit(
        form, lambda: services.update_department(department_id, form.values(), actor=_actor())
    ):
        flash(_("The department has been saved."), "success")
        return redirect(url_for(".departments"))
    return _render_form("directory/department_form.html", form, department=department)


# --- units ------------------------------------------------------------------------------------


@bp.get("/units")
@login_required
@action_required("directory.view")
def units():
    args = _args("q", "kind", "key", "cii", "active")
    page = _paginate(services.unit_query(_actor(), **args))
    return render_template("directory/units.html", page=page, args=args, kinds=UNIT_KINDS)


@bp.get("/units/<int:unit_id>")
@login_required
@action_required("directory.view")
def unit_show(unit_id: int):
    from ..inspections.arrival import arrival_code

    unit = get_visible_or_404(Unit, unit_id)
    return render_template(
        "directory/unit_show.html",
        unit=unit,
        mine=False,
        findings=_findings(unit),
        arrival_code=arrival_code(unit),
    )


@bp.get("/units/<int:unit_id>/arrival-code.svg")
@login_required
@action_required("directory.view")
def unit_arrival_qr(unit_id: int):
    """The unit's 扫码入企 QR code: it opens the arrival page with the unit's code."""
    from ..inspections import arrival

    unit = get_visible_or_404(Unit, unit_id)
    url = url_for("inspections.arrive", code=arrival.arrival_code(unit), _external=True)
    response = make_response(arrival.qr_svg(url))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=600"
    return response


@bp.get("/my-unit")
@login_required
@action_required("directory.view")
def my_unit():
    if current_user.unit_id is None:
        return redirect(url_for(".units"))
    from ..inspections import selfcheck
    from ..inspections.arrival import arrival_code
    from ..inspections.forms import RateConductForm

    unit = get_visible_or_404(Unit, current_user.unit_id)
    return render_template(
        "directory/unit_show.html",
        unit=unit,
        mine=True,
        findings=_findings(unit),
        arrival_code=arrival_code(unit),
        announced=selfcheck.announced_visits(_actor()),
        rated=selfcheck.visits_on_record(_actor()),
        rate_form=RateConductForm(),
    )


def _findings(unit: Unit) -> list | None:
    """The unit's findings across rounds (its short repeat history), for who may see them."""
    if not can(_actor(), "rectification.view"):
        return None
    return rectification.unit_findings(_actor(), unit.id, limit=FINDINGS_SHOWN)


@bp.route("/units/new", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def unit_new():
    form = UnitForm()
    unit = _submit(form, lambda: services.create_unit(form.values(), actor=_actor()))
    if unit:
        flash(_("The unit %(name)s has been added.", name=unit.name), "success")
        return redirect(url_for(".unit_show", unit_id=unit.id))
    return _render_form(
        "directory/unit_form.html", form, unit=None, unit_choices=services.unit_choices(_actor())
    )


@bp.route("/units/<int:unit_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def unit_edit(unit_id: int):
    unit = get_visible_or_404(Unit, unit_id)
    form = UnitForm(obj=unit, parent_code=unit.parent.code if unit.parent else "")
    if _submit(form, lambda: services.update_unit(unit_id, form.values(), actor=_actor())):
        flash(_("The unit has been saved."), "success")
        return redirect(url_for(".unit_show", unit_id=unit_id))
    return _render_form(
        "directory/unit_form.html", form, unit=unit, unit_choices=services.unit_choices(_actor())
    )


# --- systems ----------------------------------------------------------------------------------


@bp.get("/systems")
@login_required
@action_required("directory.view")
def systems():
    args = _args("q", "level", "cii", "internet", "unit")
    level = int_arg("level", label=_("The MLPS level"), lo=1, hi=5)
    stmt = services.system_query(
        _actor(),
        q=args["q"],
        level=level,
        cii=args["cii"],
        internet=args["internet"],
        unit_code=args["unit"],
    )
    return render_template(
        "directory/systems.html",
        page=_paginate(stmt),
        args=args,
        levels=services.MLPS_LEVELS,
        unit_choices=services.unit_choices(_actor()),
    )


@bp.get("/systems/<int:system_id>")
@login_required
@action_required("directory.view")
def system_show(system_id: int):
    system = get_visible_or_404(System, system_id)
    return render_template("directory/system_show.html", system=system)


@bp.route("/systems/new", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def system_new():
    form = SystemForm(unit_code=request.args.get("unit", ""))
    system = _submit(form, lambda: services.create_system(form.values(), actor=_actor()))
    if system:
        flash(_("The system %(name)s has been added.", name=system.name), "success")
        return redirect(url_for(".system_show", system_id=system.id))
    return _render_form(
        "directory/system_form.html",
        form,
        system=None,
        unit_choices=services.unit_choices(_actor()),
    )


@bp.route("/systems/<int:system_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("directory.edit")
def system_edit(system_id: int):
    system = get_visible_or_404(System, system_id)
    form = SystemForm(obj=system, unit_code=system.unit.code)
    if _submit(form, lambda: services.update_system(system_id, form.values(), actor=_actor())):
        flash(_("The system has been saved."), "success")
        return redirect(url_for(".system_show", system_id=system_id))
    return _render_form(
        "directory/system_form.html",
        form,
        system=system,
        unit_choices=services.unit_choices(_actor()),
    )


# --- Excel import -----------------------------------------------------------------------------


@bp.get(f"/<{KINDS}:kind>/import/template")
@login_required
@action_required("directory.import")
def import_template(kind: str):
    data = importer.build_template(kind)
    return send_file(
        BytesIO(data),
        mimetype=kit.MIMETYPE,
        as_attachment=True,
        download_name=importer.SPECS[kind].filename,
    )


@bp.route(f"/<{KINDS}:kind>/import", methods=["GET", "POST"])
@login_required
@action_required("directory.import")
def import_file(kind: str):
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read(importer.max_bytes() + 1)  # one byte over tells "too large"
        try:
            report = importer.IMPORTERS[kind](data, actor=_actor(), filename=upload.filename or "")
        except importer.ImportRejected as err:
            flash(err.message, "error")
            return _import_page(form, kind, err.errors), 400
        flash(
            _(
                "Imported %(rows)d rows: %(created)d added, %(updated)d updated, %(unchanged)d unchanged.",
                rows=report.rows,
                created=report.created,
                updated=report.updated,
                unchanged=report.unchanged,
            ),
            "success",
        )
        return redirect(url_for(f".{kind}"))
    return _import_page(form, kind, []), 400 if form.is_submitted() else 200


def _import_page(form, kind: str, errors: list):
    max_mb = importer.max_bytes() // (1024 * 1024)
    return render_template(
        "directory/import.html", form=form, kind=kind, errors=errors, max_mb=max_mb
    )


# --- accounts ---------------------------------------------------------------------------------


@bp.get("/users")
@login_required
@action_required("users.view")
def users():
    args = _args("role", "q")
    page = _paginate(services.user_query(_actor(), **args))
    manageable = services.assignable_roles(_actor())
    return render_template(
        "directory/users.html", page=page, args=args, roles=ROLES, manageable=manageable
    )


def _account_form(form_class, **kw):
    form = form_class(**kw)
    form.set_choices(services.assignable_roles(_actor()), services.department_choices())
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@login_required
@action_required("users.view")
def user_new():
    form = _account_form(CreateUserForm)
    user = _submit(form, lambda: services.create_account(form.values(), actor=_actor()))
    if user:
        flash(_("The account %(name)s has been created.", name=user.username), "success")
        return redirect(url_for(".users"))
    return _render_form(
        "directory/user_form.html", form, account=None, unit_choices=services.unit_choices(_actor())
    )


def _managed_account(user_id: int) -> User:
    account = db.get_or_404(User, user_id)
    if not services.may_manage_role(_actor(), account.role):
        abort(403)
    return account


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@login_required
@action_required("users.view")
def user_edit(user_id: int):
    account = _managed_account(user_id)
    form = _account_form(
        EditUserForm,
        obj=account,
        active=account.is_active_flag,
        department_code=account.department.code if account.department else "",
        unit_code=account.unit.code if account.unit else "",
    )
    if _submit(form, lambda: services.update_account(user_id, form.values(), actor=_actor())):
        flash(_("The account has been saved."), "success")
        return redirect(url_for(".users"))
    return _render_form(
        "directory/user_form.html",
        form,
        account=account,
        unit_choices=services.unit_choices(_actor()),
    )


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@login_required
@action_required("users.view")
def user_password(user_id: int):
    account = _managed_account(user_id)
    form = ResetPasswordForm()
    if _submit(form, lambda: services.reset_password(user_id, form.password.data, actor=_actor())):
        flash(_("The password has been reset; the account's sessions have ended."), "success")
        return redirect(url_for(".users"))
    return _render_form("directory/user_password.html", form, account=account)


@bp.route("/users/<int:user_id>/sign-in", methods=["GET", "POST"])
@login_required
@action_required("users.view")
def user_sign_in(user_id: int):
    """An account's failed logins, lock and two-step login; unlock (admins, and coordinators
    for the accounts they manage) and reset two-step login (admins). CSRF: CSRFProtect."""
    account = _managed_account(user_id)
    action = request.form.get("action")
    if action == "unlock":
        auth_services.unlock_account(user_id, actor=_actor())
        flash(_("The account %(name)s has been unlocked.", name=account.username), "success")
    elif action == "reset_mfa":
        auth_services.reset_mfa(user_id, actor=_actor())
        flash(
            _(
                "Two-step login of %(name)s has been reset; the account's sessions have ended.",
                name=account.username,
            ),
            "success",
        )
    if request.method == "POST":
        return redirect(url_for(".user_sign_in", user_id=user_id))
    return render_template(
        "directory/user_sign_in.html",
        account=account,
        sign_in=auth_services.sign_in_status(account, actor=_actor()),
    )
