"""Comparing 2–4 generations: which of the ids asked for can be shown, and which parameters
differ between them."""

import re
from dataclasses import dataclass

MIN_COMPARED = 2
MAX_COMPARED = 4
MAX_ID_DIGITS = 18  # larger numbers are no database id (and would overflow SQLite's integer)


def on_off(value):
    return "on" if value else "off"


def size_text(generation):
    return f"{generation.width}×{generation.height} ({generation.clarity})"


def seed_asked_text(generation):
    return "random" if generation.seed == -1 else str(generation.seed)


def seed_used_text(generation):
    return "not reported" if generation.reported_seed is None else str(generation.reported_seed)


def loras_text(generation):
    loras = generation.loras.all()
    return ", ".join(f"{lora.path} × {lora.scale:g}" for lora in loras) or "none"


def picture_text(generation):
    return f"{generation.source_image} (#{generation.source_image_id})"


# Every parameter a person may want to tell apart: its label and the text shown for one
# generation. Texts are what is compared, so a guidance of 5.0 and of 5 count as the same.
PARAMETERS = [
    ("Prompt", lambda generation: generation.prompt),
    ("Negative prompt", lambda generation: generation.negative_prompt or "none"),
    ("Size", size_text),
    ("Seed asked", seed_asked_text),
    ("Seed used", seed_used_text),
    ("Steps", lambda generation: str(generation.steps)),
    ("Guidance scale", lambda generation: f"{generation.guidance_scale:g}"),
    ("Flow shift", lambda generation: f"{generation.flow_shift:g}"),
    ("Safety checker", lambda generation: on_off(generation.enable_safety_checker)),
    ("Fast mode", lambda generation: on_off(generation.fast_mode)),
    ("LoRAs", loras_text),
    ("Source picture", picture_text),
]


@dataclass(frozen=True)
class Parameter:
    label: str
    values: list[str]  # one per generation, in the order given

    @property
    def differs(self):
        return len(set(self.values)) > 1


def compare_parameters(generations):
    """Each parameter with its value for every generation, in PARAMETERS' order."""
    return [
        Parameter(label, [shown(generation) for generation in generations])
        for label, shown in PARAMETERS
    ]


def differing_parameters(generations):
    return [parameter for parameter in compare_parameters(generations) if parameter.differs]


def parse_ids(values):
    """Ids from ?ids=3,7,9 and/or ?ids=3&ids=7, in order, each once; junk is skipped."""
    ids = {}
    for value in values:
        for part in re.split(r"[,\s]+", value):
            # isascii: "²" is a digit to str.isdigit but no number to int()
            if part.isascii() and part.isdigit() and len(part) <= MAX_ID_DIGITS:
                ids[int(part)] = None
    return list(ids)


@dataclass
class Selection:
    """What a compare request asked for and what of it this person may see."""

    asked: list[int]
    generations: list  # the visible ones, in the order asked
    missing: list[int]  # ids that do not exist or are hidden from this person: never say which

    @property
    def problem(self):
        """Why these cannot be compared, for the person; empty when they can."""
        if len(self.asked) > MAX_COMPARED:
            return (
                f"You picked {len(self.asked)} generations; compare at most {MAX_COMPARED} "
                "at a time."
            )
        if not self.asked:
            return f"Pick {MIN_COMPARED} to {MAX_COMPARED} generations to compare."
        if len(self.asked) < MIN_COMPARED:
            return (
                f"Pick at least one more generation: compare shows {MIN_COMPARED} to "
                f"{MAX_COMPARED}."
            )
        if len(self.generations) < MIN_COMPARED:
            found = "Only one" if self.generations else "None"
            return (
                f"{found} of the generations you picked can be shown; "
                f"compare needs at least {MIN_COMPARED}."
            )
        return ""


def select(queryset, raw_ids):
    """The generations of queryset (already limited to what the person may see) named by
    raw_ids, with their LoRAs and pictures loaded."""
    asked = parse_ids(raw_ids)
    if len(asked) > MAX_COMPARED:
        return Selection(asked, [], [])
    found = {
        generation.pk: generation
        for generation in queryset.filter(pk__in=asked)
        .select_related("owner", "source_image")
        .prefetch_related("loras")
    }
    return Selection(
        asked,
        [found[pk] for pk in asked if pk in found],
        [pk for pk in asked if pk not in found],
    )
