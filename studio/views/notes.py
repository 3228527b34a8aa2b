"""Review notes on a video's timeline, posted from its page or the review page: a note at a
frame or a range, replies, resolve and reopen, show to guests or hide (anyone who may see the
video).

Plain POST forms: without JavaScript a redirect back to the page (or, 400, the page again with
the error beside its field); with htmx the notes section alone comes back.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from generations import notes
from generations.models import Status
from studio.access import can_view, visible_generation
from studio.notes import notes_context
from studio.views.generation import detail_page
from studio.views.review import review_page


@can_view
@require_POST
def add_note(request, pk):
    generation = visible_generation(request, pk)
    form = notes.NoteForm(request.POST, generation=generation)
    if not form.is_valid():
        return refused(request, generation, note_form=form)
    return noted(request, generation, form.save(request.user))


@can_view
@require_POST
def reply(request, pk):
    thread = visible_thread(request, pk)
    form = notes.NoteForm(request.POST, generation=thread.generation, thread=thread)
    if not form.is_valid():
        return refused(request, thread.generation, reply_form=form)
    return noted(request, thread.generation, form.save(request.user))


@can_view
@require_POST
def resolve(request, pk):
    """Resolve the thread, or with action=reopen open it again."""
    thread = visible_thread(request, pk)
    if request.POST.get("action") == "reopen":
        notes.reopen(thread)
    else:
        notes.resolve(thread, request.user)
    return noted(request, thread.generation, thread)


@can_view
@require_POST
def show_to_guests(request, pk):
    """Show the thread to guests of any link that shares the video, or with action=hide hide it."""
    thread = visible_thread(request, pk)
    notes.show_to_guests(thread, request.POST.get("action") != "hide")
    return noted(request, thread.generation, thread)


def visible_thread(request, pk):
    threads = notes.visible_notes(request.user).filter(parent__isnull=True)
    related = threads.select_related("generation__owner", "generation__source_image")
    return get_object_or_404(related, pk=pk)


def place_of(request):
    """The page the form was posted from: the review page (for those who review), else the
    video's own page."""
    on_review = request.POST.get("place") == "review"
    return (
        "review"
        if on_review and request.user.has_perm("generations.review_generation")
        else "detail"
    )


def noted(request, generation, note):
    place, thread_id = place_of(request), note.parent_id or note.pk
    if request.htmx:
        context = notes_context(request.user, generation, place)
        context["highlighted"] = thread_id
        return render(request, "studio/partials/review_notes.html", context)
    if place == "review":
        return redirect(f"{reverse('studio:review', args=[generation.pk])}#note-{thread_id}")
    return redirect(f"{generation.get_absolute_url()}#note-{thread_id}")


def refused(request, generation, **forms):
    """The notes again with the error beside its field: alone for htmx, else the whole page."""
    place = place_of(request)
    if request.htmx:
        context = notes_context(request.user, generation, place, **forms)
        return render(request, "studio/partials/review_notes.html", context, status=400)
    if generation.status != Status.SUCCEEDED:  # the page shows no notes section to hold it
        for form in forms.values():
            for error in form.non_field_errors():
                messages.error(request, error)
    page = review_page if place == "review" else detail_page
    return page(request, generation, status=400, **forms)
