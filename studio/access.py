"""Who may open or act on a generation from a page: the checks every page view shares."""

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from generations.models import Generation

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
