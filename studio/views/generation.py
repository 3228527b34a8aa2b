"""One generation: its page, and what its owner may do with it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from generations import boards, notes, shots
from generations.jobs import enqueue_submit
from generations.models import TAG_MAX_CHARS, Board, Favourite, Status
from lib.file_responses import stored_file_response
from studio import gallery
from studio.access import can_view, owned_generation, visible_generation
from studio.forms import BoardChoiceForm, TagForm
from studio.notes import notes_context


@can_view
def generation_detail(request, pk):
    return detail_page(request, visible_generation(request, pk))


def detail_page(request, generation, status=200, note_form=None, reply_form=None, **organise_forms):
    """The page (or, for htmx, its body); the forms (a note, a reply, a board, a tag) are
    given when they come back with an error."""
    template = "studio/partials/detail_body.html" if request.htmx else "studio/detail.html"
    newer, older = gallery.neighbours(generation, request.user)
    has_shot = generation.parent_id or generation.extensions.exists()
    shot = shots.shot_of(generation, request.user) if has_shot else []
    context = {
        "generation": generation,
        "newer": newer,
        "older": older,
        "shot": shot,
        "versions": shots.versions_of(generation, shot, request.user),
        "previous_version": shots.previous_version(generation, shot, request.user),
        "is_favourite": Favourite.objects.filter(user=request.user, generation=generation).exists(),
        "can_manage": generation.owner_id == request.user.pk
        or request.user.has_perm("generations.change_generation"),
        **organise_context(generation, **organise_forms),
    }
    if generation.status == Status.SUCCEEDED:
        context.update(notes_context(request.user, generation, "detail", note_form, reply_form))
        context["review_trail"] = notes.review_trail(generation, context["timeline"].threads)
    response = render(request, template, context, status=status)
    if request.htmx and not generation.is_active:
        response.status_code = HttpResponseStopPolling.status_code
    return response


def organise_context(generation, board_form=None, tag_form=None):
    """What the detail page's "Boards and tags" card shows, with the forms' errors if any."""
    on_boards = list(generation.boards.all())
    return {
        "on_boards": on_boards,
        "other_boards": Board.objects.exclude(pk__in=[board.pk for board in on_boards]),
        "tags": list(generation.tags.all()),
        "tag_names": boards.tag_names(),
        "tag_max_chars": TAG_MAX_CHARS,
        "board_form": board_form or BoardChoiceForm(),
        "tag_form": tag_form or TagForm(),
    }


@can_view
@require_POST
def organise_boards(request, pk):
    """Put this generation on a board (or, with action=remove, take it off one)."""
    generation = visible_generation(request, pk)
    form = BoardChoiceForm(request.POST)
    if not form.is_valid():
        return organise_refused(request, generation, board_form=form)
    board = form.cleaned_data["board"]
    if request.POST.get("action") == "remove":
        boards.remove_from_board(board, [generation.pk], request.user)
    else:
        boards.add_to_board(board, [generation.pk], request.user)
    return organised(request, generation)


@can_view
@require_POST
def organise_tags(request, pk):
    """Tag this generation (or, with action=remove, take a tag off)."""
    generation = visible_generation(request, pk)
    if request.POST.get("action") == "remove":
        boards.untag([generation.pk], request.POST.get("tag", ""), request.user)
        return organised(request, generation)
    form = TagForm(request.POST)
    if not form.is_valid():
        return organise_refused(request, generation, tag_form=form)
    boards.tag([generation.pk], form.cleaned_data["tag"], request.user)
    return organised(request, generation)


def organised(request, generation):
    if request.htmx:
        context = {"generation": generation, **organise_context(generation)}
        return render(request, "studio/partials/organise.html", context)
    return redirect(generation)


def organise_refused(request, generation, **forms):
    """The card again with the error beside its field: alone for htmx, else the whole page."""
    if request.htmx:
        context = {"generation": generation, **organise_context(generation, **forms)}
        return render(request, "studio/partials/organise.html", context, status=400)
    return detail_page(request, generation, status=400, **forms)


@can_view
@require_POST
def toggle_favourite(request, pk):
    generation = visible_generation(request, pk)
    is_favourite = Favourite.toggle(request.user, generation)
    if request.htmx:
        context = {"generation": generation, "is_favourite": is_favourite}
        look = "star" if request.POST.get("look") == "star" else "button"
        return render(request, f"studio/partials/favourite_{look}.html", context)
    return redirect(generation)


def delete_generation(request, pk):
    generation = owned_generation(request, pk)
    if generation.is_active:
        messages.error(request, "A generation the API is still working on cannot be deleted.")
        return redirect(generation)
    if request.method == "POST":
        generation.delete_with_files()
        messages.success(request, f"Generation #{pk} was deleted.")
        return redirect("studio:gallery")
    return render(request, "studio/confirm_delete.html", {"generation": generation})


@require_POST
def cancel_generation(request, pk):
    generation = owned_generation(request, pk)
    if not generation.cancel():
        messages.error(request, "Only a generation that is still queued can be canceled.")
    return back(request, generation)


@require_POST
def submit_generation_again(request, pk):
    generation = owned_generation(request, pk)
    if generation.submit_again():
        enqueue_submit(generation.pk)
        messages.warning(
            request, "Submitted again. If the first attempt did reach the API, both are billed."
        )
    return back(request, generation)


@require_POST
def retry_generation(request, pk):
    generation = owned_generation(request, pk)
    if generation.retry():
        enqueue_submit(generation.pk)
    return back(request, generation)


def back(request, generation):
    return (
        redirect("studio:dashboard")
        if request.POST.get("from") == "queue"
        else redirect(generation)
    )


@can_view
@require_GET
def generation_video(request, pk):
    generation = visible_generation(request, pk)
    if not generation.video:
        raise Http404("This generation has no video yet")
    download = request.GET.get("download") == "1"
    filename = f"{slugify(generation.prompt)[:60] or 'generation'}-{generation.pk}.mp4"
    return stored_file_response(request, generation.video.name, download, filename)
