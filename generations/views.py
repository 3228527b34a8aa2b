"""The studio's pages: thin views that call one form or model method and render."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from . import costs
from .file_responses import stored_file_response
from .forms import GenerationForm
from .models import Generation, LoraPreset, SourceImage
from .tasks import enqueue_submit, resume_submissions

RECENT_LIMIT = 30


def recent_generations(user):
    rows = Generation.objects.visible_to(user).select_related("owner", "source_image")
    return rows[:RECENT_LIMIT]


def visible_generation(request, pk):
    queryset = Generation.objects.visible_to(request.user).select_related("owner", "source_image")
    return get_object_or_404(queryset, pk=pk)


@permission_required("generations.view_generation", raise_exception=True)
def dashboard(request):
    if request.method == "POST":
        if not request.user.has_perm("generations.add_generation"):
            raise PermissionDenied
        form = GenerationForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            generation = form.save(owner=request.user)
            messages.success(request, f"Generation #{generation.pk} is queued.")
            return redirect(generation)
    else:
        form = GenerationForm(user=request.user)
    context = {
        "form": form,
        "generations": recent_generations(request.user),
        "lora_presets": LoraPreset.objects.filter(is_active=True),
        "budget": costs.budget_of(request.user),
        "prices": costs.price_list(),
        "currency": settings.WAN_PRICE_CURRENCY,
        "lora_rows": range(1, GenerationForm.LORA_ROWS + 1),
        "picked_source": picked_source(form),
    }
    return render(
        request, "generations/dashboard.html", context, status=400 if form.errors else 200
    )


def picked_source(form):
    """The picture already kept from this form, so a correction need not upload it again."""
    if form.is_bound and hasattr(form, "cleaned_data"):
        return form.cleaned_data.get("image") or form.cleaned_data.get("source_image")
    return None


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def generation_rows(request):
    generations = recent_generations(request.user)
    response = render(
        request, "generations/partials/generation_rows.html", {"generations": generations}
    )
    if not any(generation.is_active for generation in generations):
        response.status_code = HttpResponseStopPolling.status_code
    return response


@permission_required("generations.view_generation", raise_exception=True)
def generation_detail(request, pk):
    generation = visible_generation(request, pk)
    template = (
        "generations/partials/detail_body.html" if request.htmx else "generations/detail.html"
    )
    response = render(request, template, {"generation": generation})
    if request.htmx and not generation.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def owned_generation(request, pk):
    generation = get_object_or_404(Generation, pk=pk)
    if generation.owner_id != request.user.pk and not request.user.has_perm(
        "generations.change_generation"
    ):
        raise PermissionDenied
    return generation


@require_POST
def cancel_generation(request, pk):
    generation = owned_generation(request, pk)
    if not generation.cancel():
        messages.error(request, "Only a generation that is still queued can be canceled.")
    return redirect(generation)


@require_POST
def submit_generation_again(request, pk):
    generation = owned_generation(request, pk)
    if generation.submit_again():
        enqueue_submit(generation.pk)
        messages.warning(
            request, "Submitted again. If the first attempt did reach the API, both are billed."
        )
    return redirect(generation)


@require_POST
def retry_generation(request, pk):
    generation = owned_generation(request, pk)
    if generation.retry():
        enqueue_submit(generation.pk)
    return redirect(generation)


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def generation_video(request, pk):
    generation = visible_generation(request, pk)
    if not generation.video:
        raise Http404("This generation has no video yet")
    download = request.GET.get("download") == "1"
    filename = f"{slugify(generation.prompt)[:60] or 'generation'}-{generation.pk}.mp4"
    return stored_file_response(request, generation.video.name, download, filename)


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def media_file(request, name):
    return stored_file_response(request, name)


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


@permission_required("generations.manage_studio", raise_exception=True)
@require_POST
def resume(request):
    resume_submissions()
    messages.success(request, "Submissions resumed. Queued generations are being sent.")
    return redirect(request.POST.get("next") or "generations:dashboard")


@permission_required("generations.manage_studio", raise_exception=True)
@require_GET
def ledger(request):
    return render(request, "generations/ledger.html", {"rows": costs.ledger()})
