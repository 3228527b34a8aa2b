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

from django import forms
from django.conf import settings
from django.urls import get_script_prefix

from api import views
from api.health import CHECKS
from api.sequences import NOT_FOR_AN_EXTENSION
from generations import wan_api
from generations.forms import GenerationForm
from generations.models import ExportStatus, ReviewState, ShareKind, Status, SubmitKey
from generations.notes import MAX_FRAME, NoteForm
from generations.sequences import MAX_CLIPS, MAX_CROSSFADE_SECONDS, SequenceForm
from generations.shares import DEFAULT_HOURS, ShareForm
from generations.shares import MAX_ITEMS as MAX_SHARED_ITEMS
from generations.shots import OVERRIDABLE

OPENAPI_VERSION = "3.1.0"
# The size follows the picture unless asked for, so the API's default size is not the form's.
FORM_DEFAULTS = {
    name: value for name, value in wan_api.DEFAULTS.items() if name not in ("width", "height")
}


def ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema):
    """schema, or null: the answers write a missing value as null."""
    return {**schema, "type": [schema["type"], "null"]}


# --- request fields, read from the forms -------------------------------------------------------


def field_schema(field):
    """A form field as JSON Schema: its type, limits, choices and help text."""
    if isinstance(field, forms.FileField):
        schema = {"type": "string", "contentMediaType": "application/octet-stream"}
    elif isinstance(field, forms.ModelChoiceField):  # before ChoiceField: it is one
        schema = {"type": "integer"}
    elif isinstance(field, forms.ChoiceField):
        schema = {"type": "string", "enum": [value for value, _ in field.choices if value]}
    elif isinstance(field, forms.BooleanField):  # NullBooleanField too
        schema = {"type": "boolean"}
    elif isinstance(field, forms.FloatField):  # before IntegerField: it is one
        schema = {"type": "number"}
    elif isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
    else:
        schema = {"type": "string"}
    limits = {
        "minimum": getattr(field, "min_value", None),
        "maximum": getattr(field, "max_value", None),
        "maxLength": getattr(field, "max_length", None),
    }
    schema.update({name: value for name, value in limits.items() if value is not None})
    if field.help_text:
        schema["description"] = str(field.help_text)
    return schema


def form_properties(form_class, names, notes):
    """{name: schema} for these fields of form_class, the API's defaults and notes added."""
    properties = {}
    for name in names:
        schema = field_schema(form_class.base_fields[name])
        if name in FORM_DEFAULTS:
            schema["default"] = FORM_DEFAULTS[name]
        if name in notes:
            schema["description"] = notes[name]
        properties[name] = schema
    return properties


GENERATION_FIELDS = (
    "image",
    "source_image",
    "prompt",
    "one_prompt_per_line",
    "negative_prompt",
    "clarity",
    "orientation",
    "width",
    "height",
    "random_seed",
    "seed",
    "seed_count",
    "steps",
    "guidance_scale",
    "flow_shift",
    "enable_safety_checker",
    "fast_mode",
    "loras",
    "lora_scales",
    "save_preset_as",
    "board",
)


def sizes(index):
    return sorted({size[index] for size in wan_api.ALLOWED_SIZES})


def generation_notes():
    megabytes = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
    pairs = ", ".join(f"{width}×{height}" for width, height in wan_api.ALLOWED_SIZES)
    return {
        "image": f"The picture to animate (at most {megabytes} MB); it joins the library. "
        "Send this or `source_image`.",
        "source_image": "The id of a picture already in the library, instead of `image`.",
        "prompt": f"At most {wan_api.PROMPT_MAX_CHARS} characters (each line's, with "
        "`one_prompt_per_line`).",
        "one_prompt_per_line": "Each non-empty line of `prompt` is a prompt of its own: a batch.",
        "clarity": "Picks the size when `width` and `height` are left out; the orientation "
        "follows the picture.",
        "orientation": "With `clarity`: `auto` follows the picture.",
        "width": f"With `height`, one of {pairs}; or leave both out and choose `clarity`.",
        "height": f"With `width`, one of {pairs}.",
        "random_seed": "The API picks the seed (as `seed` = -1).",
        "seed_count": "Several seeds per prompt: a batch.",
        "loras": f"A JSON list of at most {wan_api.MAX_LORAS} LoRAs, each "
        '`{"preset": id or name}` or `{"path": "Owner/Name" or an https link}`, with a '
        f'`"scale"` from {wan_api.LORA_SCALE_RANGE[0]:g} to {wan_api.LORA_SCALE_RANGE[1]:g}.',
        "lora_scales": "Comma-separated scales for the first LoRA: one generation per value.",
        "save_preset_as": "Also keep the prompt as a prompt preset of this name.",
        "board": "The id of a board: every generation of the submit (a batch too) goes on it. "
        "A board with a monthly budget refuses a submit that would pass it, as the person's "
        "budget does.",
    }


