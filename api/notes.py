"""The JSON API of review notes: a video's threads, and a note at a frame or a range (or a
reply), checked by the same form as the page. A video the person may not see has no notes for
them: 404, as for the video itself."""

from django.http import JsonResponse
from django.views.decorators.http import require_http_methods

from api import errors
from api.auth import api_login_required
from api.sequences import bad_body, request_data
from api.views import form_errors
from generations import notes
from generations.models import Generation


def reply_json(note):
    return {
        "id": note.pk,
        "parent": note.parent_id,
        "author": note.author_name,
        "body": note.body,
        "created_at": note.created_at.isoformat(),
    }


def thread_json(thread):
    return {
        "id": thread.pk,
        "frame": thread.frame,
        "end_frame": thread.end_frame,
        "seconds": thread.seconds,
        "end_seconds": thread.end_seconds,
        "author": thread.author_name,
        "body": thread.body,
        "created_at": thread.created_at.isoformat(),
        "resolved_at": thread.resolved_at.isoformat() if thread.resolved_at else None,
        "resolved_by": thread.resolved_by.get_username() if thread.resolved_by else None,
        "replies": [reply_json(answer) for answer in getattr(thread, "reply_list", [])],
    }


@api_login_required
@require_http_methods(["GET", "POST"])
def generation_notes(request, pk):
    """GET: the threads in timeline order, with their replies. POST: 201 with the new thread,
    or with the reply when it names a `parent`."""
    user = request.user
    if not user.has_perm("generations.view_generation"):
        return errors.forbidden()
    generation = errors.get_or_404(Generation.objects.visible_to(user), "generation", pk)
    if request.method == "GET":
        timeline = notes.timeline_of(generation, user)
        body = {"frames": timeline.frames, "results": [thread_json(t) for t in timeline.threads]}
        return JsonResponse(body)
    data = request_data(request)
    if data is None:
        return bad_body()
    form = notes.NoteForm(data, generation=generation)
    if not form.is_valid():
        return errors.invalid(form_errors(form))
    note = form.save(user)
    made = reply_json(note) if note.parent_id else thread_json(note)
    return JsonResponse(made, status=201)
