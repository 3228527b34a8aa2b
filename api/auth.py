"""API token authentication: `Authorization: Token <key>`.

A request that carries a valid token is authenticated by it and exempt from CSRF checks
(no cookie is involved, so there is nothing to forge). Session requests keep CSRF.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required

from api.errors import NotFound, detail
from generations.models import ApiToken

TOKEN_PREFIX = "Token "


class ApiTokenMiddleware:
    """Sits after AuthenticationMiddleware; a token header replaces the session user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if header.startswith(TOKEN_PREFIX):
            key = header[len(TOKEN_PREFIX) :].strip()
            token = ApiToken.objects.select_related("user").filter(key=key).first()
            request.token_rejected = token is None or not token.user.is_active
            if not request.token_rejected:
                request.user = token.user
                request._dont_enforce_csrf_checks = True
        return self.get_response(request)


def api_login_required(view):
    """JSON endpoints answer 401 as JSON instead of redirecting to the login page, and a
    NotFound as a JSON 404 instead of the studio's page."""

    @login_not_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if getattr(request, "token_rejected", False):
            return detail(401, "The API token is not valid.")
        if not request.user.is_authenticated:
            return detail(401, "Log in or send 'Authorization: Token <key>'.")
        try:
            return view(request, *args, **kwargs)
        except NotFound as missing:
            return detail(404, missing)

    return wrapper
