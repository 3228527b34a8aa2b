"""Shots and sequences on the pages: the frame picker that starts an extension, the editor of
an edit, its export's progress and its files."""

import json
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from generations import sequences, shots
from generations.models import Sequence, Status
from generations.sequences import SequenceForm
from lib.file_responses import stored_file_response
from studio.access import can_view, visible_generation

LIST_LIMIT = 100


def may_make(request):
    if not request.user.has_perm("generations.add_generation"):
        raise PermissionDenied


def visible_sequence(request, pk):
    queryset = Sequence.objects.visible_to(request.user).select_related("owner")
    return get_object_or_404(queryset, pk=pk)


def editable_sequence(request, pk):
    sequence = visible_sequence(request, pk)
    if not sequence.may_edit(request.user):
        raise PermissionDenied
    return sequence


# --- extend: pick the frame, then the Studio form ------------------------------------------------


@can_view
def extend(request, pk):
    """GET: the scrubber over the clip (the last frame by default). POST: keep the chosen
    frame as a source picture and open the Studio form with the clip's settings and it."""
    may_make(request)
    generation = visible_generation(request, pk)
    if generation.status != Status.SUCCEEDED or not generation.video:
        raise Http404("Only a finished clip can be extended")
    try:
        frames, fps = sequences.clip_frame_count(generation)
    except shots.FrameError as problem:  # the stored file is damaged: say so, offer nothing
        messages.error(request, str(problem))
        return redirect(generation)
    error = None
    if request.method == "POST":
        try:
            index = int(request.POST.get("frame", ""))
            picked = shots.take_frame(generation, index=index)
            picture = shots.store_frame(generation, picked, request.user)
        except ValueError as problem:  # FrameError is one, so is a frame that is no number
            error = str(problem) if isinstance(problem, shots.FrameError) else "Pick a frame."
        else:
            query = {"reuse": generation.pk}
            query.update(shots.extension_fields(generation, picture, picked))
            del query["parent"]  # the reused generation is the parent
            return redirect(f"{reverse('studio:dashboard')}?{urlencode(query)}")
    context = {
        "generation": generation,
        "frames": frames,
        "fps": fps,
        "last_frame": frames - 1,
        "shot": shots.shot_of(generation, request.user),
        "error": error,
    }
    return render(request, "studio/extend.html", context, status=400 if error else 200)


# --- sequences ------------------------------------------------------------------------------------


@can_view
@require_GET
def sequence_list(request):
    rows = Sequence.objects.visible_to(request.user).select_related("owner")[:LIST_LIMIT]
    return render(request, "studio/sequence_list.html", {"sequences": rows})


@can_view
@require_POST
def new_sequence(request):
    """From a gallery selection (`ids` or `generation`, repeated) or a shot (`shot`: one of
    its clips)."""
    may_make(request)
    ids = request.POST.getlist("generation") or request.POST.getlist("ids")
    if request.POST.get("shot"):
        clip = visible_generation(request, whole(request.POST["shot"]))
        ids = [row.pk for row in shots.chain_through(clip, request.user)]
    form = SequenceForm({"clips": [{"generation": pk} for pk in ids]}, user=request.user)
    if not form.is_valid():
        for problem in form.errors.values():
            messages.error(request, " ".join(problem))
        return redirect("studio:gallery")
    return redirect(form.save(owner=request.user))


@can_view
@require_POST
def add_to_sequence(request, pk):
    sequence = editable_sequence(request, pk)
    if sequence.is_exporting:
        messages.error(request, "The sequence is exporting; add clips once it has finished.")
        return redirect(sequence)
    clips = [clip.as_item() for clip in sequence.clips.all()]
    clips += [{"generation": value} for value in request.POST.getlist("generation")]
    form = SequenceForm({"clips": clips}, user=request.user)
    if form.is_valid():
        form.save(owner=request.user, sequence=sequence)
    else:
        for problem in form.errors.values():
            messages.error(request, " ".join(problem))
    return redirect(sequence)


@can_view
def sequence_editor(request, pk):
    sequence = visible_sequence(request, pk)
    may_edit = sequence.may_edit(request.user)
    form = None
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        form = SequenceForm(request.POST, user=request.user)
        if sequence.is_exporting:
            messages.error(request, "The sequence is exporting; change it once it has finished.")
            return redirect(sequence)
        if form.is_valid():
            form.save(owner=request.user, sequence=sequence)
            messages.success(request, "The sequence is saved.")
            return redirect(sequence)
    clips = list(sequence.clips.select_related("generation"))
    context = {
        "sequence": sequence,
        "clips": clips,
        "clips_json": json.dumps([clip.as_item() for clip in clips]),
        "total_seconds": sum(clip_length(clip) for clip in clips)
        - sum(clip.crossfade_seconds for clip in clips[:-1]),
        "form": form,
        "may_edit": may_edit,
        "latest_export": sequence.latest_export(request.user),
    }
    return render(request, "studio/sequence.html", context, status=400 if form else 200)


@can_view
@require_POST
def export_sequence(request, pk):
    sequence = editable_sequence(request, pk)
    try:
        if not sequences.start_export(sequence):
            messages.info(request, "This sequence is already exporting.")
    except sequences.ExportError as error:
        messages.error(request, str(error))
    if request.htmx:
        context = {"sequence": sequence, "may_edit": True, "latest_export": None}
        return render(request, "studio/partials/sequence_export.html", context)
    return redirect(sequence)


@can_view
@require_GET
def export_progress(request, pk):
    """The export panel, polled while the export waits or renders."""
    sequence = visible_sequence(request, pk)
    context = {
        "sequence": sequence,
        "may_edit": sequence.may_edit(request.user),
        "latest_export": sequence.latest_export(request.user),
    }
    response = render(request, "studio/partials/sequence_export.html", context)
    if request.htmx and not sequence.is_exporting:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@can_view
@require_GET
def sequence_video(request, pk):
    sequence = visible_sequence(request, pk)
    if not sequence.video:
        raise Http404("This sequence has not been exported yet")
    download = request.GET.get("download") == "1"
    filename = f"{slugify(sequence.title)[:60] or 'sequence'}-{sequence.pk}.mp4"
    return stored_file_response(request, sequence.video.name, download, filename)


@can_view
@require_GET
def sequence_poster(request, pk):
    sequence = visible_sequence(request, pk)
    if not sequence.poster:
        raise Http404("This sequence has not been exported yet")
    return stored_file_response(request, sequence.poster.name)


def clip_length(clip):
    end = clip.out_point if clip.out_point is not None else clip.generation.video_duration or 0
    return max(0.0, end - clip.in_point)


def whole(raw):
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("No such clip")
    return int(raw)
