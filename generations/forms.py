"""One form validates a new generation (or a batch), for the HTML page and the JSON API alike."""

import json
import random
import re
import secrets
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.db import transaction

from . import boards, costs, media, notify, wan_api
from .jobs import enqueue_submit
from .models import (
    Batch,
    Board,
    Generation,
    GenerationLora,
    LoraPreset,
    PromptPreset,
    SourceImage,
    Status,
    SubmitKey,
)

CLARITY_SIZES = {"480p": (832, 480), "720p": (1280, 720)}
MAX_SEEDS_PER_PROMPT = 16
MAX_BATCH_SIZE = 64
RANDOM_SEED_CEILING = 2**31 - 1


@dataclass
class Submission:
    """What a submit made; is_repeat when its key had already made it."""

    generations: list
    is_repeat: bool = False

    @property
    def batch_id(self):
        return self.generations[0].batch_id if self.generations else None


class FlexibleBooleanSelect(forms.NullBooleanSelect):
    """Reads true/false, 1/0, on/off; anything missing stays None (the API default)."""

    TRUE = {"true", "1", "on", "yes"}
    FALSE = {"false", "0", "off", "no"}

    def value_from_datadict(self, data, files, name):
        value = data.get(name)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        return True if text in self.TRUE else False if text in self.FALSE else None


def on_off(label, default, help_text=""):
    """An On/Off select; left alone it sends the API's default (listed first)."""
    widget = FlexibleBooleanSelect()
    choices = [("true", "On"), ("false", "Off")]
    widget.choices = choices if default else choices[::-1]
    return forms.NullBooleanField(label=label, required=False, help_text=help_text, widget=widget)


