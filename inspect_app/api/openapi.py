"""The OpenAPI 3.1 description of API v1 (hand-written: it is the contract the tablet relies on)."""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}

NULLABLE_STRING = {"type": ["string", "null"]}
RESULT = {
    "type": ["string", "null"],
    "enum": ["compliant", "noncompliant", "not_applicable", None],
}
SEVERITY = {"type": ["string", "null"], "enum": ["high", "medium", "low", None]}

ANSWER = {
    "type": "object",
    "required": ["item_id", "result", "value", "note", "version"],
    "properties": {
        "item_id": {"type": "integer"},
        "item_code": NULLABLE_STRING,
        "result": RESULT,
        "value": {"description": "A number, text, date or option value; null when unset."},
        "note": {"type": "string"},
        "finding_description": {"type": "string"},
        "finding_severity": SEVERITY,
        "finding_deadline_days": {"type": ["integer", "null"]},
        "version": {"type": "integer"},
        "updated_by": NULLABLE_STRING,
        "updated_at": NULLABLE_STRING,
    },
}

CHANGE = {
    "type": "object",
    "required": ["change_id", "item_id", "base_version"],
    "properties": {
        "change_id": {
            "type": "string",
            "format": "uuid",
            "description": "Made by the client; a replay is reported as duplicate.",
        },
        "item_id": {"type": "integer"},
        "base_version": {
            "type": "integer",
            "description": "The answer version the change was made on.",
        },
        "result": RESULT,
        "value": {},
        "note": {"type": "string", "maxLength": 5000},
        "finding_description": {"type": "string", "maxLength": 5000},
        "finding_severity": SEVERITY,
        "finding_deadline_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 365},
    },
}

OUTCOME = {
    "type": "object",
    "required": ["change_id", "status"],
    "properties": {
        "change_id": {
            "description": "The change's change_id (lower case); a rejected change echoes "
            "whatever was sent, null when the change was not an object."
        },
        "status": {"type": "string", "enum": ["applied", "duplicate", "conflict", "rejected"]},
        "answer": {**ANSWER, "description": "The answer as stored, when applied or duplicate."},
        "server": {**ANSWER, "description": "The server's current answer, on conflict."},
        "message": {"type": "string", "description": "Why the change was rejected."},
    },
}

TEAM_MEMBER = {
    "type": "object",
    "required": ["user_id", "name"],
    "properties": {
        "user_id": {"type": "integer"},
        "name": {"type": "string"},
        "department_id": {"type": ["integer", "null"]},
        "certificate_no": {"type": "string"},
    },
}

SUMMARY = {
    "type": "object",
    "required": ["id", "status", "unit", "round", "checklist", "team", "url"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["planned", "in_progress", "submitted", "closed"]},
        "round": {
            "type": "object",
            "required": ["id", "year", "seq", "title"],
            "properties": {
                "id": {"type": "integer"},
                "year": {"type": "integer"},
                "seq": {"type": "integer"},
                "title": {"type": "string"},
            },
        },
        "unit": {
            "type": "object",
            "required": ["id", "code", "name"],
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
            },
        },
        "system": {
            "type": ["object", "null"],
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
                "mlps_level": {"type": "integer"},
            },
        },
        "checklist": {
            "type": "object",
            "required": ["id", "key", "version", "title"],
            "properties": {
                "id": {"type": "integer"},
                "key": {"type": "string"},
                "version": {"type": "string"},
                "title": {"type": "string"},
            },
        },
        "scheduled_on": {"type": ["string", "null"], "format": "date"},
        "lead_id": {"type": ["integer", "null"]},
        "team": {"type": "array", "items": TEAM_MEMBER},
        "score": {"type": ["number", "null"]},
        "compliance_rate": {"type": ["number", "null"]},
        "notice_number": NULLABLE_STRING,
        "progress": {
            "type": "object",
            "required": ["answered", "total"],
            "properties": {"answered": {"type": "integer"}, "total": {"type": "integer"}},
        },
        "url": {"type": "string"},
    },
}

