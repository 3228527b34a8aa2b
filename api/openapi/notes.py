"""Review notes on a video's timeline: threads at a frame or a range, and their replies."""

from api.openapi.building import (
    TIME,
    form_bodies,
    form_properties,
    json_answer,
    nullable,
    ref,
    strict,
)
from api.openapi.components import standard
from generations.notes import MAX_FRAME, NoteForm

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
