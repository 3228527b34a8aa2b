"""The JSON API of shots and sequences: extend a clip, build an edit, export it.

An extension is a paid generation made by the same form and submit as `POST /api/generations/`
(budgets, fairness, Idempotency-Key). A sequence and its export are local work: no API money.
"""

import json

from django.db.models import Prefetch, prefetch_related_objects
from django.http import JsonResponse
from django.views.decorators.http import require_http_methods, require_POST

from api import errors
from api.auth import api_login_required
from api.views import (
    IDEMPOTENCY_HEADER,
    KEY_USED_UP,
    RELATED,
    bounded_limit,
    form_errors,
    generation_json,
    submit_errors,
)
from generations import sequences as sequence_export
from generations import shots
from generations.forms import GenerationForm
from generations.models import Generation, Sequence, Status
from generations.sequences import SequenceForm

# One clip from one frame: the fields that would make a batch, or name another picture, are
# not an extension's to set.
NOT_FOR_AN_EXTENSION = (
    "image",
    "source_image",
    "one_prompt_per_line",
    "seed_count",
    "lora_scales",
    "save_preset_as",
)


def request_data(request):
    """A JSON object body, or the form fields of a form-encoded or multipart one."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None
    return request.POST.dict()


def bad_body():
    return errors.invalid({"__all__": ["Send a JSON object or form fields."]})


@api_login_required
@require_POST
def extend(request, pk):
    """201 with the new generation, continuing pk from `frame` ("last" or seconds)."""
    user = request.user
    if not user.has_perms(["generations.view_generation", "generations.add_generation"]):
        return errors.forbidden()
    parent = errors.get_or_404(Generation.objects.visible_to(user), "generation", pk)
    data = request_data(request)
    if data is None:
        return bad_body()
    refused = {
        field: ["An extension makes one generation from the parent's frame; leave this out."]
        for field in NOT_FOR_AN_EXTENSION
        if field in data
    }
    if refused:
        return errors.invalid(refused)
    if isinstance(data.get("loras"), list):
        data["loras"] = json.dumps(data["loras"])
    if parent.status != Status.SUCCEEDED or not parent.video:
        message = f"Generation #{parent.pk} has no finished video to continue."
        return errors.invalid({"generation": [message]})
    try:
        index, seconds = shots.parse_frame(data.get("frame"))
        picked = shots.take_frame(parent, index=index, seconds=seconds)
        picture = shots.store_frame(parent, picked, user)
    except shots.FrameError as error:
        return errors.invalid({"frame": [str(error)]})
    key = request.headers.get(IDEMPOTENCY_HEADER)
    form = GenerationForm(
        shots.extension_data(parent, picture, picked, data), user=user, submission_key=key
    )
    if not form.is_valid() or (submission := form.save(owner=user)) is None:
        return errors.invalid(submit_errors(form, key))
    if not submission.generations:
        return errors.detail(409, KEY_USED_UP)
    made = submission.generations[0]
    prefetch_related_objects([made], "owner", *RELATED)
    return JsonResponse(generation_json(request, made), status=200 if submission.is_repeat else 201)


def sequence_json(request, sequence):
    def absolute(url):
        return request.build_absolute_uri(url)

    return {
        "id": sequence.pk,
        "owner": sequence.owner.get_username(),
        "title": sequence.title,
        "status": sequence.status,
        "progress_percent": sequence.progress_percent,
        "failure_reason": sequence.failure_reason,
        "clarity": sequence.clarity,
        "orientation": sequence.orientation,
        "fit": sequence.fit,
        "double_frame_rate": sequence.double_frame_rate,
        "ending": sequence.ending,
        "width": sequence.size[0],
        "height": sequence.size[1],
        "duration": sequence.video_duration,
        "frames": sequence.video_frames,
        "video_url": absolute(sequence.get_video_url()) if sequence.video else None,
        "poster_url": absolute(sequence.get_poster_url()) if sequence.poster else None,
        "video_bytes": sequence.video_bytes,
        "video_sha256": sequence.video_sha256 or None,
        "clips": [clip.as_item() for clip in sequence.clips.all()],
        # Each export is also a finished generation in the gallery (newest first).
        "exports": [item.pk for item in sequence.exports.all()],
        "created_at": sequence.created_at.isoformat(),
        "finished_at": sequence.finished_at.isoformat() if sequence.finished_at else None,
    }


def visible_sequences(user):
    exports = Prefetch(
        "exports",
        queryset=Generation.objects.visible_to(user)
        .only("pk", "from_sequence_id")
        .order_by("-created_at", "-id"),
    )
    return (
        Sequence.objects.visible_to(user).select_related("owner").prefetch_related("clips", exports)
    )


@api_login_required
@require_http_methods(["GET", "POST"])
def sequences(request):
    user = request.user
    if not user.has_perm("generations.view_generation"):
        return errors.forbidden()
    if request.method == "GET":
        rows = visible_sequences(user)[: bounded_limit(request.GET.get("limit"))]
        return JsonResponse({"results": [sequence_json(request, row) for row in rows]})
    if not user.has_perm("generations.add_generation"):
        return errors.forbidden()
    data = request_data(request)
    if data is None:
        return bad_body()
    form = SequenceForm(data, user=user)
    if not form.is_valid():
        return errors.invalid(form_errors(form))
    made = form.save(owner=user)
    return JsonResponse(sequence_json(request, visible_sequences(user).get(pk=made.pk)), status=201)


@api_login_required
@require_http_methods(["GET"])
def sequence(request, pk):
    if not request.user.has_perm("generations.view_generation"):
        return errors.forbidden()
    row = errors.get_or_404(visible_sequences(request.user), "sequence", pk)
    return JsonResponse(sequence_json(request, row))


@api_login_required
@require_POST
def export(request, pk):
    """202 once the export is queued (or already waiting or rendering): poll the sequence."""
    user = request.user
    if not user.has_perm("generations.view_generation"):
        return errors.forbidden()
    row = errors.get_or_404(visible_sequences(user), "sequence", pk)
    if not row.may_edit(user):
        return errors.forbidden()
    try:
        sequence_export.start_export(row)
    except sequence_export.ExportError as error:
        return errors.invalid({"clips": [str(error)]})
    return JsonResponse(sequence_json(request, row), status=202)
