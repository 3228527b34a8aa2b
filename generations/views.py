"""The studio's pages: thin views that call one form or model method and render."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from lib.file_responses import stored_file_response

from . import costs, gallery
from .forms import GenerationForm, initial_from
from .models import (
    Batch,
    Favourite,
    Generation,
    PromptPreset,
    SourceImage,
)
from .tasks import enqueue_submit, resume_submissions

QUEUE_LIMIT = 50
# Finished work stays in the live queue a little while, so its owner sees it land.
RECENTLY_FINISHED = timedelta(minutes=10)
LIBRARY_PICKS = 24

can_view = permission_required("generations.view_generation", raise_exception=True)


def visible_generation(request, pk):
    queryset = Generation.objects.visible_to(request.user).select_related("owner", "source_image")
    return get_object_or_404(queryset, pk=pk)


def owned_generation(request, pk):
    generation = get_object_or_404(Generation, pk=pk)
    if generation.owner_id != request.user.pk and not request.user.has_perm(
        "generations.change_generation"
    ):
        raise PermissionDenied
    return generation


# --- the studio: form and live queue ---------------------------------------------------


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
    return render(request, "generations/dashboard.html", context, status=status)


def after_submit(request, submission):
    generations = submission.generations
    if submission.is_repeat:
        messages.info(request, "This was already submitted once; nothing new was made or billed.")
        if not generations:
            return redirect("generations:dashboard")
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
    return render(request, "generations/partials/queue.html", live_queue_context(request.user))


# --- gallery and batches -----------------------------------------------------------------


@can_view
@require_GET
def gallery_page(request):
    page = gallery.page_for(request)
    context = {
        "rows": page.rows,
        "filters": page.filters,
        "more_url": gallery.page_url(request.GET, page.next_cursor),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "generations/partials/gallery_cards.html", context)
    context["options"] = gallery.filter_options()
    return render(request, "generations/gallery.html", context)


@can_view
@require_GET
def batch_detail(request, pk):
    batch = get_object_or_404(Batch.objects.select_related("owner"), pk=pk)
    rows = list(
        batch.generations.visible_to(request.user)
        .select_related("owner", "source_image")
        .order_by("created_at", "id")
    )
    seeds = sorted({row.seed for row in rows})
    scales = sorted({row.batch_lora_scale for row in rows if row.batch_lora_scale is not None})
    prompts = list(dict.fromkeys(row.prompt for row in rows))
    columns = [(seed, scale) for seed in seeds for scale in (scales or [None])]
    cells = {(row.prompt, row.seed, row.batch_lora_scale): row for row in rows}
    grid = [
        (prompt, [cells.get((prompt, seed, scale)) for seed, scale in columns])
        for prompt in prompts
    ]
    context = {
        "batch": batch,
        "columns": columns,
        "grid": grid,
        "rows": rows,
        "batch_active": any(row.is_active for row in rows),
    }
    return render(request, "generations/batch.html", context)


# --- one generation ----------------------------------------------------------------------


@can_view
def generation_detail(request, pk):
    generation = visible_generation(request, pk)
    template = (
        "generations/partials/detail_body.html" if request.htmx else "generations/detail.html"
    )
    context = {
        "generation": generation,
        "is_favourite": Favourite.objects.filter(user=request.user, generation=generation).exists(),
        "can_manage": generation.owner_id == request.user.pk
        or request.user.has_perm("generations.change_generation"),
    }
    response = render(request, template, context)
    if request.htmx and not generation.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@can_view
@require_POST
def toggle_favourite(request, pk):
    generation = visible_generation(request, pk)
    is_favourite = Favourite.toggle(request.user, generation)
    if request.htmx:
        context = {"generation": generation, "is_favourite": is_favourite}
        return render(request, "generations/partials/favourite_button.html", context)
    return redirect(generation)


def delete_generation(request, pk):
    generation = owned_generation(request, pk)
    if generation.is_active:
        messages.error(request, "A generation the API is still working on cannot be deleted.")
        return redirect(generation)
    if request.method == "POST":
        generation.delete_with_files()
        messages.success(request, f"Generation #{pk} was deleted.")
        return redirect("generations:gallery")
    return render(request, "generations/confirm_delete.html", {"generation": generation})


@require_POST
def cancel_generation(request, pk):
    generation = owned_generation(request, pk)
    if not generation.cancel():
        messages.error(request, "Only a generation that is still queued can be canceled.")
    return back(request, generation)


@require_POST
def submit_generation_again(request, pk):
    generation = owned_generation(request, pk)
    if generation.submit_again():
        enqueue_submit(generation.pk)
        messages.warning(
            request, "Submitted again. If the first attempt did reach the API, both are billed."
        )
    return back(request, generation)


@require_POST
def retry_generation(request, pk):
    generation = owned_generation(request, pk)
    if generation.retry():
        enqueue_submit(generation.pk)
    return back(request, generation)


def back(request, generation):
    return (
        redirect("generations:dashboard")
        if request.POST.get("from") == "queue"
        else redirect(generation)
    )


@can_view
@require_GET
def generation_video(request, pk):
    generation = visible_generation(request, pk)
    if not generation.video:
        raise Http404("This generation has no video yet")
    download = request.GET.get("download") == "1"
    filename = f"{slugify(generation.prompt)[:60] or 'generation'}-{generation.pk}.mp4"
    return stored_file_response(request, generation.video.name, download, filename)


@login_not_required
@require_GET
def source_link(request, token):
    """The signed, expiring link the API's servers fetch a source picture from."""
    picture = SourceImage.from_signed_token(token)
    if picture is None:
        return HttpResponse(
            "This link is invalid or has expired.", status=403, content_type="text/plain"
        )
    return stored_file_response(request, picture.image.name)


# --- team ----------------------------------------------------------------------------------


@permission_required("generations.manage_studio", raise_exception=True)
@require_POST
def resume(request):
    resume_submissions()
    messages.success(request, "Submissions resumed. Queued generations are being sent.")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "generations:dashboard"
    return redirect(target)


@permission_required("generations.manage_studio", raise_exception=True)
@require_GET
def ledger(request):
    return render(request, "generations/ledger.html", {"rows": costs.ledger()})
