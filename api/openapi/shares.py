"""Share links: signed, expiring links for people without an account."""

from api.openapi.building import LINK, TIME, form_properties, json_answer, nullable, ref, strict
from api.openapi.components import standard
from generations.models import ShareKind
from generations.shares import DEFAULT_HOURS, ShareForm
from generations.shares import MAX_ITEMS as MAX_SHARED_ITEMS


def share_request():
    properties = form_properties(ShareForm, ("expires_in_hours", "password", "show_parameters"), {})
    properties["expires_in_hours"]["default"] = DEFAULT_HOURS
    properties["show_parameters"]["default"] = False
    properties["generations"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_SHARED_ITEMS,
        "items": {"type": "integer"},
        "description": "Finished generations you may see (never flagged ones).",
    }
    properties["board"] = {
        "type": "integer",
        "description": "A board: what is on it at each visit.",
    }
    properties["sequence"] = {
        "type": "integer",
        "description": "An exported sequence: its newest export at each visit.",
    }
    return {
        "type": "object",
        "properties": properties,
        "description": "Exactly one of `generations`, `board` or `sequence`.",
    }


def share_schema():
    return strict(
        {
            "id": {"type": "integer"},
            "url": {**LINK, "description": "What a guest opens: /s/<signed id>/."},
            "kind": {"type": "string", "enum": ShareKind.values},
            "generations": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The hand-picked generations (empty for a board or a sequence).",
            },
            "board": nullable({"type": "integer"}),
            "sequence": nullable({"type": "integer"}),
            "created_by": {"type": "string"},
            "created_at": TIME,
            "expires_at": TIME,
            "revoked_at": nullable(TIME),
            "has_password": {"type": "boolean"},
            "show_parameters": {"type": "boolean"},
        },
        "A link for people without an account; it answers 410 once expired or withdrawn.",
    )


def share_schemas():
    return {
        "Share": share_schema(),
        "ShareList": strict({"results": {"type": "array", "items": ref("schemas", "Share")}}),
    }


SHARE_EXAMPLE = {
    "id": 7,
    "url": "https://studio.example.com/s/7:Xc1bZ0yq2S8vN3kq4u9cTzJ0e5o/",
    "kind": "generations",
    "generations": [41, 42],
    "board": None,
    "sequence": None,
    "created_by": "maya",
    "created_at": "2025-06-01T09:00:00+00:00",
    "expires_at": "2025-06-08T09:00:00+00:00",
    "revoked_at": None,
    "has_password": False,
    "show_parameters": False,
}


def share_operations():
    body = {"application/json": {"schema": share_request()}}
    body["application/json"]["example"] = {"generations": [41, 42], "expires_in_hours": 168}
    return {
        "/api/shares/": {
            "get": {
                "tags": ["shares"],
                "operationId": "listShares",
                "summary": "The share links the person made, newest first",
                "parameters": [ref("parameters", "limit")],
                "responses": {
                    "200": json_answer(
                        "The list.", ref("schemas", "ShareList"), {"results": [SHARE_EXAMPLE]}
                    ),
                    **standard("401", "403"),
                },
            },
            "post": {
                "tags": ["shares"],
                "operationId": "createShare",
                "summary": "A signed, expiring link for people without an account",
                "description": "A JSON object (form fields work too). Guests see only finished, "
                "unflagged videos of what is shared, read at each visit.",
                "requestBody": {"required": True, "content": body},
                "responses": {
                    "201": json_answer("Made.", ref("schemas", "Share"), SHARE_EXAMPLE),
                    **standard("400", "401", "403"),
                },
            },
        },
        "/api/shares/{pk}/": {
            "parameters": [ref("parameters", "pk")],
            "get": {
                "tags": ["shares"],
                "operationId": "getShare",
                "summary": "One of the person's share links",
                "responses": {
                    "200": json_answer("The link.", ref("schemas", "Share"), SHARE_EXAMPLE),
                    **standard("401", "403", "404"),
                },
            },
            "delete": {
                "tags": ["shares"],
                "operationId": "revokeShare",
                "summary": "Withdraw a link: it answers 410 from now on",
                "description": "Its maker or an admin; withdrawing again answers 204 again.",
                "responses": {
                    "204": {"description": "Withdrawn."},
                    **standard("401", "403", "404"),
                },
            },
        },
    }
