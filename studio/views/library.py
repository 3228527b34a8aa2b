"""The team's libraries: source pictures, LoRA presets and prompt presets.

Members browse everything and add pictures and prompt presets; people look after what they
added (rename, retire, edit, delete); admins (manage_studio) look after everything, and alone
curate the LoRA presets. Retiring hides a thing from the studio's pickers and keeps every
generation that used it intact.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from generations.models import Generation, LoraPreset, PromptPreset, SourceImage
from studio.forms import LoraPresetForm, PictureForm, PictureUploadForm, PromptPresetForm

PICTURES_PER_PAGE = 48

can_manage = permission_required("generations.manage_studio", raise_exception=True)
can_view_pictures = permission_required("generations.view_sourceimage", raise_exception=True)
can_view_loras = permission_required("generations.view_lorapreset", raise_exception=True)
can_view_prompts = permission_required("generations.view_promptpreset", raise_exception=True)


def may_change(user, added_by_id):
    """People look after what they added; admins look after everything."""
    return added_by_id == user.pk or user.has_perm("generations.manage_studio")


def changeable(request, queryset, pk, added_by_field):
    thing = get_object_or_404(queryset, pk=pk)
    if not may_change(request.user, getattr(thing, added_by_field)):
        raise PermissionDenied
    return thing


def usage_counts(user, key, ids):
    """How many generations this person can see use each of these pictures or presets."""
    rows = (
        Generation.objects.visible_to(user)
        .filter(**{f"{key}__in": ids})
        .values(key)
        .annotate(uses=Count("id", distinct=True))
        .order_by()
    )
    return {row[key]: row["uses"] for row in rows}


def posted(request):
    """The form data of a POST (even an empty one), None for a GET."""
    return request.POST if request.method == "POST" else None


def back(request, default):
    """Where the person came from (a page of this site), else default."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(default)


@require_GET
def library(request):
    return redirect("studio:library-pictures")


# --- source pictures ---------------------------------------------------------------------


@can_view_pictures
def pictures(request):
    if request.method == "POST":
        if not request.user.has_perm("generations.add_sourceimage"):
            raise PermissionDenied
        form = PictureUploadForm(request.POST, request.FILES)
        if form.is_valid():
            picture, known = form.save(request.user)
            if known:
                messages.info(request, f"The library already had this picture: “{picture}”.")
            else:
                messages.success(request, f"“{picture}” was added to the library.")
            return redirect("studio:library-pictures")
    else:
        form = PictureUploadForm()
    show_retired = request.GET.get("show") == "retired"
    rows = SourceImage.objects.filter(is_retired=show_retired).select_related("uploaded_by")
    page = Paginator(rows, PICTURES_PER_PAGE).get_page(request.GET.get("page"))
    uses = usage_counts(request.user, "source_image", [picture.pk for picture in page])
    context = {
        "form": form,
        "page": page,
        "show_retired": show_retired,
        "cards": [
            (picture, uses.get(picture.pk, 0), may_change(request.user, picture.uploaded_by_id))
            for picture in page
        ],
        "retired_count": SourceImage.objects.filter(is_retired=True).count(),
    }
    status = 400 if form.errors else 200
    return render(request, "studio/library/pictures.html", context, status=status)


@can_view_pictures
def edit_picture(request, pk):
    picture = changeable(request, SourceImage.objects.all(), pk, "uploaded_by_id")
    form = PictureForm(posted(request), instance=picture)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Renamed to “{picture}”.")
        return redirect("studio:library-pictures")
    context = {
        "form": form,
        "picture": picture,
        "uses": usage_counts(request.user, "source_image", [picture.pk]).get(picture.pk, 0),
    }
    status = 400 if form.errors else 200
    return render(request, "studio/library/picture_edit.html", context, status=status)


@can_view_pictures
@require_POST
def retire_picture(request, pk):
    picture = changeable(request, SourceImage.objects.all(), pk, "uploaded_by_id")
    SourceImage.objects.filter(pk=picture.pk).update(is_retired=True)
    messages.success(
        request, f"“{picture}” is retired: hidden from the pickers, its generations are kept."
    )
    return back(request, "studio:library-pictures")


@can_view_pictures
@require_POST
def restore_picture(request, pk):
    picture = changeable(request, SourceImage.objects.all(), pk, "uploaded_by_id")
    SourceImage.objects.filter(pk=picture.pk).update(is_retired=False)
    messages.success(request, f"“{picture}” is back in the pickers.")
    return back(request, "studio:library-pictures")


# --- LoRA presets: the admins curate them ------------------------------------------------


@can_view_loras
@require_GET
def loras(request):
    presets = list(LoraPreset.objects.order_by("-is_active", "name"))
    uses = usage_counts(request.user, "loras__preset", [preset.pk for preset in presets])
    context = {"rows": [(preset, uses.get(preset.pk, 0)) for preset in presets]}
    return render(request, "studio/library/loras.html", context)


@can_manage
def add_lora(request):
    return lora_form_page(request, LoraPreset())


@can_manage
def edit_lora(request, pk):
    return lora_form_page(request, get_object_or_404(LoraPreset, pk=pk))


def lora_form_page(request, preset):
    form = LoraPresetForm(posted(request), instance=preset)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"LoRA preset “{preset}” saved.")
        return redirect("studio:library-loras")
    status = 400 if form.errors else 200
    context = {"form": form, "preset": preset}
    return render(request, "studio/library/lora_form.html", context, status=status)


@can_manage
@require_POST
def retire_lora(request, pk):
    preset = get_object_or_404(LoraPreset, pk=pk)
    LoraPreset.objects.filter(pk=preset.pk).update(is_active=False)
    messages.success(
        request, f"“{preset}” is retired: hidden from the pickers, its generations are kept."
    )
    return redirect("studio:library-loras")


@can_manage
@require_POST
def restore_lora(request, pk):
    preset = get_object_or_404(LoraPreset, pk=pk)
    LoraPreset.objects.filter(pk=preset.pk).update(is_active=True)
    messages.success(request, f"“{preset}” is back in the pickers.")
    return redirect("studio:library-loras")


# --- prompt presets ----------------------------------------------------------------------


@can_view_prompts
@require_GET
def prompts(request):
    presets = PromptPreset.objects.select_related("created_by")
    context = {
        "rows": [(preset, may_change(request.user, preset.created_by_id)) for preset in presets]
    }
    return render(request, "studio/library/prompts.html", context)


@permission_required("generations.add_promptpreset", raise_exception=True)
def add_prompt(request):
    return prompt_form_page(request, PromptPreset(created_by=request.user))


@can_view_prompts
def edit_prompt(request, pk):
    preset = changeable(request, PromptPreset.objects.all(), pk, "created_by_id")
    return prompt_form_page(request, preset)


def prompt_form_page(request, preset):
    form = PromptPresetForm(posted(request), instance=preset)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Prompt preset “{preset}” saved.")
        return redirect("studio:library-prompts")
    status = 400 if form.errors else 200
    context = {"form": form, "preset": preset}
    return render(request, "studio/library/prompt_form.html", context, status=status)


@can_view_prompts
def delete_prompt(request, pk):
    preset = changeable(request, PromptPreset.objects.all(), pk, "created_by_id")
    if request.method == "POST":
        preset.delete()
        messages.success(request, f"Prompt preset “{preset}” deleted.")
        return redirect("studio:library-prompts")
    return render(request, "studio/library/prompt_delete.html", {"preset": preset})
