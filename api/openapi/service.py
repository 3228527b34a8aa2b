"""The service around the API: health, the Wan API's callback and this description."""

from api.health import CHECKS
from api.openapi.building import json_answer, ref, strict


def health_schema():
    check = {
        "type": "object",
        "properties": {
            "ok": {"type": "boolean"},
            "ms": {"type": "number"},
            "error": {"type": "string", "description": "The exception's class name."},
        },
        "required": ["ok", "ms"],
        "description": "A check's answer, with what it measured (never an address or a key).",
    }
    return strict(
        {
            "status": {"type": "string", "enum": ["ok", "failing"]},
            "checks": {
                "type": "object",
                "propertyNames": {"enum": list(CHECKS)},
                "additionalProperties": check,
            },
        }
    )


# What the Wan API POSTs: the shape of a task-result answer (the receiver never reads it).
CALLBACK_EXAMPLE = {
    "event_type": "ASYNC_TASK_RESULT",
    "payload": {
        "task": {
            "task_id": "c0ffee00-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
            "status": "TASK_STATUS_SUCCEED",
        },
        "videos": [{"video_url": "https://example.com/video.mp4", "video_url_ttl": "3600"}],
    },
}


def service_operations():
    health = {
        "tags": ["service"],
        "summary": "Can this host do its job? Database, broker, cluster, the Wan API",
        "description": "Anyone gets the status code and `ok` or `not ok` as text. Staff, and "
        "monitors sending an API token, get each check's answer as JSON.",
        "security": [{}, {"token": []}],
        "parameters": [
            {
                "name": "check",
                "in": "query",
                "schema": {"type": "array", "items": {"type": "string", "enum": list(CHECKS)}},
                "style": "form",
                "explode": True,
                "description": "Run only these checks (repeat it); all of them when left out.",
            }
        ],
        "responses": {
            code: {
                "description": description,
                "content": {
                    "text/plain": {"schema": {"type": "string", "const": text}},
                    "application/json": {"schema": ref("schemas", "HealthReport")},
                },
            }
            for code, description, text in (
                ("200", "Every check asked for passed.", "ok"),
                ("503", "A check failed.", "not ok"),
            )
        },
    }
    return {
        "/healthz": {
            "get": {**health, "operationId": "health"},
            "head": {
                **health,
                "operationId": "healthHead",
                "summary": "The same check, the status code alone",
                "responses": {
                    code: {"description": answer["description"]}
                    for code, answer in health["responses"].items()
                },
            },
        },
        "/api/webhooks/wan/{token}/": {
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The secret the studio put in this task's webhook URL.",
                }
            ],
            "post": {
                "tags": ["callbacks"],
                "operationId": "wanTaskCallback",
                "summary": "The Wan API's callback when a task ends (not for scripts)",
                "description": "The webhook URL each submit carries when `WAN_WEBHOOKS=1`. The "
                "body is never read (the API signs nothing): a known token only makes its "
                "generation due for a poll now, and the studio asks task-result as always.",
                "security": [],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"type": "object"},
                            "example": CALLBACK_EXAMPLE,
                        }
                    }
                },
                "responses": {
                    "204": {"description": "Known token: its generation is polled next."},
                    "404": json_answer(
                        "Unknown token: nothing happens.",
                        ref("schemas", "Detail"),
                        {"detail": "No task waits for a callback at this address."},
                    ),
                },
            },
        },
        "/api/schema/": {
            "get": {
                "tags": ["service"],
                "operationId": "openapiSchema",
                "summary": "This description (OpenAPI 3.1)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document; `/api/docs/` shows it as a page.",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    }
