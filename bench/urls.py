"""The studio's URLs plus two references measured beside every page: /bench/floor/, a bare
view returning a constant behind the same middleware (sessions, login, CSP...) as every page,
so it measures what Django itself costs; and /bench/frame/, the studio's empty page for a
signed-in person (their session and account read, the top bar and its menu rendered), which
every studio page costs before its own content."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path


def floor(request):
    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def frame(request):
    return render(request, "base.html")


urlpatterns = [
    path("bench/floor/", floor),
    path("bench/frame/", frame),
    path("", include("wanstudio.urls")),
]
