"""The reviewer's queue: pending outputs one at a time, decided from the keyboard."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from generations.models import Generation, ReviewState, Status
from studio.notes import notes_context

DECISIONS = {
    ReviewState.APPROVED,
    ReviewState.CHANGES,
    ReviewState.REJECTED,
    ReviewState.FLAGGED,
    ReviewState.PENDING,
}


def review_queue():
    """Pending outputs, oldest finished first."""
    return Generation.objects.awaiting_review().order_by("finished_at", "id")


def queue_after(generation):
    """Pending outputs that come after this one in queue order (it need not be pending)."""
    if generation.finished_at is None:
        return review_queue().filter(pk__gt=generation.pk)
    return review_queue().filter(
        Q(finished_at__gt=generation.finished_at)
        | Q(finished_at=generation.finished_at, pk__gt=generation.pk)
    )


def queue_before(generation):
    if generation.finished_at is None:
        return review_queue().filter(pk__lt=generation.pk)
    return review_queue().filter(
        Q(finished_at__lt=generation.finished_at)
        | Q(finished_at=generation.finished_at, pk__lt=generation.pk)
    )


def generation_named(pk):
    """The generation an ?after= names; None for anything that is not an id."""
    if not (pk.isascii() and pk.isdigit()):
        return None
    return Generation.objects.filter(pk=int(pk)).first()


@permission_required("generations.review_generation", raise_exception=True)
def review_next(request):
    """The next pending output after ?after=<id>, else the first one, else 'all caught up'."""
    after = generation_named(request.GET.get("after", ""))
    following = (queue_after(after).first() if after else None) or review_queue().first()
    if following is None:
        return render(request, "studio/review_done.html")
    return redirect("studio:review", pk=following.pk)


@permission_required("generations.review_generation", raise_exception=True)
def review(request, pk):
    generation = get_object_or_404(
        Generation.objects.visible_to(request.user).select_related("owner", "source_image"),
        pk=pk,
    )
    return review_page(request, generation)


def review_page(request, generation, status=200, note_form=None, reply_form=None):
    """The page; the note and reply forms are given when they come back with an error."""
    earlier = queue_before(generation).count()
    context = {
        "generation": generation,
        "pending_count": review_queue().count(),
        "position": earlier + 1 if generation.review_state == ReviewState.PENDING else None,
        "next_pk": queue_after(generation).values_list("pk", flat=True).first(),
        "previous_pk": queue_before(generation)
        .order_by("-finished_at", "-id")
        .values_list("pk", flat=True)
        .first(),
    }
    if generation.status == Status.SUCCEEDED:
        context.update(notes_context(request.user, generation, "review", note_form, reply_form))
    return render(request, "studio/review.html", context, status=status)


@permission_required("generations.review_generation", raise_exception=True)
@require_POST
def decide(request, pk):
    generation = get_object_or_404(Generation.objects.visible_to(request.user), pk=pk)
    state = request.POST.get("state")
    if state not in DECISIONS:
        messages.error(request, "Choose approve, request changes, reject or flag.")
        return redirect("studio:review", pk=pk)
    if not generation.review(request.user, state, request.POST.get("note", "").strip()):
        messages.error(request, "Only a finished video can be reviewed.")
        return redirect("studio:review", pk=pk)
    messages.success(request, f"#{generation.pk} {ReviewState(state).label.lower()}.")
    if request.POST.get("next") == "detail":
        return redirect(generation)
    return redirect(f"{reverse('studio:review-next')}?after={generation.pk}")
