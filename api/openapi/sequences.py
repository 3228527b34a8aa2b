"""Sequences: edits of finished clips, their export, the answers and examples."""

from api.openapi.building import (
    LINK,
    SHA256,
    TIME,
    field_schema,
    form_properties,
    json_answer,
    nullable,
    ref,
    strict,
)
from api.openapi.components import standard
from generations.models import ExportStatus
from generations.sequences import MAX_CLIPS, MAX_CROSSFADE_SECONDS, SequenceForm


def sequence_request():
    names = ("title", "transition", "crossfade_seconds", "clarity", "orientation", "fit", "ending")
    properties = form_properties(SequenceForm, names, {})
    properties["double_frame_rate"] = {
        "type": "boolean",
        "default": False,
        "description": "16 → 32 fps by motion interpolation.",
    }
    properties["clips"] = {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_CLIPS,
        "items": ref("schemas", "ClipChoice"),
    }
    properties["transition"]["description"] = (
        "Between clips that the request leaves to the sequence: a child after its parent is "
        "always a cut."
    )
    properties["clarity"]["default"] = "480p"
    properties["orientation"]["description"] = "The first clip's orientation when left out."
    return {"type": "object", "properties": properties, "required": ["clips"]}


def sequence_schema():
    return strict(
        {
            "id": {"type": "integer"},
            "owner": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string", "enum": ExportStatus.values},
            "progress_percent": nullable({"type": "integer", "minimum": 0, "maximum": 100}),
            "failure_reason": {"type": "string"},
            "clarity": {"type": "string", "enum": ["480p", "720p"]},
            "orientation": {"type": "string", "enum": ["landscape", "portrait"]},
            "fit": field_schema(SequenceForm.base_fields["fit"]),
            "double_frame_rate": {"type": "boolean"},
            "ending": field_schema(SequenceForm.base_fields["ending"]),
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "duration": nullable({"type": "number", "description": "Seconds, once exported."}),
            "frames": nullable({"type": "integer"}),
            "video_url": nullable(LINK),
            "poster_url": nullable(LINK),
            "video_bytes": nullable({"type": "integer"}),
            "video_sha256": nullable(SHA256),
            "clips": {"type": "array", "items": ref("schemas", "Clip")},
            "exports": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Each export as a finished generation in the gallery, newest first.",
            },
            "created_at": TIME,
            "finished_at": nullable(TIME),
        },
        "An edit of finished clips and its export (local work: no API money).",
    )


def sequence_schemas():
    seconds = {"type": "number", "minimum": 0}
    return {
        "Sequence": sequence_schema(),
        "Clip": strict(
            {
                "generation": {"type": "integer"},
                "in": seconds,
                "out": nullable({**seconds, "description": "null: to the clip's end."}),
                "transition": field_schema(SequenceForm.base_fields["transition"]),
                "crossfade_seconds": {**seconds, "maximum": MAX_CROSSFADE_SECONDS},
            }
        ),
        "ClipChoice": {
            "type": "object",
            "properties": {
                "generation": {"type": "integer", "description": "A finished generation."},
                "in": {**seconds, "default": 0},
                "out": {**seconds, "description": "Left out: to the clip's end."},
                "transition": field_schema(SequenceForm.base_fields["transition"]),
                "crossfade_seconds": {**seconds, "maximum": MAX_CROSSFADE_SECONDS},
            },
            "required": ["generation"],
        },
        "SequenceList": strict({"results": {"type": "array", "items": ref("schemas", "Sequence")}}),
    }


SEQUENCE_EXAMPLE = {
    "id": 3,
    "owner": "maya",
    "title": "Harbour at dusk",
    "status": ExportStatus.SUCCEEDED.value,
    "progress_percent": 100,
    "failure_reason": "",
    "clarity": "480p",
    "orientation": "landscape",
    "fit": "letterbox",
    "double_frame_rate": False,
    "ending": "once",
    "width": 832,
    "height": 480,
    "duration": 9.9375,
    "frames": 159,
    "video_url": "https://studio.example.com/sequences/3/video.mp4",
    "poster_url": "https://studio.example.com/sequences/3/poster.jpg",
    "video_bytes": 2481113,
    "video_sha256": "9f2c" * 16,
    "clips": [
        {"generation": 41, "in": 0.0, "out": None, "transition": "cut", "crossfade_seconds": 0.0},
        {"generation": 42, "in": 0.5, "out": 4.0, "transition": "cut", "crossfade_seconds": 0.0},
    ],
    "exports": [57],
    "created_at": "2025-05-01T10:00:00+00:00",
    "finished_at": "2025-05-01T10:01:12+00:00",
}


def sequence_operations():
    body = {"application/json": {"schema": sequence_request()}}
    body["application/json"]["example"] = {
        "title": "Harbour at dusk",
        "clips": [{"generation": 41}, {"generation": 42, "in": 0.5, "out": 4}],
        "clarity": "480p",
    }
    return {
        "/api/sequences/": {
            "get": {
                "tags": ["sequences"],
                "operationId": "listSequences",
                "summary": "The sequences the person may see, newest first",
                "parameters": [ref("parameters", "limit")],
                "responses": {
                    "200": json_answer(
                        "The list.", ref("schemas", "SequenceList"), {"results": [SEQUENCE_EXAMPLE]}
                    ),
                    **standard("401", "403"),
                },
            },
            "post": {
                "tags": ["sequences"],
                "operationId": "createSequence",
                "summary": "Cut finished clips into one edit",
                "description": "A JSON object (form fields work too, with `clips` as JSON text).",
                "requestBody": {"required": True, "content": body},
                "responses": {
                    "201": json_answer(
                        "Made, not yet exported.",
                        ref("schemas", "Sequence"),
                        {**SEQUENCE_EXAMPLE, "status": "draft", "progress_percent": None},
                    ),
                    **standard("400", "401", "403"),
                },
            },
        },
        "/api/sequences/{pk}/": {
            "parameters": [ref("parameters", "pk")],
            "get": {
                "tags": ["sequences"],
                "operationId": "getSequence",
                "summary": "One sequence and its export",
                "responses": {
                    "200": json_answer(
                        "The sequence.", ref("schemas", "Sequence"), SEQUENCE_EXAMPLE
                    ),
                    **standard("401", "403", "404"),
                },
            },
        },
        "/api/sequences/{pk}/export/": {
            "parameters": [ref("parameters", "pk")],
            "post": {
                "tags": ["sequences"],
                "operationId": "exportSequence",
                "summary": "Render the sequence to one video",
                "description": "Queued unless an export already waits or renders; poll the "
                "sequence until `succeeded` or `failed`. Its owner or an admin only.",
                "responses": {
                    "202": json_answer(
                        "Queued (or already waiting or rendering).",
                        ref("schemas", "Sequence"),
                        {**SEQUENCE_EXAMPLE, "status": "queued", "progress_percent": 0},
                    ),
                    **standard("400", "401", "403", "404"),
                },
            },
        },
    }
