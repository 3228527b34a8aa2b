"""The studio page: the form that submits without leaving it, your recent takes beside it,
and the team's live queue."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_htmx.http import reswap, retarget

from generations import costs, shots
from generations.forms import GenerationForm, initial_from
from generations.models import (
    ACTIVE_STATUSES,
    Batch,
    Favourite,
    Generation,
    PromptPreset,
    SourceImage,
    Status,
)
from studio.access import can_view, visible_generation

QUEUE_LIMIT = 50
# Finished work stays in the live queue a little while, so its owner sees it land.
RECENTLY_FINISHED = timedelta(minutes=10)
LIBRARY_PICKS = 24
RECENT_TAKES = 8


@can_view
def dashboard(request):
    if request.method == "POST":
        return submit(request)
    form = GenerationForm(user=request.user, initial=reuse_initial(request))
    return render(request, "studio/dashboard.html", page_context(request, form))


def submit(request):
    if not request.user.has_perm("generations.add_generation"):
        raise PermissionDenied
    form = GenerationForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        submission = form.save(owner=request.user)
        if submission is not None:
            return after_submit(request, submission)
    if request.htmx:
        # The form comes back in place with its errors beside the fields; nothing typed is lost.
        response = render(
            request, "studio/partials/composer.html", composer_context(request, form), status=400
        )
        return reswap(retarget(response, "#composer"), "outerHTML")
    return render(request, "studio/dashboard.html", page_context(request, form), status=400)


def after_submit(request, submission):
    generations = submission.generations
    if submission.is_repeat:
        note = "This was already submitted once; nothing new was made or billed."
    elif len(generations) == 1:
        note = f"Generation #{generations[0].pk} is queued."
    else:
        note = f"A batch of {len(generations)} generations is queued."
    if request.htmx:
        # The new takes go on top of "Your recent"; the form stays as it was, with a fresh key
        # so that the next click is a new submit, not a repeat of this one.
        context = {
            "takes": []
            if submission.is_repeat
            else takes_of(request.user).filter(
                pk__in=[generation.pk for generation in generations]
            ),
            "note": note,
            "next_key": secrets.token_urlsafe(18),
            "source_image": generations[0].source_image_id if generations else None,
        }
        return render(request, "studio/partials/submitted.html", context)
    if submission.is_repeat:
        messages.info(request, note)
        if not generations:
            return redirect("studio:dashboard")
    else:
        messages.success(request, note)
    return redirect(generations[0].batch if submission.batch_id else generations[0])


def page_context(request, form):
    return {
        **composer_context(request, form),
        **queue_context(request.user, queue_scope(request)),
        "takes": recent_takes(request.user),
    }


def composer_context(request, form):
    return {
        "form": form,
        "lora_presets": form.lora_presets,
        "prompt_presets": PromptPreset.objects.all(),
        "library": SourceImage.objects.filter(is_retired=False)[:LIBRARY_PICKS],
        "picked_source": picked_source(form),
        "budget": costs.budget_of(request.user),
        "prices": costs.price_list(),
        "currency": settings.WAN_PRICE_CURRENCY,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
    }


def reuse_initial(request):
    reuse = request.GET.get("reuse", "")
    if not (reuse.isascii() and reuse.isdigit()):  # "²" is a digit, not a number
        return {"random_seed": True}
    generation = visible_generation(request, int(reuse))
    # From the frame picker: the new take continues this one from the frame it stored.
    return initial_from(generation) | shots.extension_initial(generation, request.GET)


def picked_source(form):
    """The picture this form already holds, so a correction need not upload it again."""
    if form.is_bound:
        cleaned = getattr(form, "cleaned_data", {})
        return cleaned.get("image") or cleaned.get("source_image")
    picked = form.initial.get("source_image")
    return SourceImage.objects.filter(pk=picked).first() if picked else None


# --- your recent takes ------------------------------------------------------------------


def takes_of(user):
    """The person's own generations as take cards show them: with their favourite star and
    the take made just before each (what "Compare" opens beside it)."""
    earlier = Generation.objects.filter(
        owner=OuterRef("owner"), created_at__lt=OuterRef("created_at")
    ).order_by("-created_at", "-id")
    return (
        Generation.objects.filter(owner=user)
        .select_related("source_image")
        .annotate(
            is_favourite=Exists(Favourite.objects.filter(generation=OuterRef("pk"), user=user)),
            previous_take_id=Subquery(earlier.values("pk")[:1]),
        )
        .order_by("-created_at", "-id")
    )


def recent_takes(user):
    return list(takes_of(user)[:RECENT_TAKES])


@can_view
@require_GET
def recent(request):
    """The "Your recent" strip, re-read when the pulse says new work of yours exists."""
    return render(request, "studio/partials/recent.html", {"takes": recent_takes(request.user)})


@can_view
@require_GET
def take(request, pk):
    """One recent take, re-read while it runs: progress, then its poster and player."""
    generation = get_object_or_404(takes_of(request.user), pk=pk)
    return render(request, "studio/partials/take.html", {"generation": generation})


@can_view
@require_GET
def settings_of(request, pk):
    """A generation's settings as the form's field values, for "Reuse" without a page load."""
    generation = visible_generation(request, pk)
    values = initial_from(generation)
    picture = generation.source_image
    return JsonResponse(
        {
            "fields": values,
            "picture": {
                "id": picture.pk,
                "url": picture.image.url,
                "label": f"{picture} ({picture.width}×{picture.height})",
            },
        }
    )


# --- the team's live queue ------------------------------------------------------------


def queue_scope(request):
    return "team" if request.GET.get("scope") == "team" else "mine"


def queue_context(user, scope):
    """Work in flight or landed lately, newest first; a batch's rows folded into one entry."""
    rows = Generation.objects.visible_to(user).in_live_queue(timezone.now() - RECENTLY_FINISHED)
    if scope == "mine":
        rows = rows.filter(owner=user)
    queue = list(rows.select_related("owner", "source_image")[:QUEUE_LIMIT])
    return {
        "queue_entries": fold_batches(queue),
        "queue_scope": scope,
        "queue_active": any(row.is_active for row in queue),
        "may_change_any": user.has_perm("generations.change_generation"),
    }


def fold_batches(rows):
    """Single generations as they are; each batch as one entry at its newest row's place,
    with how many of all its generations are done (one query for every batch shown)."""
    batch_ids = {row.batch_id for row in rows if row.batch_id}
    counts = {
        batch.pk: batch
        for batch in Batch.objects.filter(pk__in=batch_ids).annotate(
            total=Count("generations"),
            done=Count("generations", filter=~Q(generations__status__in=ACTIVE_STATUSES)),
            failed=Count("generations", filter=Q(generations__status=Status.FAILED)),
        )
    }
    entries, groups = [], {}
    for row in rows:
        if not row.batch_id:
            entries.append({"generation": row})
        elif row.batch_id in groups:
            groups[row.batch_id]["rows"].append(row)
        else:
            groups[row.batch_id] = {"batch": counts[row.batch_id], "rows": [row]}
            entries.append(groups[row.batch_id])
    return entries


@can_view
@require_GET
def queue(request):
    """The live queue panel, re-read whenever the pulse says work moved."""
    context = queue_context(request.user, queue_scope(request))
    return render(request, "studio/partials/queue.html", context)