ITEM = {
    "type": "object",
    "required": ["id", "code", "text", "kind"],
    "properties": {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "section_index": {"type": "integer"},
        "section_title": {"type": "string"},
        "section_title_en": {"type": "string"},
        "text": {"type": "string"},
        "text_en": {"type": "string"},
        "kind": {"type": "string"},
        "options": {"type": ["array", "null"]},
        "guidance": {"type": "string"},
        "legal_basis": {"type": ["array", "null"]},
        "severity": {"type": "string"},
        "major_hazard": {"type": "boolean"},
        "deadline_days": {"type": "integer"},
        "evidence": {"type": "string"},
        "lead_department": NULLABLE_STRING,
        "weight": {"type": "number"},
        "veto": {"type": "boolean"},
        "required_action": {"type": "string", "description": "整改要求 when non-compliant."},
        "same_as": {
            "type": ["string", "null"],
            "description": "The canonical item of another checklist checking the same duty.",
        },
        "show_if": {"description": "A condition on other items' answers, or null."},
    },
}

ATTACHMENT = {
    "type": "object",
    "required": ["id", "sha256", "mime", "size", "kind", "url"],
    "properties": {
        "id": {"type": "integer"},
        "sha256": {"type": "string"},
        "mime": {"type": "string"},
        "size": {"type": "integer"},
        "kind": {"type": "string", "enum": ["photo", "document", "signature"]},
        "item_answer_id": {"type": ["integer", "null"]},
        "url": {"type": "string"},
        "thumbnail_url": NULLABLE_STRING,
    },
}

DETAIL = {
    "allOf": [
        SUMMARY,
        {
            "type": "object",
            "required": ["items", "answers", "attachments", "shown_item_codes"],
            "properties": {
                "items": {"type": "array", "items": ITEM},
                "not_applicable_item_ids": {"type": "array", "items": {"type": "integer"}},
                "shown_item_codes": {"type": "array", "items": {"type": "string"}},
                "answers": {"type": "array", "items": ANSWER},
                "previous_answers": {
                    "type": "object",
                    "description": "Last round's answers of the same unit, by item code.",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "result": RESULT,
                            "value": {},
                            "note": NULLABLE_STRING,
                            "round": {"type": "string"},
                            "inspection_id": {"type": "integer"},
                        },
                    },
                },
                "attachments": {"type": "array", "items": ATTACHMENT},
            },
        },
    ]
}

