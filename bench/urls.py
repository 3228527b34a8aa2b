"""The studio's URLs plus /bench/floor/: a bare view returning a constant, behind the same
middleware (sessions, login, CSP...) as every page, so it measures what Django itself costs."""

from django.http import HttpResponse
from django.urls import include, path


def floor(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/floor/", floor),
    path("", include("wanstudio.urls")),
]
