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

ANSWER = {
    "type": "object",
    "properties": {
        "item_id": {"type": "integer"},
        "item_code": {"type": ["string", "null"]},
        "result": {
            "type": ["string", "null"],
            "enum": ["compliant", "noncompliant", "not_applicable", None],
        },
        "value": {},
        "note": {"type": "string"},
        "finding_description": {"type": "string"},
        "finding_severity": {"type": ["string", "null"], "enum": ["high", "medium", "low", None]},
        "finding_deadline_days": {"type": ["integer", "null"]},
        "version": {"type": "integer"},
        "updated_by": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]},
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
        "result": {
            "type": ["string", "null"],
            "enum": ["compliant", "noncompliant", "not_applicable", None],
        },
        "value": {},
        "note": {"type": "string"},
        "finding_description": {"type": "string"},
        "finding_severity": {"type": ["string", "null"], "enum": ["high", "medium", "low", None]},
        "finding_deadline_days": {"type": ["integer", "null"], "minimum": 1, "maximum": 365},
    },
}

OUTCOME = {
    "type": "object",
    "required": ["change_id", "status"],
    "properties": {
        "change_id": {"type": ["string", "null"]},
        "status": {"type": "string", "enum": ["applied", "duplicate", "conflict", "rejected"]},
        "answer": ANSWER,
        "server": {**ANSWER, "description": "The server's current answer, on conflict."},
        "message": {"type": "string"},
    },
}

SUMMARY = {
    "type": "object",
    "required": ["id", "status", "unit", "round", "checklist"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["planned", "in_progress", "submitted", "closed"]},
        "round": {"type": "object"},
        "unit": {"type": "object"},
        "system": {"type": ["object", "null"]},
        "checklist": {"type": "object"},
        "scheduled_on": {"type": ["string", "null"], "format": "date"},
        "lead_id": {"type": ["integer", "null"]},
        "team": {"type": "array", "items": {"type": "object"}},
        "score": {"type": ["number", "null"]},
        "compliance_rate": {"type": ["number", "null"]},
        "notice_number": {"type": ["string", "null"]},
        "progress": {"type": "object"},
        "url": {"type": "string"},
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    names = {
        400: "Bad input",
        401: "Not logged in",
        403: "Forbidden",
        404: "Not found or not visible",
        409: "Not in a state that allows this",
        413: "Too large",
    }
    return {str(c): {"description": names[c], **_json(ERROR)} for c in codes}


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
            "/api/v1/me": {
                "get": {
                    "summary": "The logged-in user",
                    "responses": {"200": {"description": "user"}, **_errors(401)},
                }
            },
            "/api/v1/inspections": {
                "get": {
                    "summary": "Inspections of the logged-in user (an inspector's team inspections) of one year (default: this year) and any older ones still being filled",
                    "parameters": [{"name": "year", "in": "query", "schema": {"type": "integer"}}],
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
                        **_errors(401),
                    },
                }
            },
            "/api/v1/inspections/{inspection_id}": {
                "get": {
                    "summary": "One inspection with its checklist, applicable items, answers with versions, last round's answers and attachments",
                    "parameters": [inspection_id],
                    "responses": {
                        "200": {"description": "inspection", **_json(SUMMARY)},
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
                                    "properties": {"results": {"type": "array", "items": OUTCOME}},
                                }
                            ),
                        },
                        **_errors(400, 401, 403, 404, 409),
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
                        "201": {"description": "stored"},
                        **_errors(400, 401, 403, 404, 409, 413),
                    },
                }
            },
            "/api/v1/evidence/{attachment_id}": {
                "delete": {
                    "summary": "Remove an evidence file from an inspection still being filled",
                    "security": [{"session": [], "csrf": []}],
                    "parameters": [_id_param("attachment_id")],
                    "responses": {"204": {"description": "removed"}, **_errors(401, 403, 404, 409)},
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
                        **_errors(400, 401, 403, 404, 409),
                    },
                }
            },
        },
    }
