"""Who may fetch a stored file by its name: the row that holds the name decides.

A generation's video and poster are for whoever may see the generation (flagged work of others
stays hidden, files included); a source picture is for anyone who may see the team's work; a
name that no row holds is nobody's. A picture's thumbnail is for whoever may see the picture.
"""

from django.contrib.auth.decorators import login_not_required, permission_required
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from generations import media
from generations.models import Generation, SourceImage
from lib.file_responses import stored_file_response


def may_see_stored_file(user, name):
    holders = Generation.objects.filter(Q(video=name) | Q(poster=name))
    if holders.visible_to(user).exists():
        return True
    if holders.exists():
        return False  # held by generations this person may not see
    return SourceImage.objects.filter(image=name).exists()


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def media_file(request, name):
    # A hidden file answers as a missing one, as the detail page of a hidden generation does.
    if not may_see_stored_file(request.user, name):
        raise Http404("No such file")
    return stored_file_response(request, name)


@permission_required("generations.view_generation", raise_exception=True)
@require_GET
def thumbnail(request, name):
    """A poster's (or a source picture's) small copy for tiles, made on the first request."""
    if not name.lower().endswith(media.THUMBNAIL_SOURCES):
        raise Http404("No such file")
    if not may_see_stored_file(request.user, name):
        raise Http404("No such file")
    try:
        small = media.stored_thumbnail(name)
    except OSError:  # the picture is missing
        raise Http404("No such file") from None
    except media.PictureError:
        return stored_file_response(request, name)  # a picture Pillow cannot shrink: send it whole
    return stored_file_response(request, small)


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
