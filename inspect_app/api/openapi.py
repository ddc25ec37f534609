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


def document() -> dict[str, Any]:
    inspection_id = _id_param("inspection_id")
    return {
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