ME = {
    "type": "object",
    "required": ["id", "username", "role"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "role": {
            "type": "string",
            "enum": ["admin", "coordinator", "inspector", "unit", "viewer"],
        },
        "unit_id": {"type": ["integer", "null"]},
        "department_id": {"type": ["integer", "null"]},
        "locale": NULLABLE_STRING,
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


ERROR_NAMES = {
    400: "Bad input, or a missing or stale CSRF token (code csrf_failed)",
    401: "Not logged in",
    403: "Forbidden",
    404: "Not found or not visible",
    405: "Method not allowed",
    409: "Not in a state that allows this",
    413: "Too large",
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": ERROR_NAMES[c], **_json(ERROR)} for c in codes}


# Every write can fail its CSRF check (400), its login (401) or its size limit (413).
WRITE_ERRORS = (400, 401, 403, 404, 409, 413)


def _id_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


# --- rectification --------------------------------------------------------------------------

DATE = {"type": ["string", "null"], "format": "date"}
STATUS = {
    "type": "string",
    "enum": ["open", "submitted", "returned", "closed", "risk_accepted", "escalated"],
}
ITEM_SUMMARY = {
    "type": "object",
    "required": ["id", "version", "status", "overdue", "due_date", "deadline_days", "finding"],
    "properties": {
        "id": {"type": "integer"},
        "version": {
            "type": "integer",
            "description": "Send it back as `version` with a write: a stale one gets a 409.",
        },
        "status": STATUS,
        "overdue": {"type": "boolean"},
        "due_soon": {"type": "boolean"},
        "due_date": {
            **DATE,
            "description": "Null until the notice is served: then served date + deadline_days.",
        },
        "deadline_days": {"type": "integer"},
        "days_left": {"type": ["integer", "null"]},
        "unit": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "name": {"type": "string"},
            },
        },
        "finding": {
            "type": "object",
            "required": ["id", "code", "description", "severity"],
            "properties": {
                "id": {"type": "integer"},
                "code": {"type": "string"},
                "description": {"type": "string"},
                "severity": {"type": "string", "enum": ["high", "medium", "low"]},
                "raised_from": NULLABLE_STRING,
                "repeat_count": {"type": "integer"},
                "inspection_id": {"type": "integer"},
                "notice_number": NULLABLE_STRING,
                "legal_basis": {"type": "array"},
            },
        },
        "pending_extension": {"type": "boolean"},
        "responded_at": NULLABLE_STRING,
        "closed_at": NULLABLE_STRING,
    },
}
EVENT = {
    "type": "object",
    "required": ["id", "kind", "message", "data", "created_at", "attachments"],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string"},
        "actor": NULLABLE_STRING,
        "on_behalf": {"type": "boolean"},
        "message": {"type": "string"},
        "data": {"type": "object"},
        "created_at": {"type": "string"},
        "attachments": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "mime": {"type": "string"},
                    "size": {"type": "integer"},
                    "url": NULLABLE_STRING,
                },
            },
        },
    },
}
ITEM_DETAIL = {
    "allOf": [
        ITEM_SUMMARY,
        {
            "type": "object",
            "required": ["events"],
            "properties": {
                "responsible_person": {"type": "string"},
                "responsible_phone": {"type": "string"},
                "risk_accepted_until": DATE,
                "escalated_to": NULLABLE_STRING,
                "events": {"type": "array", "items": EVENT},
            },
        },
    ]
}
VERSION = {"type": "integer", "description": "The item version the user saw (optional)."}
TEXT = {"type": "string", "maxLength": 5000}


def _write(summary: str, properties: dict, required: list[str], *, files: bool = False):
    schema = {"type": "object", "required": required, "properties": properties}
    content = {"application/json": {"schema": schema}}
    if files:
        content["multipart/form-data"] = {
            "schema": {
                **schema,
                "properties": {
                    **{k: {"type": "string"} for k in properties},
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                },
            }
        }
    return {
        "post": {
            "summary": summary,
            "security": [{"session": [], "csrf": []}],
            "parameters": [_id_param("item_id")],
            "requestBody": {"required": True, "content": content},
            "responses": {
                "200": {"description": "the item after the step", **_json(ITEM_DETAIL)},
                **_errors(*WRITE_ERRORS),
            },
        }
    }


