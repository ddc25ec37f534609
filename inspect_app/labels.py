"""Display names for stored codes (roles, unit kinds, statuses), translated per request."""

import json
from types import SimpleNamespace

from flask import Flask
from flask_babel import lazy_gettext as _l

from .models.org import kind_setting

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "inspector": _l("Inspector"),
    "unit": _l("Unit liaison"),
    "viewer": _l("Viewer"),
}

ROLE_INTROS = {
    "admin": _l("You manage accounts and can do everything coordinators do."),
    "coordinator": _l(
        "Keep the registry of units and systems, plan the rounds and follow rectification."
    ),
    "inspector": _l(
        "Your assigned inspections are listed under My inspections; your teams' rectification "
        "items, and the responses waiting for you to verify, under Rectification."
    ),
    "unit": _l(
        "Here you see your unit's rectification items, answer each one with evidence and ask "
        "for more time."
    ),
    "viewer": _l(
        "You can read the registry, the rounds, the rectification ledger and the audit log."
    ),
}

DEPARTMENT_KIND_LABELS = {
    "joint": _l("Member of the joint inspection"),
    "regulator": _l("Sector regulator"),
}

UNIT_KIND_LABELS = {
    "party_gov": _l("Party or government organ"),
    "public_institution": _l("Public institution"),
    "soe": _l("State-owned enterprise"),
    "private_enterprise": _l("Private enterprise"),
    "regiment": _l("Regiment farm"),
    "regiment_town": _l("Regiment town"),
    "company": _l("Regiment company"),
    "other": _l("Other"),
}

INSPECTION_STATUS_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "closed": _l("Closed"),
}

RESULT_LABELS = {
    "compliant": _l("Compliant"),
    "noncompliant": _l("Non-compliant"),
    "not_applicable": _l("Not applicable"),
}

SEVERITY_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}

# The four departments of a joint inspection, by code; a checklist item's lead department.
LEAD_LABELS = {
    "CAC": _l("Cyberspace affairs (CAC)"),
    "PSB": _l("Police cyber unit (PSB)"),
    "MIIT": _l("Industry and IT (MIIT)"),
    "SEC": _l("Secrecy bureau"),
}

# Problem types: a finding's category (rectification/services.py CATEGORY_BY_TEMPLATE).
CATEGORY_LABELS = {
    "responsibility": _l("Responsibility system and management"),
    "cii": _l("Critical information infrastructure"),
    "mlps": _l("Multi-level protection (MLPS)"),
    "data_pi": _l("Data and personal information"),
    "web_secrecy": _l("Websites, new media and secrecy"),
}

RECTIFICATION_STATUS_LABELS = {
    "open": _l("Pending rectification"),
    "submitted": _l("Awaiting verification"),
    "returned": _l("Returned"),
    "closed": _l("Closed (verified)"),
    "risk_accepted": _l("Risk accepted"),
    "escalated": _l("Escalated"),
}

# The unit's home and the ledger group items by what the unit must do next (overdue and due soon
# are derived from the due date, never stored).
RECTIFICATION_GROUP_LABELS = {
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "open": _l("Pending rectification"),
    "returned": _l("Returned"),
    "submitted": _l("Awaiting verification"),
    "closed": _l("Closed (verified)"),
    "other": _l("Risk accepted or escalated"),
}

RECTIFICATION_EVENT_LABELS = {
    "response": _l("Rectification report"),
    "returned": _l("Returned"),
    "verified": _l("Verified and closed"),
    "extension_requested": _l("Extension requested"),
    "extension_granted": _l("Extension granted"),
    "extension_refused": _l("Extension refused"),
    "risk_accepted": _l("Risk accepted"),
    "risk_reopened": _l("Risk acceptance ended; reopened"),
    "escalated": _l("Escalated"),
    "interview": _l("Interview (约谈)"),
    "notification": _l("Notification to the superior department (通报)"),
    "comment": _l("Comment"),
}

ESCALATION_TARGET_LABELS = {
    "police": _l("Public security (police)"),
    "secrecy": _l("Secrecy bureau"),
    "regulator": _l("Sector regulator"),
    "case": _l("Case opened (立案)"),
}

