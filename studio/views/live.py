"""The pulse every open page polls: `304` while nothing changed, the viewer's news when it did."""

from django.http import HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from studio import live
from studio.access import can_view


@can_view
@require_GET
def pulse(request):
    version, team_active = live.studio_version()
    # The viewer's own list is part of the answer, so the tag names the viewer too.
    etag = f'W/"{request.user.pk}-{version}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = JsonResponse(live.pulse_for(request.user, version, team_active).as_json())
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response