def generation_request():
    properties = form_properties(GenerationForm, GENERATION_FIELDS, generation_notes())
    properties["width"]["enum"] = sizes(0)
    properties["height"]["enum"] = sizes(1)
    return {
        "type": "object",
        "properties": properties,
        "required": ["prompt"],
        "description": "Parameters by the Wan API's names; what is left out takes the API's "
        "default. Send `image` or `source_image`.",
    }


def extension_request():
    notes = generation_notes()
    properties = {
        "frame": {
            "oneOf": [
                {"type": "string", "const": "last"},
                {"type": "number", "minimum": 0},
            ],
            "default": "last",
            "description": 'The frame to continue from: "last" or its time in seconds.',
        },
        **form_properties(GenerationForm, OVERRIDABLE, notes),
    }
    properties["loras"] = {
        "type": ["array", "string"],
        "maxItems": wan_api.MAX_LORAS,
        "items": ref("schemas", "LoraChoice"),
        "description": "As for a new generation; a JSON body may send the list itself.",
    }
    refused = ", ".join(f"`{name}`" for name in NOT_FOR_AN_EXTENSION)
    return {
        "type": "object",
        "properties": properties,
        "description": "The parent's settings, with these overrides. One generation from one "
        f"frame: {refused} are refused.",
    }


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


# --- answers --------------------------------------------------------------------------------------

