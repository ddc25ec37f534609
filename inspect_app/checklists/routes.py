"""Coordinator pages for checklist templates: versions, preview, diff, upload check, downloads."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import xlsx as kit
from ..auth.permissions import action_required, can
from ..extensions import db
from ..models import System, Unit
from ..web import int_arg
from . import display, loader, schema, services, xlsx
from .errors import ChecklistError
from .forms import DeleteVersionForm, UploadChecklistForm

bp = Blueprint("checklists", __name__, url_prefix="/checklists")


@bp.context_processor
def _helpers():
    return {"ck_label": display.label, "basis_text": display.basis_text, "flow": xlsx.flow}


def _download_name(template, suffix: str) -> str:
    return f"{template.key}_{template.version}.{suffix}"


@bp.get("/")
@login_required
@action_required("checklists.view")
def index():
    return render_template(
        "checklists/index.html",
        groups=services.overview(),
        form=UploadChecklistForm(),
        max_mb=_max_mb(),
    )


@bp.get("/<int:template_id>")
@login_required
@action_required("checklists.view")
def show(template_id: int):
    template = services.get_template(template_id)
    unit = system = level = None
    # Previewing for a unit or system lists the directory: only for those who may browse it.
    # A level preview names no one, so every reader may choose one.
    browse = can(current_user, "directory.view")
    if template.target == "system":
        level = int_arg("level", label=_("The MLPS level"), hi=5)
        if browse:
            system = db.session.get(System, int_arg("system_id", label=_("The system")) or 0)
    elif browse:
        unit = db.session.get(Unit, int_arg("unit_id", label=_("The unit")) or 0)
    return render_template(
        "checklists/show.html",
        template=template,
        sections=services.preview(
            template, unit=unit, system=system, level=level, value_label=display.value_label
        ),
        candidates=services.candidates(template.target) if browse else [],
        unit=unit,
        system=system,
        level=None if system else level,
        uses=services.inspections_using(template.id),
        previous=services.previous_version(template),
        delete_form=DeleteVersionForm(),
    )


@bp.get("/<int:template_id>.xlsx")
@login_required
@action_required("checklists.view")
def download_xlsx(template_id: int):
    template = services.get_template(template_id)
    return send_file(
        io.BytesIO(xlsx.build_workbook(template.definition)),
        mimetype=kit.MIMETYPE,
        as_attachment=True,
        download_name=_download_name(template, "xlsx"),
    )


@bp.get("/<int:template_id>.yaml")
@login_required
@action_required("checklists.view")
def download_yaml(template_id: int):
    template = services.get_template(template_id)
    text = xlsx.to_yaml(schema.TemplateModel.model_validate(template.definition))
    return send_file(
        io.BytesIO(text.encode("utf-8")),
        mimetype="application/yaml",
        as_attachment=True,
        download_name=_download_name(template, "yaml"),
    )


@bp.get("/diff")
@login_required
@action_required("checklists.view")
def diff():
    old = services.get_template(int_arg("old", label=_("The older version")) or 0)
    new = services.get_template(int_arg("new", label=_("The newer version")) or 0)
    return render_template(
        "checklists/diff.html",
        old=old,
        new=new,
        diff=services.diff(old.definition, new.definition),
        versions=services.versions_of(new.key),
    )


@bp.route("/upload", methods=["GET", "POST"])
@login_required
@action_required("checklists.edit")
def upload():
    form = UploadChecklistForm()
    if not form.validate_on_submit():  # a form sent without its file is refused (400)
        page = render_template("checklists/upload.html", form=form, max_mb=_max_mb(), checked=None)
        return page, 400 if request.method == "POST" else 200
    raw, filename = form.file.data.read(), form.file.data.filename
    if request.form.get("action") == "load":
        try:
            result = services.load_upload(raw, filename, actor=current_user)
        except ChecklistError as err:
            return _upload_page(form, services.upload_name(filename), err.problems, None)
        if result.status == "added":
            flash(
                _("%(key)s version %(version)s loaded.", key=result.key, version=result.version),
                "success",
            )
        else:
            flash(
                _(
                    "%(key)s version %(version)s is already loaded with the same content.",
                    key=result.key,
                    version=result.version,
                ),
                "success",
            )
        return redirect(url_for("checklists.show", template_id=result.template_id))
    checked = services.check_upload(raw, filename)
    return _upload_page(form, checked.source, checked.problems, checked.template)


def _upload_page(form, name, problems, template):
    latest = services.find_version(template.key) if template else None
    existing = services.find_version(template.key, template.version) if template else None
    changes = (
        services.diff(latest.definition, template.definition()) if latest and template else None
    )
    return render_template(
        "checklists/upload.html",
        form=form,
        max_mb=_max_mb(),
        checked={
            "name": name,
            "problems": problems,
            "template": template,
            "latest": latest,
            "existing": existing,
        },
        changes=changes,
    ), (200 if not problems else 422)


@bp.post("/<int:template_id>/delete")
@login_required
@action_required("checklists.edit")
def delete(template_id: int):
    if not DeleteVersionForm().validate_on_submit():
        abort(400)
    template = services.get_template(template_id)
    label = f"{template.key} {template.version}"
    services.delete_version(template_id, actor=current_user)
    flash(_("Version %(label)s deleted.", label=label), "success")
    return redirect(url_for("checklists.index"))


def _max_mb() -> float:
    return round(loader.max_bytes() / 1_000_000, 1)