def _rectification_paths() -> dict[str, Any]:
    base = "/api/v1/rectification/items"
    return {
        base: {
            "get": {
                "summary": "Rectification items the user may see (a unit: exactly its own), "
                "overdue first",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": [*STATUS["enum"], "overdue", "due_soon"],
                        },
                    },
                    {"name": "unit_id", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {
                        "name": "round_id",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "year",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                    },
                    {
                        "name": "severity",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["high", "medium", "low"]},
                    },
                    {"name": "repeat", "in": "query", "schema": {"type": "string"}},
                    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100000},
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "a page of items",
                        **_json(
                            {
                                "type": "object",
                                "required": ["items", "page", "pages", "total"],
                                "properties": {
                                    "items": {"type": "array", "items": ITEM_SUMMARY},
                                    "page": {"type": "integer"},
                                    "pages": {"type": "integer"},
                                    "total": {"type": "integer"},
                                },
                            }
                        ),
                    },
                    **_errors(400, 401),
                },
            }
        },
        base + "/{item_id}": {
            "get": {
                "summary": "One item with its finding and whole history",
                "parameters": [_id_param("item_id")],
                "responses": {
                    "200": {"description": "item", **_json(ITEM_DETAIL)},
                    **_errors(401, 404),
                },
            }
        },
        base + "/{item_id}/response": _write(
            "The unit's 整改报告 (or the office's 代录 of a paper one, with on_behalf and source); "
            "files as multipart `file` parts",
            {
                "cause": TEXT,
                "measures": TEXT,
                "completed_on": DATE,
                "responsible_person": {"type": "string", "maxLength": 100},
                "responsible_phone": {"type": "string", "maxLength": 50},
                "on_behalf": {"type": "boolean"},
                "source": TEXT,
                "version": VERSION,
            },
            ["cause", "measures", "completed_on", "responsible_person"],
            files=True,
        ),
        base + "/{item_id}/extension-request": _write(
            "延期申请: reason, proposed date, interim measures",
            {
                "reason": TEXT,
                "proposed_date": DATE,
                "interim_measures": TEXT,
                "on_behalf": {"type": "boolean"},
                "source": TEXT,
                "version": VERSION,
            },
            ["reason", "proposed_date", "interim_measures"],
        ),
        base + "/{item_id}/extension-decision": _write(
            "Grant (to due_date, by default the proposed one) or refuse (with a reason) the "
            "waiting request",
            {"grant": {"type": "boolean"}, "due_date": DATE, "reason": TEXT, "version": VERSION},
            ["grant"],
        ),
        base + "/{item_id}/verify": _write(
            "验收通过并销号, with an optional on-site re-check (recheck_on, recheck_by) and files",
            {"note": TEXT, "recheck_on": DATE, "recheck_by": TEXT, "version": VERSION},
            [],
            files=True,
        ),
        base + "/{item_id}/return": _write(
            "退回 with a reason and a new due date",
            {
                "reason": TEXT,
                "due_date": DATE,
                "recheck_on": DATE,
                "recheck_by": TEXT,
                "version": VERSION,
            },
            ["reason", "due_date"],
            files=True,
        ),
        base + "/{item_id}/escalate": _write(
            "移送 to the police, the secrecy bureau, a regulator, or a case",
            {
                "to": {"type": "string", "enum": ["police", "secrecy", "regulator", "case"]},
                "body": {"type": "string", "maxLength": 200},
                "reason": TEXT,
                "version": VERSION,
            },
            ["to", "body", "reason"],
        ),
        "/api/v1/rectification/bulk": {
            "post": {
                "summary": "Verify, return or extend many items, all or nothing",
                "security": [{"session": [], "csrf": []}],
                "requestBody": {
                    "required": True,
                    **_json(
                        {
                            "type": "object",
                            "required": ["action", "items"],
                            "properties": {
                                "action": {
                                    "type": "string",
                                    "enum": ["verify", "return", "extend"],
                                },
                                "items": {
                                    "type": "array",
                                    "maxItems": 500,
                                    "items": {
                                        "type": "object",
                                        "required": ["id"],
                                        "properties": {
                                            "id": {"type": "integer"},
                                            "version": VERSION,
                                        },
                                    },
                                },
                                "note": TEXT,
                                "due_date": DATE,
                            },
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "the items after the step",
                        **_json(
                            {
                                "type": "object",
                                "properties": {"items": {"type": "array", "items": ITEM_SUMMARY}},
                            }
                        ),
                    },
                    **_errors(400, 401, 403, 413),
                },
            }
        },
    }