TIME = {"type": "string", "format": "date-time"}
LINK = {"type": "string", "format": "uri"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def strict(properties, description=""):
    """An object that has every property and nothing else: a new field must be described."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def generation_schema():
    parameters = strict(
        {
            "prompt": {"type": "string"},
            "negative_prompt": {"type": "string"},
            "width": {"type": "integer", "enum": sizes(0)},
            "height": {"type": "integer", "enum": sizes(1)},
            "seed": {"type": "integer", "description": "As asked; -1 for a random one."},
            "steps": {"type": "integer"},
            "guidance_scale": {"type": "number"},
            "flow_shift": {"type": "number"},
            "enable_safety_checker": {"type": "boolean"},
            "fast_mode": {"type": "boolean"},
            "loras": {"type": "array", "items": ref("schemas", "Lora")},
        },
        "What was asked of the API.",
    )
    return strict(
        {
            "id": {"type": "integer"},
            "owner": {"type": "string", "description": "The username of who made it."},
            "status": {"type": "string", "enum": Status.values},
            "progress_percent": nullable({"type": "integer", "minimum": 0, "maximum": 100}),
            "progress_estimate": nullable(
                {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": 100,
                    "description": "`progress_percent` moved on at the pace of the last eta.",
                }
            ),
            "eta": nullable({"type": "integer", "description": "Seconds, as the API said."}),
            "failure_reason": {"type": "string", "description": "A code; empty unless failed."},
            "failure_message": {"type": "string", "description": "What to do about it."},
            "api_task_id": nullable({"type": "string"}),
            "seed": nullable({"type": "integer", "description": "The seed the API used."}),
            "source_image": {"type": "integer"},
            "parent": nullable({"type": "integer", "description": "The clip this extends."}),
            "parent_frame_time": nullable({"type": "number"}),
            "sequence": nullable(
                {"type": "integer", "description": "The sequence this video is an export of."}
            ),
            "boards": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The ids of the boards it is on.",
            },
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Its tags, alphabetically.",
            },
            "parameters": parameters,
            "video_url": nullable(LINK),
            "poster_url": nullable(LINK),
            "video_duration": nullable({"type": "number", "description": "Seconds."}),
            "video_bytes": nullable({"type": "integer"}),
            "video_sha256": nullable(SHA256),
            "estimated_cost": nullable(
                {"type": "string", "pattern": r"^\d+(\.\d+)?$", "description": "A decimal."}
            ),
            "review_state": {"type": "string", "enum": ReviewState.values},
            "review_note": {"type": "string"},
            "created_at": TIME,
            "finished_at": nullable(TIME),
        },
        "One video, from the queue to the finished file.",
    )


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


def schemas():
    lora_scale = {
        "type": "number",
        "minimum": wan_api.LORA_SCALE_RANGE[0],
        "maximum": wan_api.LORA_SCALE_RANGE[1],
    }
    seconds = {"type": "number", "minimum": 0}
    return {
        "Generation": generation_schema(),
        "Lora": strict({"path": {"type": "string"}, "scale": {"type": "number"}}),
        "LoraChoice": {
            "type": "object",
            "properties": {
                "preset": {"type": ["integer", "string"], "description": "Its id or name."},
                "path": {"type": "string", "maxLength": wan_api.LORA_PATH_MAX_CHARS},
                "scale": lora_scale,
            },
            "description": "A LoRA preset, or a path: a Hugging Face repo or a public link.",
        },
        "GenerationList": strict(
            {"results": {"type": "array", "items": ref("schemas", "Generation")}},
            "Newest first.",
        ),
        "Batch": strict(
            {
                "batch": {"type": "integer"},
                "generations": {"type": "array", "items": ref("schemas", "Generation")},
            },
            "What a submit of several generations made.",
        ),
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
        **note_schemas(),
        "Share": share_schema(),
        "ShareList": strict({"results": {"type": "array", "items": ref("schemas", "Share")}}),
        "HealthReport": health_schema(),
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


# --- examples ---------------------------------------------------------------------------------


def generation_example(**changes):
    parameters = dict(wan_api.DEFAULTS)
    return {
        "id": 42,
        "owner": "maya",
        "status": Status.PROCESSING.value,
        "progress_percent": 40,
        "progress_estimate": 55,
        "eta": 30,
        "failure_reason": "",
        "failure_message": "",
        "api_task_id": "c0ffee00-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "seed": None,
        "source_image": 7,
        "parent": None,
        "parent_frame_time": None,
        "sequence": None,
        "boards": [3],
        "tags": ["client review", "storm"],
        "parameters": {**parameters, "prompt": "a lighthouse in a storm", "loras": []},
        "video_url": None,
        "poster_url": None,
        "video_duration": None,
        "video_bytes": None,
        "video_sha256": None,
        "estimated_cost": "0.3000",
        "review_state": ReviewState.PENDING.value,
        "review_note": "",
        "created_at": "2025-05-01T09:30:00+00:00",
        "finished_at": None,
        **changes,
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


# --- operations -----------------------------------------------------------------------------------


def json_answer(description, schema, example=None):
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}


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


def form_bodies(schema, *, json_too=False):
    bodies = {"multipart/form-data": {"schema": schema}}
    bodies["application/x-www-form-urlencoded"] = {"schema": schema}
    if json_too:
        bodies = {"application/json": {"schema": schema}, **bodies}
    return bodies


def generation_operations():
    made = {"oneOf": [ref("schemas", "Generation"), ref("schemas", "Batch")]}
    queued = generation_example(status=Status.QUEUED.value, progress_percent=None, eta=None)
    queued.update(progress_estimate=None, api_task_id=None, tags=[])
    return {
        "/api/generations/": {
            "get": {
                "tags": ["generations"],
                "operationId": "listGenerations",
                "summary": "The generations the person may see, newest first",
                "parameters": [ref("parameters", "limit")],
                "responses": {
                    "200": json_answer(
                        "The list.",
                        ref("schemas", "GenerationList"),
                        {"results": [generation_example()]},
                    ),
                    **standard("401", "403"),
                },
            },
            "post": {
                "tags": ["generations"],
                "operationId": "createGeneration",
                "summary": "Animate a picture: one generation, or a batch",
                "description": "Checked by the same form as the studio's page, against the "
                "person's monthly budget; queued at once, sent to the API in turn.",
                "parameters": [ref("parameters", "IdempotencyKey")],
                "requestBody": {"required": True, "content": form_bodies(generation_request())},
                "responses": {
                    "201": json_answer("Queued: one generation, or a batch.", made, queued),
                    "200": json_answer(
                        "What an earlier submit with this Idempotency-Key made.", made
                    ),
                    **standard("400", "401", "403", "409"),
                },
            },
        },
        "/api/generations/{pk}/": {
            "parameters": [ref("parameters", "pk")],
            "get": {
                "tags": ["generations"],
                "operationId": "getGeneration",
                "summary": "One generation: its state, parameters and files",
                "responses": {
                    "200": json_answer(
                        "The generation.", ref("schemas", "Generation"), generation_example()
                    ),
                    **standard("401", "403", "404"),
                },
            },
        },
        "/api/generations/{pk}/extend/": {
            "parameters": [ref("parameters", "pk")],
            "post": {
                "tags": ["generations"],
                "operationId": "extendGeneration",
                "summary": "Continue a finished clip from one of its frames",
                "description": "A paid generation like any other (budget, Idempotency-Key), "
                "whose picture is the parent's frame.",
                "parameters": [ref("parameters", "IdempotencyKey")],
                "requestBody": {
                    "content": form_bodies(extension_request(), json_too=True),
                },
                "responses": {
                    "201": json_answer(
                        "Queued.",
                        ref("schemas", "Generation"),
                        {**queued, "id": 43, "parent": 42, "parent_frame_time": 5.0},
                    ),
                    "200": json_answer(
                        "What an earlier extend with this Idempotency-Key made.",
                        ref("schemas", "Generation"),
                    ),
                    **standard("400", "401", "403", "404", "409"),
                },
            },
        },
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


NOTE_FIELDS = ("frame", "seconds", "end_frame", "end_seconds", "body", "parent")


def note_request():
    properties = form_properties(
        NoteForm,
        NOTE_FIELDS,
        {
            "frame": "The frame the note is about, from 0 (16 frames a second). Send this or "
            "`seconds`; a reply sends neither.",
            "seconds": "The time instead of `frame`: the frame shown then (2.5 is frame 40).",
            "end_frame": "The last frame of a range, at or after `frame`.",
            "end_seconds": "The end of a range as a time, instead of `end_frame`.",
            "parent": "A reply: the id of the thread it answers (about the thread's frame).",
        },
    )
    return {
        "type": "object",
        "properties": properties,
        "required": ["body"],
        "description": "A note at a frame or a range of a finished video, or a reply.",
    }


def note_schemas():
    frame = {"type": "integer", "minimum": 0, "maximum": MAX_FRAME}
    seconds = {"type": "number", "minimum": 0, "description": "When the frame starts."}
    reply = strict(
        {
            "id": {"type": "integer"},
            "parent": {"type": "integer", "description": "The thread it answers."},
            "author": {"type": "string", "description": "The name it was written under."},
            "body": {"type": "string"},
            "created_at": TIME,
        },
        "A reply: it is about its thread's frame.",
    )
    thread = strict(
        {
            "id": {"type": "integer"},
            "frame": frame,
            "end_frame": nullable({**frame, "description": "A range's last frame."}),
            "seconds": seconds,
            "end_seconds": nullable(seconds),
            "author": {"type": "string", "description": "The name it was written under."},
            "body": {"type": "string"},
            "created_at": TIME,
            "resolved_at": nullable(TIME),
            "resolved_by": nullable({"type": "string"}),
            "replies": {"type": "array", "items": ref("schemas", "NoteReply")},
        },
        "A note at a frame or a range of the video, with its replies, oldest first.",
    )
    listed = strict(
        {
            "frames": nullable({"type": "integer", "description": "How many the video has."}),
            "results": {"type": "array", "items": ref("schemas", "NoteThread")},
        },
        "In timeline order.",
    )
    return {"NoteThread": thread, "NoteReply": reply, "NoteList": listed}


NOTE_EXAMPLE = {
    "id": 5,
    "frame": 40,
    "end_frame": 56,
    "seconds": 2.5,
    "end_seconds": 3.5,
    "author": "rui",
    "body": "The horizon tilts here; keep it level.",
    "created_at": "2025-05-01T11:00:00+00:00",
    "resolved_at": None,
    "resolved_by": None,
    "replies": [
        {
            "id": 6,
            "parent": 5,
            "author": "maya",
            "body": "Re-rolled with another seed.",
            "created_at": "2025-05-01T11:20:00+00:00",
        }
    ],
}


def note_operations():
    body = {"application/json": {"schema": note_request()}, **form_bodies(note_request())}
    body["application/json"]["example"] = {"seconds": 2.5, "body": "The horizon tilts here."}
    made = {"oneOf": [ref("schemas", "NoteThread"), ref("schemas", "NoteReply")]}
    return {
        "/api/generations/{pk}/notes/": {
            "parameters": [ref("parameters", "pk")],
            "get": {
                "tags": ["notes"],
                "operationId": "listNotes",
                "summary": "The review notes on a video's timeline, with their replies",
                "responses": {
                    "200": json_answer(
                        "The threads.",
                        ref("schemas", "NoteList"),
                        {"frames": 81, "results": [NOTE_EXAMPLE]},
                    ),
                    **standard("401", "403", "404"),
                },
            },
            "post": {
                "tags": ["notes"],
                "operationId": "createNote",
                "summary": "Write a note at a frame or a range, or reply to a thread",
                "description": "On a finished video the person may see; checked by the same "
                "form as the studio's page.",
                "requestBody": {"required": True, "content": body},
                "responses": {
                    "201": json_answer(
                        "Written: the new thread, or the reply.",
                        made,
                        {**NOTE_EXAMPLE, "end_frame": None, "end_seconds": None, "replies": []},
                    ),
                    **standard("400", "401", "403", "404"),
                },
            },
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
