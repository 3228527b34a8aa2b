"""What every area refers to by `$ref`: the refusals (their schemas, the shared answers and
`standard()` to cite them by status code) and the common parameters."""

from api import views
from api.openapi.building import json_answer, ref, strict
from generations.models import SubmitKey


def refusal_schemas():
    return {
        "Errors": strict(
            {
                "errors": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": 'Messages by field name; form-wide ones under "__all__".',
                }
            }
        ),
        "Detail": strict(
            {"detail": {"type": "string", "description": "What went wrong, for a person."}},
            "Any refusal but a 400: 401, 403, 404, 409, 410 or 429.",
        ),
    }


def responses():
    """The answers several operations share."""
    page = {"text/html": {"schema": {"type": "string"}}}
    return {
        "Invalid": json_answer(
            "The request was refused; nothing was made or billed.",
            ref("schemas", "Errors"),
            {"errors": {"prompt": ["Write a prompt."]}},
        ),
        "Unauthorized": json_answer(
            "No session and no valid `Authorization: Token <key>`.",
            ref("schemas", "Detail"),
            {"detail": "Log in or send 'Authorization: Token <key>'."},
        ),
        "Forbidden": {
            "description": "The person's role does not allow this (JSON), or a session request "
            "came without its CSRF token (the studio's page).",
            "content": {
                "application/json": {
                    "schema": ref("schemas", "Detail"),
                    "example": {"detail": "Your role does not allow this."},
                },
                **page,
            },
        },
        "NotFound": json_answer(
            "Nothing with this id that the person may see.",
            ref("schemas", "Detail"),
            {"detail": "There is no generation #42 that you may see."},
        ),
        "KeyUsedUp": json_answer(
            "The Idempotency-Key was used by a submit whose generations have been deleted.",
            ref("schemas", "Detail"),
            {"detail": views.KEY_USED_UP},
        ),
    }


def standard(*names):
    codes = {"400": "Invalid", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound"}
    codes["409"] = "KeyUsedUp"
    return {code: ref("responses", codes[code]) for code in names}


def parameters():
    key_length = SubmitKey._meta.get_field("key").max_length
    return {
        "pk": {
            "name": "pk",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": views.LIST_LIMIT_MAX,
                "default": views.LIST_LIMIT_DEFAULT,
            },
            "description": "How many, newest first; a number out of range is brought within it.",
        },
        "IdempotencyKey": {
            "name": views.IDEMPOTENCY_HEADER,
            "in": "header",
            "schema": {"type": "string", "minLength": 1, "maxLength": key_length},
            "description": "Any string. A retry with the same key by the same person within a "
            "day answers 200 with what the first made, and makes (and bills) nothing new.",
        },
    }
