"""Generations: the request to animate a picture or extend a clip, the answers, their
examples and the operations."""

from django.conf import settings

from api.openapi.building import (
    LINK,
    SHA256,
    TIME,
    form_bodies,
    form_properties,
    json_answer,
    nullable,
    ref,
    strict,
)
from api.openapi.components import standard
from api.sequences import NOT_FOR_AN_EXTENSION
from generations import wan_api
from generations.forms import GenerationForm
from generations.models import ReviewState, Status
from generations.shots import OVERRIDABLE

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


def generation_schemas():
    lora_scale = {
        "type": "number",
        "minimum": wan_api.LORA_SCALE_RANGE[0],
        "maximum": wan_api.LORA_SCALE_RANGE[1],
    }
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
    }


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
