"""Boards: the list with its form for a new one, a board's own gallery (edit, remove items, pick
the cover), and the gallery selection put on a board or tagged.

Boards belong to the team: anyone who may see the gallery makes and edits them; only who may
manage the studio sets their budgets. Items are only ever the ones a person may see."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from generations import boards
from generations.models import Board
from studio import gallery
from studio.access import can_view
from studio.forms import BoardChoiceForm, BoardForm, TagForm
from studio.views.gallery import SELECTION_LIMIT, selected_ids


def may_set_budget(user):
    return user.has_perm("generations.manage_studio")


@can_view
@require_http_methods(["GET", "POST"])
def board_list(request):
    data = request.POST if request.method == "POST" else None
    form = BoardForm(data, may_set_budget=may_set_budget(request.user))
    if data is not None and form.is_valid() and (board := form.save(request.user)):
        messages.success(request, f"Board “{board}” is ready: add work from the gallery.")
        return redirect(board)
    context = {
        "summaries": boards.overview(request.user),
        "form": form,
        "currency": settings.WAN_PRICE_CURRENCY,
    }
    return render(request, "studio/boards.html", context, status=400 if form.errors else 200)


@can_view
@require_GET
def board_page(request, pk):
    board = get_object_or_404(Board, pk=pk)
    return render_board(request, board, BoardForm(instance=board, **budget_rights(request)))


def budget_rights(request):
    return {"may_set_budget": may_set_budget(request.user)}


def render_board(request, board, form, status=200):
    """The board's gallery (any state, newest first, in keyset pages) and its facts."""
    rows, cursor = gallery.rows_page(
        request.user, {"board": board, "status": "all"}, request.GET.get("after")
    )
    more_url = gallery.page_url(request.GET, cursor, board.get_absolute_url())
    tiles = gallery.tiles(rows, more_url)
    if request.htmx and request.GET.get("after"):
        return HttpResponse(tiles)
    context = {
        "board": board,
        "rows": rows,
        "tiles": tiles,
        "more_url": more_url,
        "form": form,
        "cover": boards.cover_of(board, request.user),
        "budget": boards.budget_of(board),
        "currency": settings.WAN_PRICE_CURRENCY,
    }
    return render(request, "studio/board.html", context, status=status)


@can_view
@require_POST
def edit_board(request, pk):
    board = get_object_or_404(Board, pk=pk)
    form = BoardForm(request.POST, instance=board, **budget_rights(request))
    if form.is_valid() and form.save() is not None:
        messages.success(request, f"Board “{board}” saved.")
        return redirect(board)
    board.refresh_from_db()  # the page shows the saved name, the form what was typed
    return render_board(request, board, form, status=400)


@can_view
@require_http_methods(["GET", "POST"])
def delete_board(request, pk):
    """Its maker or an admin deletes a board; its videos stay in the gallery. A board that was
    shared stays: its links hold the guests' audit trail."""
    board = get_object_or_404(Board, pk=pk)
    if board.created_by_id != request.user.pk and not may_set_budget(request.user):
        raise PermissionDenied
    if board.shares.exists():
        messages.error(
            request,
            f"“{board}” was shared: its links keep what guests saw and decided, so it stays. "
            "Revoke the links to stop them working.",
        )
        return redirect(board)
    if request.method == "POST":
        board.delete()
        messages.success(
            request, f"Board “{board}” was deleted; its videos are still in the gallery."
        )
        return redirect("studio:boards")
    return render(request, "studio/confirm_delete_board.html", {"board": board})


@can_view
@require_POST
def board_items(request, pk):
    """The board page's selection: take it off the board, or make the one picked its cover."""
    board = get_object_or_404(Board, pk=pk)
    ids = selected_ids(request.POST)
    if ids is None:
        messages.error(request, f"Select between 1 and {SELECTION_LIMIT} items first.")
    elif request.POST.get("action") == "cover":
        if len(ids) != 1 or not boards.set_cover(board, ids[0], request.user):
            messages.error(request, "Select one item of this board to make it the cover.")
        else:
            messages.success(request, f"#{ids[0]} is the cover of “{board}” now.")
    else:
        removed = boards.remove_from_board(board, ids, request.user)
        messages.success(request, f"{removed} taken off “{board}”.")
    return redirect(board)


# --- the gallery's selection ---------------------------------------------------------------------


@can_view
@require_POST
def add_selection_to_board(request):
    ids = selected_ids(request.POST)
    choice = BoardChoiceForm(request.POST)
    if ids is None:
        level, said = messages.ERROR, f"Select between 1 and {SELECTION_LIMIT} generations first."
    elif not choice.is_valid():
        level, said = messages.ERROR, " ".join(choice.errors["board"])
    else:
        board = choice.cleaned_data["board"]
        added = boards.add_to_board(board, ids, request.user)
        level, said = (
            messages.SUCCESS,
            f"{added} added to “{board}” ({len(ids) - added} already there).",
        )
    if request.htmx:  # the gallery viewer says it in place, leaving no message for later
        return HttpResponse(said, status=400 if level == messages.ERROR else 200)
    messages.add_message(request, level, said)
    return back_to_gallery(request)


@can_view
@require_POST
def tag_selection(request):
    ids = selected_ids(request.POST)
    form = TagForm(request.POST)
    if ids is None:
        messages.error(request, f"Select between 1 and {SELECTION_LIMIT} generations first.")
    elif not form.is_valid():
        messages.error(request, " ".join(form.errors["tag"]))
    else:
        name = form.cleaned_data["tag"]
        tagged = boards.tag(ids, name, request.user)
        messages.success(request, f"{tagged} tagged “{name}”.")
    return back_to_gallery(request)


def back_to_gallery(request):
    """To the gallery page the selection was made on, filters and all, when the browser says
    which (same-origin requests carry a Referer); else to the gallery."""
    came_from = urlsplit(request.headers.get("Referer", ""))
    gallery_path = reverse("studio:gallery")
    if came_from.netloc != request.get_host() or came_from.path != gallery_path:
        return redirect(gallery_path)
    return redirect(f"{gallery_path}?{came_from.query}" if came_from.query else gallery_path)
