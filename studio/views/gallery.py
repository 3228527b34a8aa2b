"""The gallery (filters, keyset pages) and a batch's grid."""

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from generations.models import Batch
from studio import gallery
from studio.access import can_view


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
        return render(request, "studio/partials/gallery_cards.html", context)
    context["options"] = gallery.filter_options()
    return render(request, "studio/gallery.html", context)


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
