"""How the JSON API says no, in one shape everywhere.

A refused request (400) names what to fix, field by field: `{"errors": {field: [messages]}}`,
form-wide problems under "__all__". Every other refusal (401, 403, 404, 409, 410, 429) is one
sentence for a person: `{"detail": message}`.
"""

from django.http import Http404, JsonResponse


def invalid(errors):
    """400: {field: [messages]}."""
    return JsonResponse({"errors": errors}, status=400)


def detail(status, message):
    return JsonResponse({"detail": str(message)}, status=status)


def forbidden():
    return detail(403, "Your role does not allow this.")


class NotFound(Http404):
    """Raised by a JSON view; api_login_required answers it as a 404 with its message."""


def get_or_404(queryset, what, pk):
    """The JSON API's get_object_or_404 (whose answer is the studio's page for people). A row
    that does not exist and one the person may not see get the same answer, so that an id
    says nothing about someone else's work."""
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise NotFound(f"There is no {what} #{pk} that you may see.")
    return row
