"""The JSON API described as OpenAPI 3.1: served at `/api/schema/`, read by people at `/api/docs/`.

We do not rebuild the API on django-ninja or Django REST framework to have the description made
for us: the views carry the money-safety logic (Idempotency-Key, submits counted under the
person's budget lock) that hundreds of tests hold in place, and a rewrite would risk it for no
gain to the people using the API. The description is written here instead, next to the views,
as Python data that reuses the forms' fields and the contract's constants (sizes, ranges,
statuses, limits), and tests/test_openapi.py keeps it honest: every URL of `api/urls.py` is
described with the methods it accepts and nothing else is, real answers of the real views
match the schemas of their status codes, the examples match their schemas, and the document is
valid OpenAPI 3.1.
"""

from django.conf import settings
from django.urls import get_script_prefix

from api.openapi.components import parameters, refusal_schemas, responses
from api.openapi.generations import generation_operations, generation_schemas
from api.openapi.notes import note_operations, note_schemas
from api.openapi.sequences import sequence_operations, sequence_schemas
from api.openapi.service import health_schema, service_operations
from api.openapi.shares import share_operations, share_schemas

OPENAPI_VERSION = "3.1.0"


def schemas():
    """Every named schema, area by area; the refusals' last."""
    return {
        **generation_schemas(),
        **sequence_schemas(),
        **note_schemas(),
        **share_schemas(),
        "HealthReport": health_schema(),
        **refusal_schemas(),
    }


def document():
    """The OpenAPI 3.1 document of the JSON API, read afresh (settings may change)."""
    prefix = get_script_prefix()
    described = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "WanStudio JSON API",
            "version": "1",
            "description": "Send `Authorization: Token <key>` (`python manage.py apitoken "
            "<username>` prints a key) or use a logged-in session (then POSTs need the CSRF "
            'token). A request to fix answers `400` with `{"errors": {field: [messages]}}` '
            '(form-wide problems under `"__all__"`); every other refusal (`401`, `403`, `404`, '
            '`409`, `410`, `429`) answers `{"detail": message}`.',
        },
        "tags": [
            {"name": "generations", "description": "Videos from pictures: paid API work."},
            {"name": "sequences", "description": "Edits of finished clips: local work."},
            {"name": "notes", "description": "Review notes on a video's timeline."},
            {"name": "shares", "description": "Links for people without an account."},
            {"name": "callbacks", "description": "What the Wan API calls."},
            {"name": "service", "description": "Health and this description."},
        ],
        "paths": {
            **generation_operations(),
            **note_operations(),
            **sequence_operations(),
            **share_operations(),
            **service_operations(),
        },
        "components": {
            "schemas": schemas(),
            "responses": responses(),
            "parameters": parameters(),
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>`",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME},
            },
        },
        "security": [{"token": []}, {"session": []}],
    }
    if prefix != "/":
        described["servers"] = [{"url": prefix.rstrip("/")}]
    return described