def document() -> dict[str, Any]:
    inspection_id = _id_param("inspection_id")
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Joint network-security inspection API",
            "version": "1",
            "description": "Session cookie authentication; every non-GET request carries the "
            "X-CSRFToken header from GET /api/v1/csrf. Errors are JSON with a code.",
        },
        "components": {
            "schemas": {
                "Error": ERROR,
                "Answer": ANSWER,
                "Change": CHANGE,
                "Outcome": OUTCOME,
                "InspectionSummary": SUMMARY,
                "InspectionDetail": DETAIL,
                "ChecklistItem": ITEM,
                "Attachment": ATTACHMENT,
                "Me": ME,
                "RectificationItem": ITEM_SUMMARY,
                "RectificationItemDetail": ITEM_DETAIL,
                "RectificationEvent": EVENT,
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
        },
        "security": [{"session": []}],
        "paths": {
            "/api/v1/csrf": {
                "get": {
                    "summary": "A CSRF token for this session",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "token",
                            **_json(
                                {"type": "object", "properties": {"csrf_token": {"type": "string"}}}
                            ),
                        }
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {"description": "the OpenAPI document", **_json({"type": "object"})}
                    },
                }
            },
            "/api/v1/me": {
                "get": {
                    "summary": "The logged-in user",
                    "responses": {"200": {"description": "user", **_json(ME)}, **_errors(401)},
                }
            },
            "/api/v1/inspections": {
                "get": {
                    "summary": "Inspections of the logged-in user (an inspector's team inspections) of one year (default: this year) and any older ones still being filled",
                    "parameters": [
                        {
                            "name": "year",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "list",
                            **_json(
                                {
                                    "type": "object",
                                    "properties": {
                                        "inspections": {"type": "array", "items": SUMMARY}
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401),
                    },
                }
            },
            "/api/v1/inspections/{inspection_id}": {
                "get": {
                    "summary": "One inspection with its checklist, applicable items, answers with versions, last round's answers and attachments",
                    "parameters": [inspection_id],
                    "responses": {
                        "200": {"description": "inspection", **_json(DETAIL)},
                        **_errors(401, 403, 404),
                    },
                }
            },
            "/api/v1/inspections/{inspection_id}/answers": {
                "post": {
                    "summary": "Apply a batch of answer changes",
                    "description": "Each change is applied, reported duplicate (same change_id seen before: nothing changes), "
                    "conflict (base_version is stale: the server's answer is returned and nothing changes) or rejected (bad input).",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [inspection_id],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["changes"],
                                "properties": {
                                    "changes": {
                                        "type": "array",
                                        "items": CHANGE,
                                        "minItems": 1,
                                        "maxItems": 500,
                                    }
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "one outcome per change, in order",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["results"],
                                    "properties": {"results": {"type": "array", "items": OUTCOME}},
                                }
                            ),
                        },
                        **_errors(*WRITE_ERRORS),
                    },
                }
            },
            "/api/v1/inspections/{inspection_id}/evidence": {
                "post": {
                    "summary": "Upload one evidence file (JPEG, PNG, WebP photo or PDF), optionally for an item",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [inspection_id],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["file"],
                                    "properties": {
                                        "file": {"type": "string", "format": "binary"},
                                        "item_id": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": {"description": "stored", **_json(ATTACHMENT)},
                        **_errors(*WRITE_ERRORS),
                    },
                }
            },
            "/api/v1/evidence/{attachment_id}": {
                "delete": {
                    "summary": "Remove an evidence file from an inspection still being filled",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [_id_param("attachment_id")],
                    "responses": {
                        "204": {"description": "removed"},
                        **_errors(400, 401, 403, 404, 409),
                    },
                }
            },
            "/api/v1/inspections/{inspection_id}/submit": {
                "post": {
                    "summary": "Submit: checks, findings and rectification items, score, notice number, in one transaction",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [inspection_id],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["signatory_name", "signature"],
                                "properties": {
                                    "signatory_name": {"type": "string", "maxLength": 100},
                                    "signature": {
                                        "type": "string",
                                        "description": "data:image/png;base64,...",
                                    },
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {"description": "submitted", **_json(SUMMARY)},
                        **_errors(*WRITE_ERRORS),
                    },
                }
            },
        },
    }
    doc["paths"].update(_rectification_paths())
    return doc
