"""The studio page: the form that submits, and the live queue beside it."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from generations import costs
from generations.forms import GenerationForm, initial_from
from generations.models import Generation, PromptPreset, SourceImage
from studio.access import can_view, visible_generation

QUEUE_LIMIT = 50
# Finished work stays in the live queue a little while, so its owner sees it land.
RECENTLY_FINISHED = timedelta(minutes=10)
LIBRARY_PICKS = 24


@can_view
def dashboard(request):
    if request.method == "POST":
        if not request.user.has_perm("generations.add_generation"):
            raise PermissionDenied
        form = GenerationForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            submission = form.save(owner=request.user)
            if submission is not None:
                return after_submit(request, submission)
    else:
        form = GenerationForm(user=request.user, initial=reuse_initial(request))
    context = {
        "form": form,
        **live_queue_context(request.user),
        "lora_presets": form.lora_presets,
        "prompt_presets": PromptPreset.objects.all(),
        "library": SourceImage.objects.filter(is_retired=False)[:LIBRARY_PICKS],
        "picked_source": picked_source(form),
        "budget": costs.budget_of(request.user),
        "prices": costs.price_list(),
        "currency": settings.WAN_PRICE_CURRENCY,
        "upload_max_bytes": settings.UPLOAD_MAX_BYTES,
    }
    status = 400 if form.errors else 200
    return render(request, "studio/dashboard.html", context, status=status)


def after_submit(request, submission):
    generations = submission.generations
    if submission.is_repeat:
        messages.info(request, "This was already submitted once; nothing new was made or billed.")
        if not generations:
            return redirect("studio:dashboard")
    elif len(generations) == 1:
        messages.success(request, f"Generation #{generations[0].pk} is queued.")
    else:
        messages.success(request, f"A batch of {len(generations)} generations is queued.")
    return redirect(generations[0].batch if submission.batch_id else generations[0])


def reuse_initial(request):
    reuse = request.GET.get("reuse", "")
    if not (reuse.isascii() and reuse.isdigit()):  # "²" is a digit, not a number
        return {"random_seed": True}
    return initial_from(visible_generation(request, int(reuse)))


def picked_source(form):
    """The picture this form already holds, so a correction need not upload it again."""
    if form.is_bound:
        cleaned = getattr(form, "cleaned_data", {})
        return cleaned.get("image") or cleaned.get("source_image")
    picked = form.initial.get("source_image")
    return SourceImage.objects.filter(pk=picked).first() if picked else None


def live_queue_context(user):
    rows = Generation.objects.visible_to(user).in_live_queue(timezone.now() - RECENTLY_FINISHED)
    queue = list(rows.select_related("owner", "source_image")[:QUEUE_LIMIT])
    return {
        "queue": queue,
        "queue_active": any(row.is_active for row in queue),
        "may_change_any": user.has_perm("generations.change_generation"),
    }


@can_view
@require_GET
def queue(request):
    """The live queue, re-rendered whole. Once nothing is in flight the new element has no
    timer, so browsers stop asking until the tab becomes visible again."""
    return render(request, "studio/partials/queue.html", live_queue_context(request.user))