AUDIT_ACTION_LABELS = {
    "auth.login": _l("Logged in"),
    "auth.sessions_pruned": _l("Old login records deleted"),
    "auth.login_failed": _l("Failed login"),
    "auth.logout": _l("Logged out"),
    "auth.password_verified": _l("Password accepted; two-step code pending"),
    "auth.locked": _l("Account locked after failed logins"),
    "auth.session_ended": _l("Login timed out"),
    "auth.sessions_ended": _l("Other logins ended"),
    "auth.password_changed": _l("Changed own password"),
    "mfa.enrol_started": _l("Two-step login set-up started"),
    "mfa.enrol": _l("Two-step login turned on"),
    "mfa.verify_failed": _l("Wrong two-step code"),
    "mfa.recovery_used": _l("Recovery code used"),
    "mfa.recovery_codes_renewed": _l("Recovery codes renewed"),
    "mfa.reset": _l("Two-step login reset"),
    "mfa.secrets_resealed": _l("Two-step secrets sealed under the new key"),
    "user.create": _l("Account created"),
    "user.update": _l("Account changed"),
    "user.password_reset": _l("Password reset"),
    "user.unlock": _l("Account unlocked"),
    "user.locale": _l("Language changed"),
    "department.create": _l("Department created"),
    "department.update": _l("Department changed"),
    "unit.create": _l("Unit created"),
    "unit.update": _l("Unit changed"),
    "unit.import": _l("Units imported"),
    "system.create": _l("System created"),
    "system.update": _l("System changed"),
    "system.import": _l("Systems imported"),
    "checklist.load": _l("Checklist version loaded"),
    "checklist.delete": _l("Checklist version deleted"),
    "round.create": _l("Round created"),
    "round.update": _l("Round changed"),
    "round.start": _l("Round started"),
    "round.close": _l("Round closed"),
    "inspection.assign": _l("Inspection assigned"),
    "inspection.plan_update": _l("Inspection plan changed"),
    "inspection.remove": _l("Planned inspection removed"),
    "inspection.start": _l("Inspection started"),
    "inspection.submit": _l("Inspection submitted"),
    "inspection.reopen": _l("Inspection reopened"),
    "inspection.notice_served": _l("Notice served"),
    "notice.draft": _l("Notice drafted"),
    "notice.approve": _l("Notice approved and numbered"),
    "notice.withdraw": _l("Approved notice returned to draft"),
    "visit.record": _l("Inspection record completed"),
    "visit.arrive": _l("Arrival registered (扫码入企)"),
    "selfcheck.save": _l("Self-assessment saved"),
    "visit.rate": _l("The unit rated the team's conduct"),
    "visit.plan_approve": _l("Visit plan approved, inspection notice issued"),
    "visit.advance_notice_served": _l("Inspection notice served"),
    "visit.sign": _l("Inspection record signed by an inspector"),
    "answer.update": _l("Answer changed"),
    "evidence.add": _l("Evidence added"),
    "evidence.delete": _l("Evidence removed"),
    "finding.create": _l("Finding recorded"),
    "finding.withdraw": _l("Finding withdrawn"),
    "finding.move": _l("Finding moved to a linked checklist"),
    "rectification.respond": _l("Rectification report submitted"),
    "rectification.extension_request": _l("Extension requested"),
    "rectification.extension_grant": _l("Extension granted"),
    "rectification.extension_refuse": _l("Extension refused"),
    "rectification.verify": _l("Rectification verified and closed"),
    "rectification.return": _l("Rectification returned"),
    "rectification.accept_risk": _l("Risk accepted"),
    "rectification.risk_reopened": _l("Risk acceptance ended"),
    "rectification.escalate": _l("Rectification escalated"),
    "rectification.interview": _l("Interview recorded"),
    "rectification.notify_superior": _l("Notification to the superior recorded"),
    "rectification.bulk_verify": _l("Rectification verified (bulk)"),
    "rectification.bulk_return": _l("Rectification returned (bulk)"),
    "rectification.bulk_extend": _l("Due date extended (bulk)"),
    "demo.seed": _l("Demo data added"),
    "job.start": _l("Background job started"),
    "job.done": _l("Background job finished"),
    "job.fail": _l("Background job failed"),
    "job.expire": _l("Background job's file deleted (expired)"),
    "job.download": _l("Background job's file downloaded"),
    "export.download": _l("Workbook downloaded"),
}

# The audit log's action filter groups actions by the part before the first dot.
AUDIT_FAMILY_LABELS = {
    "auth": _l("Login"),
    "mfa": _l("Two-step login"),
    "user": _l("Account"),
    "department": _l("Department"),
    "unit": _l("Unit"),
    "system": _l("System"),
    "checklist": _l("Checklist"),
    "round": _l("Round"),
    "inspection": _l("Inspection"),
    "notice": _l("Notice"),
    "visit": _l("Visit"),
    "selfcheck": _l("Self-inspection"),
    "answer": _l("Answer"),
    "evidence": _l("Evidence file"),
    "finding": _l("Finding"),
    "rectification": _l("Rectification item"),
    "demo": _l("Demo data"),
    "job": _l("Background job"),
    "export": _l("Export"),
}

OBJECT_TYPE_LABELS = {
    "User": _l("Account"),
    "Department": _l("Department"),
    "Unit": _l("Unit"),
    "System": _l("System"),
    "ChecklistTemplate": _l("Checklist version"),
    "Round": _l("Round"),
    "Inspection": _l("Inspection"),
    "Visit": _l("Visit"),
    "Answer": _l("Answer"),
    "Attachment": _l("Evidence file"),
    "Finding": _l("Finding"),
    "RectificationItem": _l("Rectification item"),
    "Demo": _l("Demo data"),
    "Job": _l("Background job"),
    "Import": _l("Directory import"),
    "LoginSession": _l("Login records"),
}


