"""The reviewer's queue: pending outputs one at a time, decided from the keyboard."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .models import Generation, ReviewState

DECISIONS = {ReviewState.APPROVED, ReviewState.REJECTED, ReviewState.FLAGGED, ReviewState.PENDING}


def review_queue():
    return Generation.objects.awaiting_review().order_by("finished_at", "id")


@permission_required("generations.review_generation", raise_exception=True)
def review_next(request):
    first = review_queue().first()
    if first is None:
        return render(request, "generations/review_done.html")
    return redirect("generations:review", pk=first.pk)


@permission_required("generations.review_generation", raise_exception=True)
def review(request, pk):
    generation = get_object_or_404(
        Generation.objects.select_related("owner", "source_image"), pk=pk
    )
    pending = list(review_queue().values_list("pk", flat=True))
    context = {
        "generation": generation,
        "pending_count": len(pending),
        "position": pending.index(pk) + 1 if pk in pending else None,
        "next_pk": next((other for other in pending if other > pk), None),
        "previous_pk": next((other for other in reversed(pending) if other < pk), None),
        "decisions": ReviewState,
    }
    return render(request, "generations/review.html", context)


@permission_required("generations.review_generation", raise_exception=True)
@require_POST
def decide(request, pk):
    generation = get_object_or_404(Generation, pk=pk)
    state = request.POST.get("state")
    if state not in DECISIONS:
        messages.error(request, "Choose approve, reject or flag.")
        return redirect("generations:review", pk=pk)
    if not generation.review(request.user, state, request.POST.get("note", "").strip()):
        messages.error(request, "Only a finished video can be reviewed.")
        return redirect("generations:review", pk=pk)
    messages.success(request, f"#{generation.pk} {ReviewState(state).label.lower()}.")
    if request.POST.get("next") == "detail":
        return redirect(generation)
    return redirect("generations:review-next")
