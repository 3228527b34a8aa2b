"""One form validates a new generation, for the HTML page and the JSON API alike."""

import json

from django import forms
from django.conf import settings
from django.db import transaction

from . import costs, media, wan_api
from .models import Generation, GenerationLora, LoraPreset, SourceImage
from .tasks import enqueue_submit

CLARITY_SIZES = {"480p": (832, 480), "720p": (1280, 720)}


class FlexibleBooleanSelect(forms.NullBooleanSelect):
    """Reads true/false, 1/0, on/off; anything missing stays None (the API default)."""

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, bool):
            return value
        return {"true": True, "1": True, "on": True, "yes": True}.get(
            str(value).strip().lower(),
            False if str(value).strip().lower() in ("false", "0", "off", "no") else None,
        )


def boolean_choice(label):
    return forms.NullBooleanField(
        label=label,
        required=False,
        widget=FlexibleBooleanSelect(
            attrs={"class": "select"},
        ),
    )


class GenerationForm(forms.Form):
    image = forms.FileField(required=False, label="Source picture")
    source_image = forms.ModelChoiceField(
        queryset=SourceImage.objects.filter(is_retired=False),
        required=False,
        widget=forms.HiddenInput,
    )
    prompt = forms.CharField(
        max_length=wan_api.PROMPT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        strip=True,
    )
    negative_prompt = forms.CharField(
        max_length=wan_api.PROMPT_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    clarity = forms.ChoiceField(
        choices=[("480p", "480p"), ("720p", "720p")],
        required=False,
        help_text="The output keeps the picture's aspect ratio; clarity sets its size.",
    )
    width = forms.IntegerField(required=False, widget=forms.HiddenInput)
    height = forms.IntegerField(required=False, widget=forms.HiddenInput)
    seed = forms.IntegerField(
        required=False,
        min_value=wan_api.SEED_RANGE[0],
        max_value=wan_api.SEED_RANGE[1],
        help_text="-1 picks a random seed.",
    )
    steps = forms.IntegerField(
        required=False, min_value=wan_api.STEPS_RANGE[0], max_value=wan_api.STEPS_RANGE[1]
    )
    guidance_scale = forms.FloatField(
        required=False,
        min_value=wan_api.GUIDANCE_SCALE_RANGE[0],
        max_value=wan_api.GUIDANCE_SCALE_RANGE[1],
    )
    flow_shift = forms.FloatField(
        required=False,
        min_value=wan_api.FLOW_SHIFT_RANGE[0],
        max_value=wan_api.FLOW_SHIFT_RANGE[1],
        help_text="3.0 suits 480p, 5.0 suits 720p.",
    )
    enable_safety_checker = boolean_choice("Safety checker")
    fast_mode = boolean_choice("Fast mode")
    loras = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        help_text='A JSON list of {"preset": id or name} or {"path": ...}, each with a "scale".',
    )

    LORA_ROWS = wan_api.MAX_LORAS

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.lora_presets = list(LoraPreset.objects.filter(is_active=True))

    # --- fields ------------------------------------------------------------------------

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        try:
            picture = media.reencode_picture(upload, settings.UPLOAD_MAX_BYTES)
        except media.PictureError as error:
            raise forms.ValidationError(str(error)) from error
        # Kept at once, so a mistake elsewhere in the form never costs the upload.
        return SourceImage.objects.store(picture, upload.name, self.user)

    def clean_loras(self):
        raw = self.cleaned_data.get("loras")
        if raw:
            try:
                items = json.loads(raw)
            except ValueError as error:
                raise forms.ValidationError("Send LoRAs as a JSON list.") from error
        else:
            items = self.lora_rows_from_page()
        if not isinstance(items, list):
            raise forms.ValidationError("Send LoRAs as a JSON list.")
        if len(items) > wan_api.MAX_LORAS:
            raise forms.ValidationError(f"At most {wan_api.MAX_LORAS} LoRAs.")
        return [self.resolve_lora(item) for item in items]

    def lora_rows_from_page(self):
        rows = []
        for index in range(1, self.LORA_ROWS + 1):
            preset = (self.data.get(f"lora_{index}_preset") or "").strip()
            path = (self.data.get(f"lora_{index}_path") or "").strip()
            scale = (self.data.get(f"lora_{index}_scale") or "").strip()
            if preset or path:
                row = {"preset": preset} if preset else {"path": path}
                if scale:
                    row["scale"] = scale
                rows.append(row)
        return rows

    def resolve_lora(self, item):
        if not isinstance(item, dict):
            raise forms.ValidationError('Each LoRA is an object with "preset" or "path".')
        preset = None
        if item.get("preset") not in (None, ""):
            preset = self.find_preset(item["preset"])
            path = preset.path
        else:
            path = str(item.get("path") or "").strip()
            if not path:
                raise forms.ValidationError('Each LoRA needs a "preset" or a "path".')
            if len(path) > 500:
                raise forms.ValidationError("A LoRA path is at most 500 characters.")
        scale = item.get("scale")
        if scale in (None, ""):
            scale = preset.default_scale if preset else 1.0
        try:
            scale = float(scale)
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(f"The scale of {path} is not a number.") from error
        low, high = wan_api.LORA_SCALE_RANGE
        if not low <= scale <= high:
            raise forms.ValidationError(
                f"The scale of {path} must be between {low:g} and {high:g}."
            )
        return {"path": path, "scale": scale, "preset": preset}

    def find_preset(self, reference):
        reference = str(reference).strip()
        for preset in self.lora_presets:
            if str(preset.pk) == reference or preset.name == reference:
                return preset
        raise forms.ValidationError(f"There is no active LoRA preset “{reference}”.")

    # --- the whole form ----------------------------------------------------------------

    def clean(self):
        data = super().clean()
        source = data.get("image") or data.get("source_image")
        if source is None and "image" not in self.errors:
            self.add_error("image", "Choose a picture to animate.")
        data["source"] = source
        if source is not None:
            self.pick_size(data, source)
        self.check_against_contract(data)
        if data.get("width") and data.get("height") and not self.errors:
            self.check_budget(data)
        return data

    def check_budget(self, data):
        data["estimated_cost"] = costs.estimate(
            data["width"], data["height"], bool(data.get("fast_mode"))
        )
        refusal = costs.budget_of(self.user).refusal(data["estimated_cost"])
        if refusal:
            self.add_error(None, refusal)

    def pick_size(self, data, source):
        """Width×height chooses the clarity; orientation follows the picture unless given."""
        if data.get("width") and data.get("height"):
            return
        if data.get("width") or data.get("height"):
            self.add_error("width", "Give both width and height, or neither.")
            return
        long_side, short_side = CLARITY_SIZES[data.get("clarity") or "480p"]
        if source.is_portrait:
            data["width"], data["height"] = short_side, long_side
        else:
            data["width"], data["height"] = long_side, short_side

    def check_against_contract(self, data):
        """The API client's own rules are the last word on every range."""
        params = wan_api.SubmitParams(
            prompt=data.get("prompt") or "x",
            image_url="https://example.invalid/placeholder.jpg",
            **{name: value for name, value in self.api_parameters(data).items()},
        )
        for field, messages in wan_api.validate_params(params).items():
            target = field if field in self.fields else None
            for message in messages:
                if target is None or target not in self.errors:
                    self.add_error(target, message)

    @staticmethod
    def api_parameters(data):
        chosen = {}
        for name, default in wan_api.DEFAULTS.items():
            value = data.get(name)
            chosen[name] = default if value in (None, "") else value
        return chosen

    def save(self, owner):
        data = self.cleaned_data
        with transaction.atomic():
            generation = Generation.objects.create_queued(
                owner=owner,
                source_image=data["source"],
                prompt=data["prompt"],
                estimated_cost=data["estimated_cost"],
                **self.api_parameters(data),
            )
            GenerationLora.objects.bulk_create(
                GenerationLora(
                    generation=generation,
                    position=position,
                    path=lora["path"],
                    scale=lora["scale"],
                    preset=lora["preset"],
                )
                for position, lora in enumerate(data.get("loras") or [], start=1)
            )
            enqueue_submit(generation.pk)
        return generation
