from .models import StudioState


def studio(request):
    """The studio-wide pause, shown as a banner on every page."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    state = StudioState.objects.filter(pk=1).first()
    return {"studio_state": state}
