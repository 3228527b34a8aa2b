"""Compare: 2–4 generations side by side, played together, with the parameters that differ."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from generations.models import Generation, Status
from studio import compare

RECENT_PICKS = 24


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def compare_page(request):
    visible = Generation.objects.visible_to(request.user)
    selection = compare.select(visible, request.GET.getlist("ids"))
    context = {
        "selection": selection,
        "problem": selection.problem,
        "recent": visible.filter(status=Status.SUCCEEDED).select_related("owner")[:RECENT_PICKS],
        "limits": (compare.MIN_COMPARED, compare.MAX_COMPARED),
    }
    if not selection.problem:
        parameters = compare.compare_parameters(selection.generations)
        context["differing"] = [parameter for parameter in parameters if parameter.differs]
        context["shared"] = [parameter for parameter in parameters if not parameter.differs]
        context["playable"] = any(generation.video for generation in selection.generations)
    status = 400 if selection.asked and selection.problem else 200
    return render(request, "studio/compare.html", context, status=status)
