"""Files in and out of the studio in one go: the gallery's selection as a ZIP, and the settings
a video carries read back into the Studio form."""

import json

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.http import require_http_methods, require_POST

from generations import media
from generations.forms import GenerationForm
from studio import downloads
from studio.access import can_view

SETTINGS_FILE_MAX_BYTES = 200 * 1024 * 1024
NO_PARAMETERS = "This video carries no WanStudio parameters."
# What each value of the parameters must be before the form's own fields judge it.
PARAMETER_TYPES = {
    "prompt": str,
    "negative_prompt": str,
    "width": int,
    "height": int,
    "seed": int,
    "steps": int,
    "guidance_scale": (int, float),
    "flow_shift": (int, float),
    "enable_safety_checker": bool,
    "fast_mode": bool,
}
# The form's fields filled from a video; the rest (picture, batch, presets) stay as they are.
FILLED_FIELDS = (
    "prompt",
    "negative_prompt",
    "clarity",
    "orientation",
    "random_seed",
    "seed",
    "steps",
    "guidance_scale",
    "flow_shift",
    "enable_safety_checker",
    "fast_mode",
)


class SettingsError(ValueError):
    """A file whose settings cannot go into the form; the message is for the person."""


# A GET link for a few videos; the gallery's form of checkboxes posts (with its CSRF token),
# as 500 ids would not fit in a URL the server accepts.
@can_view
@require_http_methods(["GET", "POST"])
def download_zip(request):
    asked = request.POST if request.method == "POST" else request.GET
    try:
        ids = downloads.selected_ids(asked.getlist("ids"))
    except downloads.SelectionError as error:
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    selection = downloads.select_videos(request.user, ids)
    response = StreamingHttpResponse(
        downloads.zip_chunks(selection, request.user), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{downloads.archive_name(selection)}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@can_view
@require_POST
def settings_from_file(request):
    """The parameters an MP4 carries as {"fields": {form field: value}, "loras": [rows]}: the
    fields as "reuse settings" gives them (generations/<id>/settings/), LoRA rows included."""
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise SettingsError("Drop an MP4 video made by WanStudio.")
        if upload.size > SETTINGS_FILE_MAX_BYTES:
            raise SettingsError(
                f"The file is {upload.size / 1_000_000:.0f} MB; "
                f"the limit is {SETTINGS_FILE_MAX_BYTES / 1_000_000:.0f} MB."
            )
        try:
            parameters = media.read_parameters(upload)
        except media.VideoError:
            raise SettingsError("This file is not an MP4 video.") from None
        if parameters is None:
            raise SettingsError(NO_PARAMETERS)
        return JsonResponse(form_settings(parameters, request.user))
    except SettingsError as error:
        return JsonResponse({"error": str(error)}, status=400)


def form_settings(parameters, user):
    """The Studio form's values from a video's parameters, each judged by the form's own fields
    (the file is anyone's to make), the way the form's "reuse settings" fills it."""
    if parameters.get(media.PARAMETERS_MARK) != media.PARAMETERS_VERSION:
        raise SettingsError("This video's parameters are from a WanStudio this one cannot read.")
    for name, kind in PARAMETER_TYPES.items():
        value = parameters.get(name)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise SettingsError(f"The video's parameters have no valid {name.replace('_', ' ')}.")
    reported = parameters.get("reported_seed")
    seed = reported if isinstance(reported, int) and not isinstance(reported, bool) else None
    seed = parameters["seed"] if seed is None else seed
    width, height = parameters["width"], parameters["height"]
    data = {
        **{name: str(parameters[name]) for name in PARAMETER_TYPES},
        "clarity": "720p" if max(width, height) == 1280 else "480p",
        "orientation": "portrait" if height > width else "landscape",
        "seed": str(seed),
        "loras": lora_list(parameters.get("loras", [])),
    }
    for name in ("enable_safety_checker", "fast_mode"):
        data[name] = "true" if parameters[name] else "false"
    form = GenerationForm(data, user=user)
    form.is_valid()
    problems = [
        f"{name.replace('_', ' ')}: {' '.join(messages)}"
        for name, messages in form.errors.items()
        if name not in ("image", "source_image", "__all__")
    ]
    if problems:
        raise SettingsError(f"This video's parameters do not fit the form ({'; '.join(problems)}).")
    cleaned = form.cleaned_data
    fields = {name: cleaned.get(name) for name in FILLED_FIELDS}
    fields["random_seed"] = seed == -1
    loras = lora_rows(cleaned["loras"], form.lora_presets)
    for index, row in enumerate(loras, start=1):
        fields.update({f"lora_{index}_{part}": value for part, value in row.items()})
    return {"fields": fields, "loras": loras}


def lora_list(loras):
    """The form's JSON list of LoRAs, from the file's: only paths and scales are taken."""
    if not isinstance(loras, list) or not all(isinstance(lora, dict) for lora in loras):
        raise SettingsError("The video's parameters have no valid loras.")
    return json.dumps([{"path": lora.get("path"), "scale": lora.get("scale")} for lora in loras])


def lora_rows(loras, presets):
    """One row of the form's LoRA grid per LoRA: its active preset if one has the path."""
    by_path = {preset.path: preset for preset in reversed(presets)}
    rows = []
    for lora in loras:
        preset = by_path.get(lora["path"])
        rows.append(
            {
                "preset": preset.pk if preset else "",
                "path": "" if preset else lora["path"],
                "scale": lora["scale"],
            }
        )
    return rows