class GenerationForm(forms.Form):
    image = forms.FileField(required=False, label="Source picture")
    source_image = forms.ModelChoiceField(
        queryset=SourceImage.objects.filter(is_retired=False),
        required=False,
        widget=forms.HiddenInput,
    )
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    one_prompt_per_line = forms.BooleanField(required=False, label="One prompt per line (a batch)")
    negative_prompt = forms.CharField(
        max_length=wan_api.PROMPT_MAX_CHARS,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    clarity = forms.ChoiceField(
        choices=[("480p", "480p"), ("720p", "720p")],
        required=False,
    )
    orientation = forms.ChoiceField(
        choices=[
            ("auto", "Follow the picture"),
            ("landscape", "Landscape"),
            ("portrait", "Portrait"),
        ],
        required=False,
    )
    width = forms.IntegerField(required=False, widget=forms.HiddenInput)
    height = forms.IntegerField(required=False, widget=forms.HiddenInput)
    random_seed = forms.BooleanField(required=False, label="Random seed")
    seed = forms.IntegerField(
        required=False,
        min_value=wan_api.SEED_RANGE[0],
        max_value=wan_api.SEED_RANGE[1],
        help_text="-1 picks a random seed.",
    )
    seed_count = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_SEEDS_PER_PROMPT,
        label="Seeds per prompt",
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
    enable_safety_checker = on_off("Safety checker", default=True)
    fast_mode = on_off(
        "Fast mode", default=False, help_text="Faster and cheaper; may lower quality."
    )
    loras = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        help_text='A JSON list of {"preset": id or name} or {"path": ...}, each with a "scale".',
    )
    lora_scales = forms.CharField(
        required=False,
        label="Try the first LoRA at these scales",
        help_text="Optional, e.g. 0.5, 1, 1.5: one generation per value.",
    )
    save_preset_as = forms.CharField(
        required=False, max_length=100, label="Save the prompt as a preset named"
    )
    # One-time: a second POST with the same key (a double click, a resent request) answers
    # with what the first made instead of making, and billing, it again.
    submission_key = forms.CharField(
        required=False, max_length=SubmitKey._meta.get_field("key").max_length,
        widget=forms.HiddenInput,
    )  # fmt: skip

    # An extension (generations/shots.py): the clip it continues and the frame it starts from.
    parent = forms.ModelChoiceField(
        queryset=Generation.objects.none(), required=False, widget=forms.HiddenInput
    )
    parent_frame_index = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    parent_frame_time = forms.FloatField(required=False, min_value=0, widget=forms.HiddenInput)

    # Every generation of the submit lands on this board, within the board's monthly budget.
    board = forms.ModelChoiceField(
        queryset=Board.objects.all(),
        required=False,
        empty_label="None",
        error_messages={"invalid_choice": "There is no board with this id."},
    )

    LORA_ROWS = wan_api.MAX_LORAS

    def __init__(self, *args, user=None, submission_key=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.lora_presets = list(LoraPreset.objects.filter(is_active=True))
        if user is not None:
            parents = Generation.objects.visible_to(user).filter(status=Status.SUCCEEDED)
            self.fields["parent"].queryset = parents
        if submission_key is not None and self.is_bound:
            self.data = self.data.copy()
            self.data["submission_key"] = submission_key
        if not self.is_bound:
            self.initial.setdefault("submission_key", secrets.token_urlsafe(18))

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

    def lora_row_values(self):
        """What each LoRA row of the page shows: the person's input, or the initial values."""
        source = self.data if self.is_bound else self.initial
        return [
            {
                "index": index,
                "preset": str(source.get(f"lora_{index}_preset") or ""),
                "path": source.get(f"lora_{index}_path") or "",
                "scale": source.get(f"lora_{index}_scale") or "",
            }
            for index in range(1, self.LORA_ROWS + 1)
        ]

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
            problem = wan_api.lora_path_error(path)
            if problem:
                raise forms.ValidationError(problem)
        scale = item.get("scale")
        if scale in (None, ""):
            scale = preset.default_scale if preset else 1.0
        return {"path": path, "scale": self.scale_value(scale, path), "preset": preset}

    @staticmethod
    def scale_value(raw, path):
        try:
            scale = float(raw)
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(f"The scale of {path} is not a number.") from error
        low, high = wan_api.LORA_SCALE_RANGE
        if not low <= scale <= high:
            raise forms.ValidationError(
                f"The scale of {path} must be between {low:g} and {high:g}."
            )
        return scale

    def find_preset(self, reference):
        reference = str(reference).strip()
        for preset in self.lora_presets:
            if str(preset.pk) == reference or preset.name == reference:
                return preset
        raise forms.ValidationError(f"There is no active LoRA preset “{reference}”.")

    def clean_lora_scales(self):
        raw = self.cleaned_data.get("lora_scales") or ""
        values = [value for value in re.split(r"[,\s]+", raw.strip()) if value]
        return [self.scale_value(value, "the first LoRA") for value in values]

    def clean_save_preset_as(self):
        name = (self.cleaned_data.get("save_preset_as") or "").strip()
        if name and PromptPreset.objects.filter(name=name).exists():
            raise forms.ValidationError(f"A prompt preset named “{name}” already exists.")
        return name

    # --- the whole form ----------------------------------------------------------------

    def clean(self):
        data = super().clean()
        data["prompts"] = self.split_prompts(data)
        source = data.get("image") or data.get("source_image")
        if source is None and "image" not in self.errors:
            self.add_error("image", "Choose a picture to animate.")
        data["source"] = source
        if source is not None:
            self.pick_size(data, source)
        if data.get("parent") and data.get("parent_frame_index") is None:
            self.add_error("parent_frame_index", "Say which frame of the parent this continues.")
        if data.get("lora_scales") and not data.get("loras"):
            self.add_error("lora_scales", "Add a LoRA first: these scales apply to the first one.")
        self.check_against_contract(data)
        if not self.errors:
            data["plan"] = self.plan(data)
            if len(data["plan"]) > MAX_BATCH_SIZE:
                self.add_error(
                    None,
                    f"That makes {len(data['plan'])} generations; one batch holds at most "
                    f"{MAX_BATCH_SIZE}.",
                )
        if not self.errors:
            data["estimated_cost"] = costs.estimate(
                data["width"], data["height"], bool(data.get("fast_mode"))
            )
        return data

    def split_prompts(self, data):
        text = data.get("prompt") or ""
        if data.get("one_prompt_per_line"):
            prompts = [line.strip() for line in text.splitlines() if line.strip()]
        else:
            prompts = [text.strip()] if text.strip() else []
        if "prompt" in data and not prompts:
            self.add_error("prompt", "Write a prompt.")
        for prompt in prompts:
            if len(prompt) > wan_api.PROMPT_MAX_CHARS:
                self.add_error(
                    "prompt",
                    f"A prompt has at most {wan_api.PROMPT_MAX_CHARS} characters "
                    f"(this one has {len(prompt)}).",
                )
                break
        return prompts

    def pick_size(self, data, source):
        """Width×height chooses the clarity; orientation follows the picture unless chosen."""
        if data.get("width") and data.get("height"):
            return
        if data.get("width") or data.get("height"):
            self.add_error("width", "Give both width and height, or neither.")
            return
        long_side, short_side = CLARITY_SIZES[data.get("clarity") or "480p"]
        orientation = data.get("orientation") or "auto"
        portrait = source.is_portrait if orientation == "auto" else orientation == "portrait"
        data["width"], data["height"] = (
            (short_side, long_side) if portrait else (long_side, short_side)
        )

    def check_against_contract(self, data):
        """The API client's own rules are the last word on every range."""
        params = wan_api.SubmitParams(
            prompt=(data.get("prompts") or ["x"])[0],
            image_url="https://example.invalid/placeholder.jpg",
            **self.api_parameters(data),
        )
        for field, messages in wan_api.validate_params(params).items():
            target = field if field in self.fields else None
            for message in messages:
                if target is None or target not in self.errors:
                    self.add_error(target, message)

    def api_parameters(self, data):
        chosen = {}
        for name, default in wan_api.DEFAULTS.items():
            value = data.get(name)
            chosen[name] = default if value in (None, "") else value
        if data.get("random_seed"):
            chosen["seed"] = -1
        return chosen

    def plan(self, data):
        """Every generation this submit makes: prompts × seeds × LoRA scales."""
        seed = self.api_parameters(data)["seed"]
        count = data.get("seed_count") or 1
        if count == 1:
            seeds = [seed]
        elif seed == -1:  # distinct, known seeds, so the batch grid can be labelled
            seeds = random.sample(range(RANDOM_SEED_CEILING), count)
        else:
            seeds = [min(seed + offset, wan_api.SEED_RANGE[1]) for offset in range(count)]
        scales = data.get("lora_scales") or [None]
        return [
            {"prompt": prompt, "seed": one_seed, "lora_scale": scale}
            for prompt in data["prompts"]
            for one_seed in seeds
            for scale in scales
        ]

    # --- saving ------------------------------------------------------------------------

    def save(self, owner):
        """Create the planned generations, queued (their submit jobs start on commit), or
        answer with what an earlier submit with the same key made. None when the budget (the
        person's, or the board's) refuses: the reason is then one of the form's errors.

        Check and creation share one transaction that holds the person's budget lock, and the
        board's when it has a budget, so parallel submits are counted one after the other and
        never overspend."""
        data = self.cleaned_data
        plan = data["plan"]
        key = data.get("submission_key") or ""
        with transaction.atomic():
            limit = costs.hold_budget(owner)
            earlier = SubmitKey.earlier_use(owner, key) if key else None
            if earlier is not None:
                return Submission(earlier.generations(), is_repeat=True)
            spend = costs.BudgetView(costs.monthly_spend(owner), limit)
            cost = data["estimated_cost"] * len(plan)
            refusal = spend.refusal(cost)
            if refusal is None and data.get("board"):
                refusal = boards.submit_refusal(data["board"], cost)
            if refusal:
                self.add_error(None, refusal)
                return None
            parameters = self.api_parameters(data)
            batch = Batch.objects.create(owner=owner) if len(plan) > 1 else None
            generations = [self.create_one(owner, data, parameters, item, batch) for item in plan]
            if data.get("board"):
                boards.place_on_board(data["board"], generations, owner)
            if data.get("save_preset_as"):
                PromptPreset.objects.create(
                    name=data["save_preset_as"],
                    prompt=data["prompts"][0],
                    negative_prompt=data.get("negative_prompt") or "",
                    created_by=owner,
                )
            if key:
                SubmitKey.objects.create(
                    person=owner, key=key, batch=batch, generation=generations[0]
                )
            notify.announce_budget_crossing(owner, spend, cost)
        return Submission(generations)

    def create_one(self, owner, data, parameters, item, batch):
        generation = Generation.objects.create_queued(
            owner=owner,
            source_image=data["source"],
            estimated_cost=data["estimated_cost"],
            batch=batch,
            batch_lora_scale=item["lora_scale"],
            parent=data.get("parent"),
            parent_frame_index=data.get("parent_frame_index") if data.get("parent") else None,
            parent_frame_time=data.get("parent_frame_time") if data.get("parent") else None,
            **{**parameters, "prompt": item["prompt"], "seed": item["seed"]},
        )
        GenerationLora.objects.bulk_create(
            GenerationLora(
                generation=generation,
                position=position,
                path=lora["path"],
                scale=item["lora_scale"]
                if position == 1 and item["lora_scale"] is not None
                else lora["scale"],
                preset=lora["preset"],
            )
            for position, lora in enumerate(data.get("loras") or [], start=1)
        )
        enqueue_submit(generation.pk)
        return generation


def initial_from(generation):
    """Form values that reproduce a generation exactly (its picture, prompt, LoRAs, seed)."""
    seed = generation.reported_seed if generation.reported_seed is not None else generation.seed
    initial = {
        "source_image": generation.source_image_id,
        "prompt": generation.prompt,
        "negative_prompt": generation.negative_prompt,
        "clarity": generation.clarity,
        "orientation": "portrait" if generation.height > generation.width else "landscape",
        "random_seed": seed == -1,
        "seed": seed,
        "steps": generation.steps,
        "guidance_scale": generation.guidance_scale,
        "flow_shift": generation.flow_shift,
        "enable_safety_checker": generation.enable_safety_checker,
        "fast_mode": generation.fast_mode,
    }
    for lora in generation.loras.all():
        initial[f"lora_{lora.position}_preset"] = lora.preset_id or ""
        initial[f"lora_{lora.position}_path"] = "" if lora.preset_id else lora.path
        initial[f"lora_{lora.position}_scale"] = lora.scale
    return initial
