from django.utils.functional import SimpleLazyObject

from generations.models import StudioState


def studio(request):
    """The studio-wide pause, shown as a banner on every full page. Lazy: partials never
    show the banner, so they never read it."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"studio_state": SimpleLazyObject(StudioState.shown)}
