"""The JSON API of share links: make one, list mine, withdraw one (the link then answers 410).

The same form as the page's "Share…" (generations/shares.py); the URL in the answer is the one
a guest opens, absolute.
"""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from api import errors
from api.auth import api_login_required
from api.sequences import bad_body, request_data
from api.views import bounded_limit, form_errors
from generations import shares
from generations.models import Share


def share_json(request, share):
    return {
        "id": share.pk,
        "url": request.build_absolute_uri(share.get_absolute_url()),
        "kind": share.kind,
        "generations": sorted(item.generation_id for item in share.items.all()),
        "board": share.board_id,
        "sequence": share.sequence_id,
        "created_by": share.created_by.get_username(),
        "created_at": share.created_at.isoformat(),
        "expires_at": share.expires_at.isoformat(),
        "revoked_at": share.revoked_at.isoformat() if share.revoked_at else None,
        "has_password": share.has_password,
        "show_parameters": share.show_parameters,
    }


def mine(user):
    return (
        Share.objects.filter(created_by=user).select_related("created_by").prefetch_related("items")
    )


@api_login_required
@require_http_methods(["GET", "POST"])
def share_list(request):
    user = request.user
    if not user.has_perm("generations.view_generation"):
        return errors.forbidden()
    if request.method == "GET":
        rows = mine(user)[: bounded_limit(request.GET.get("limit"))]
        return JsonResponse({"results": [share_json(request, row) for row in rows]})
    data = request_data(request)
    if data is None:
        return bad_body()
    form = shares.ShareForm(data, user=user)
    if not form.is_valid():
        return errors.invalid(form_errors(form))
    made = form.save(user)
    return JsonResponse(share_json(request, mine(user).get(pk=made.pk)), status=201)


@api_login_required
@require_http_methods(["GET", "DELETE"])
def share(request, pk):
    """GET: one of my links. DELETE: withdraw it (its maker or an admin); 204 again after."""
    user = request.user
    if not user.has_perm("generations.view_generation"):
        return errors.forbidden()
    rows = Share.objects.select_related("created_by").prefetch_related("items")
    row = rows.filter(pk=pk).first()
    # Someone else's link is as missing as one that does not exist.
    if row is None or not row.may_revoke(user):
        raise errors.NotFound(f"There is no share link #{pk} of yours.")
    if request.method == "GET":
        return JsonResponse(share_json(request, row))
    row.revoke(user)
    return HttpResponse(status=204)
