"""The gallery (filters, keyset pages, actions on a selection) and a batch's grid."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from generations.models import (
    ACTIVE_STATUSES,
    TAG_MAX_CHARS,
    Batch,
    Board,
    Favourite,
    Generation,
)
from studio import gallery
from studio.access import can_view

# A selection is what a person ticked on pages of 24: more than this is not a selection.
SELECTION_LIMIT = 500


@can_view
@require_GET
def gallery_page(request):
    page = gallery.page_for(request)
    more_url = gallery.page_url(request.GET, page.next_cursor)
    tiles = gallery.tiles(page.rows, more_url)
    if request.htmx and request.GET.get("after"):
        return HttpResponse(tiles)
    context = {"rows": page.rows, "tiles": tiles, "more_url": more_url, "filters": page.filters}
    context["options"] = gallery.filter_options()
    context["may_review"] = request.user.has_perm("generations.review_generation")
    context["boards"] = Board.objects.all()
    context["tag_max_chars"] = TAG_MAX_CHARS
    return render(request, "studio/gallery.html", context)


def selected_ids(data):
    """The ids a selection names; None when one is not an id or there are too many."""
    values = data.getlist("ids")
    if not values or len(values) > SELECTION_LIMIT:
        return None
    if not all(value.isascii() and value.isdigit() and len(value) < 19 for value in values):
        return None
    return sorted({int(value) for value in values})


@can_view
@require_POST
def bulk(request):
    """Favourite or delete what a person selected in the gallery."""
    ids = selected_ids(request.POST)
    if ids is None:
        return HttpResponseBadRequest(
            f"Select between 1 and {SELECTION_LIMIT} generations by their ids.",
            content_type="text/plain",
        )
    visible = Generation.objects.visible_to(request.user).filter(pk__in=ids)
    action = request.POST.get("action")
    if action == "favourite":
        made = Favourite.add_all(request.user, visible)
        messages.success(request, f"{made} added to your favourites.")
        return redirect("studio:gallery")
    if action == "delete":
        return delete_selection(request, visible)
    return HttpResponseBadRequest("Choose favourite or delete.", content_type="text/plain")


def delete_selection(request, visible):
    """Deleting is for one's own finished work; the page says what will be left and why."""
    if not request.user.has_perm("generations.change_generation"):
        visible = visible.filter(owner=request.user)
    deletable = list(visible.exclude(status__in=ACTIVE_STATUSES).order_by("-created_at"))
    skipped = len(selected_ids(request.POST)) - len(deletable)
    if request.POST.get("confirm") == "yes":
        with transaction.atomic():
            for generation in deletable:
                generation.delete_with_files()
        messages.success(request, f"{len(deletable)} deleted.")
        return redirect("studio:gallery")
    context = {"deletable": deletable, "skipped": skipped}
    return render(request, "studio/confirm_bulk_delete.html", context)


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
    return render(request, "studio/batch.html", context)
