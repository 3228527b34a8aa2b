"""The JSON API: the same form as the page, generations out as JSON."""

from django.db.models import Prefetch, prefetch_related_objects
from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from api import errors
from api.auth import api_login_required
from generations import failures
from generations.forms import GenerationForm
from generations.models import BoardItem, Generation, Tag

IDEMPOTENCY_HEADER = "Idempotency-Key"
LIST_LIMIT_DEFAULT = 50
LIST_LIMIT_MAX = 200
KEY_USED_UP = (
    "This Idempotency-Key was used for a submit whose generations have since been deleted; "
    "send a new key to make new ones."
)


def generation_json(request, generation):
    return {
        "id": generation.pk,
        "owner": generation.owner.get_username(),
        "status": generation.status,
        "progress_percent": generation.progress_percent,
        "progress_estimate": generation.estimated_progress,  # moved on from the last eta
        "eta": generation.eta_seconds,
        "failure_reason": generation.failure_reason,
        "failure_message": str(failures.explain(generation.failure_reason))
        if generation.failure_reason
        else "",
        "api_task_id": generation.api_task_id,
        "seed": generation.reported_seed,
        "source_image": generation.source_image_id,
        "parent": generation.parent_id,
        "parent_frame_time": generation.parent_frame_time,
        "sequence": generation.from_sequence_id,
        "boards": [item.board_id for item in generation.board_list],
        "tags": [tag.name for tag in generation.tag_list],
        "parameters": {
            "prompt": generation.prompt,
            "negative_prompt": generation.negative_prompt,
            "width": generation.width,
            "height": generation.height,
            "seed": generation.seed,
            "steps": generation.steps,
            "guidance_scale": generation.guidance_scale,
            "flow_shift": generation.flow_shift,
            "enable_safety_checker": generation.enable_safety_checker,
            "fast_mode": generation.fast_mode,
            "loras": lora_settings(generation),
        },
        "video_url": request.build_absolute_uri(generation.get_video_url())
        if generation.video
        else None,
        "poster_url": request.build_absolute_uri(generation.poster.url)
        if generation.poster
        else None,
        "video_duration": generation.video_duration,
        "video_bytes": generation.video_bytes,
        "video_sha256": generation.video_sha256 or None,
        "estimated_cost": str(generation.estimated_cost) if generation.estimated_cost else None,
        "review_state": generation.review_state,
        "review_note": generation.review_note,
        "created_at": generation.created_at.isoformat(),
        "finished_at": generation.finished_at.isoformat() if generation.finished_at else None,
    }


def lora_settings(generation):
    return [{"path": lora.path, "scale": lora.scale} for lora in generation.lora_list]


# Lists instead of a related manager per row: Django builds a queryset for each row's
# manager, which costs more than the row's LoRAs themselves.
LORAS = Prefetch("loras", to_attr="lora_list")
ON_BOARDS = BoardItem.objects.only("generation_id", "board_id").order_by("board_id")
BOARDS = Prefetch("board_items", queryset=ON_BOARDS, to_attr="board_list")
TAGS = Prefetch("tags", queryset=Tag.objects.only("name"), to_attr="tag_list")
# What generation_json reads beside the row, one query each for any number of rows.
RELATED = (LORAS, BOARDS, TAGS)


def for_json(rows):
    """rows ready for generation_json: the owner joined, LoRAs, boards and tags in one more
    query each."""
    return rows.select_related("owner").prefetch_related(*RELATED)


@api_login_required
@require_http_methods(["GET", "POST"])
def generations(request):
    if not request.user.has_perm("generations.view_generation"):
        return errors.forbidden()
    if request.method == "POST":
        if not request.user.has_perm("generations.add_generation"):
            return errors.forbidden()
        return create_generations(request)
    limit = bounded_limit(request.GET.get("limit"))
    rows = for_json(Generation.objects.visible_to(request.user))[:limit]
    return JsonResponse({"results": [generation_json(request, row) for row in rows]})


def create_generations(request):
    """201 with what the submit made; 200 with the same answer when its Idempotency-Key was
    used before by this person within a day (nothing new is made or billed)."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    form = GenerationForm(request.POST, request.FILES, user=request.user, submission_key=key)
    if not form.is_valid() or (submission := form.save(owner=request.user)) is None:
        return errors.invalid(submit_errors(form, key))
    if not submission.generations:
        return errors.detail(409, KEY_USED_UP)
    status = 200 if submission.is_repeat else 201
    prefetch_related_objects(submission.generations, "owner", *RELATED)
    if submission.batch_id is None:
        return JsonResponse(generation_json(request, submission.generations[0]), status=status)
    body = {
        "batch": submission.batch_id,
        "generations": [generation_json(request, row) for row in submission.generations],
    }
    return JsonResponse(body, status=status)


@api_login_required
@require_GET
def generation(request, pk):
    if not request.user.has_perm("generations.view_generation"):
        return errors.forbidden()
    row = errors.get_or_404(for_json(Generation.objects.visible_to(request.user)), "generation", pk)
    return JsonResponse(generation_json(request, row))


def submit_errors(form, key):
    """form_errors, a problem with the submit's key named after its header."""
    problems = form_errors(form)
    if key is not None and "submission_key" in problems:
        problems[IDEMPOTENCY_HEADER] = problems.pop("submission_key")
    return problems


def form_errors(form):
    """{field: [messages]}, with form-wide problems under "__all__"."""
    return {field: [str(message) for message in errors] for field, errors in form.errors.items()}


def bounded_limit(raw):
    try:
        return max(1, min(LIST_LIMIT_MAX, int(raw)))
    except (TypeError, ValueError):
        return LIST_LIMIT_DEFAULT