SERVICE_METHOD_LABELS = {
    "direct": _l("In person (直接送达)"),
    "post": _l("By post (邮寄送达)"),
    "electronic": _l("Electronically (电子送达)"),
    "left": _l("Left at the place on refusal (留置送达)"),
}

INSPECTION_METHOD_LABELS = {
    "onsite": _l("On site"),
    "documentary": _l("In writing (documents)"),
    "remote": _l("Remote testing"),
}


def legal_basis_text(entry: dict) -> str:
    """One legal basis as a citation: 网络安全法第23条（原第21条） or GB/T 22239-2019 8.1.5.4."""
    if "law" in entry:
        text = f"《{entry['law']}》{entry.get('article', '')}"
        if entry.get("article_pre2026"):
            text += str(_l("(formerly %(article)s)", article=entry["article_pre2026"]))
        return text
    clauses = entry.get("clauses")
    if isinstance(clauses, dict) and not entry.get("clause"):
        # Not yet resolved for a system: every level's clause, e.g. 第二级 7.1.4.8；第三级 8.1.4.9.
        per_level = "；".join(
            str(_l("level %(n)s: %(clause)s", n=key[-1], clause=value))
            for key, value in sorted(clauses.items())
            if value
        )
        return f"{entry.get('standard', '')} {per_level}".strip()
    return f"{entry.get('standard', '')} {entry.get('clause', '')}".strip()


def localized(obj, field: str) -> str:
    """obj.<field>_en in English when it has one, else the Chinese obj.<field>."""
    from flask_babel import get_locale

    locale = get_locale()
    if locale is not None and locale.language == "en":
        english = getattr(obj, f"{field}_en", "") or ""
        if english:
            return english
    return getattr(obj, field, "") or ""


def answer_value(item, value):
    """An answer's value as people read it: for a choice, its option's label (English where the
    page is, when the checklist has one), not the value it stores; other values as they are."""
    if value is None or getattr(item, "kind", None) != "choice":
        return value
    return choice_labels(getattr(item, "options", None)).get(value, value)


def choice_labels(options: list | None) -> dict:
    """A choice item's options as {stored value: label in the page's language}."""
    return {
        option.get("value"): localized(SimpleNamespace(**option), "label") or option.get("value")
        for option in options or []
        if isinstance(option, dict) and "value" in option
    }


def label(mapping: dict, code: str | None) -> str:
    if code is None:
        return ""
    return str(mapping.get(code, code))


def pretty_json(value) -> str:
    """Indented JSON that keeps Chinese readable (autoescaping still applies)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def register(app: Flask) -> None:
    from .citations import citer_for

    app.jinja_env.filters["pretty_json"] = pretty_json
    app.jinja_env.globals.update(
        role_label=lambda code: label(ROLE_LABELS, code),
        role_intro=lambda code: label(ROLE_INTROS, code),
        unit_kind_label=lambda code: label(UNIT_KIND_LABELS, code),
        department_kind_label=lambda code: label(DEPARTMENT_KIND_LABELS, code),
        inspection_status_label=lambda code: label(INSPECTION_STATUS_LABELS, code),
        result_label=lambda code: label(RESULT_LABELS, code),
        severity_label=lambda code: label(SEVERITY_LABELS, code),
        lead_label=lambda code: label(LEAD_LABELS, code),
        category_label=lambda code: label(CATEGORY_LABELS, code),
        rectification_status_label=lambda code: label(RECTIFICATION_STATUS_LABELS, code),
        rectification_group_label=lambda code: label(RECTIFICATION_GROUP_LABELS, code),
        rectification_event_label=lambda code: label(RECTIFICATION_EVENT_LABELS, code),
        escalation_target_label=lambda code: label(ESCALATION_TARGET_LABELS, code),
        legal_basis_text=legal_basis_text,
        citer_for=citer_for,
        localized=localized,
        answer_value=answer_value,
        audit_action_label=lambda code: label(AUDIT_ACTION_LABELS, code),
        audit_family_label=lambda code: label(AUDIT_FAMILY_LABELS, code),
        object_type_label=lambda code: label(OBJECT_TYPE_LABELS, code),
        service_method_label=lambda code: label(SERVICE_METHOD_LABELS, code),
        inspection_method_label=lambda code: label(INSPECTION_METHOD_LABELS, code),
        nature_label=_nature_label,
        kind_setting=kind_setting,
    )


def _nature_label(code: str | None) -> str:
    from .rounds.labels import NATURE_LABELS

    return label(NATURE_LABELS, code)
