"""The gallery's filters and keyset pages: the same few queries per page at any size, every
one read for the request that asks (visibility and favourites included)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, F, OuterRef, Prefetch, Subquery
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import mark_safe

from generations import boards
from generations.models import (
    TAG_MAX_CHARS,
    Board,
    Favourite,
    Generation,
    GenerationLora,
    GenerationTag,
    LoraPreset,
    ReviewState,
    Status,
    Tag,
)
from generations.search import SEARCH_MAX_CHARACTERS, SEARCH_MAX_WORDS, matching

PAGE_SIZE = 24
# What a tile shows (studio/jinja2/studio/tiles.html) and where the next page starts.
CARD_FIELDS = (
    "prompt",
    "status",
    "review_state",
    "video",
    "poster",
    "width",
    "height",
    "video_width",
    "video_height",
    "video_duration",
    "created_at",
    "owner__username",
    "source_image__image",
    "from_sequence",
)
# A tile's LoRA chips: one query for the whole page, as a list on each row (a related manager
# per row would build a queryset for each tile).
TILE_LORAS = Prefetch(
    "loras",
    queryset=GenerationLora.objects.only("generation_id", "path", "scale").order_by("position"),
    to_attr="lora_list",
)

# The order of a page, (moment, id): the gallery's index. On a board, the same order read from
# the board's items (their board_gallery index), so a board's page walks it instead of sorting.
GALLERY_ORDER = ("created_at", "id")
BOARD_ORDER = ("board_moment", "board_pk")

# Days a filter may name: a day past these, moved to midnight in the studio's time zone and a
# day on, would leave what a date can hold.
DAY_RANGE = [MinValueValidator(date(1970, 1, 1)), MaxValueValidator(date(9998, 12, 31))]


class GalleryFilters(forms.Form):
    """Everything lives in the URL, so a filtered view can be shared and the back button works."""

    q = forms.CharField(
        required=False,
        label="Search prompts",
        max_length=SEARCH_MAX_CHARACTERS,
        error_messages={
            "max_length": "Search with at most %(limit_value)d characters "
            "(this has %(show_value)d)."
        },
    )
    who = forms.CharField(required=False, label="Made by")  # "", "mine" or a username
    status = forms.ChoiceField(
        required=False, choices=[("", "Finished videos"), ("all", "Any state"), *Status.choices]
    )
    review = forms.ChoiceField(
        required=False, choices=[("", "Any review"), *ReviewState.choices], label="Review"
    )
    kind = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "Clips and sequences"), ("clips", "Clips"), ("sequences", "Sequences")],
    )
    lora = forms.CharField(required=False, label="LoRA")
    board = forms.ModelChoiceField(
        queryset=Board.objects.all(),
        required=False,
        label="Board",
        empty_label="Any board",
        error_messages={"invalid_choice": "There is no such board: it may have been deleted."},
    )
    tag = forms.CharField(
        required=False,
        label="Tag",
        max_length=TAG_MAX_CHARS,
        error_messages={
            "max_length": "A tag has at most %(limit_value)d characters (this has %(show_value)d)."
        },
    )
    since = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput({"type": "date"}),
        validators=DAY_RANGE,
    )
    until = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput({"type": "date"}),
        validators=DAY_RANGE,
    )
    favourites = forms.BooleanField(required=False, label="Favourites only")
    sort = forms.ChoiceField(
        required=False, choices=[("newest", "Newest first"), ("oldest", "Oldest first")]
    )

    def clean_q(self):
        words = len(self.cleaned_data["q"].split())
        if words > SEARCH_MAX_WORDS:
            raise forms.ValidationError(
                f"Search with at most {SEARCH_MAX_WORDS} words (this has {words})."
            )
        return self.cleaned_data["q"]

    def clean_tag(self):
        name = " ".join(self.cleaned_data["tag"].split())
        if name and not Tag.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError(f"No tag is called “{name}”.")
        return name


def filter_values(query):
    """A gallery URL's valid filters; none when any is invalid (the filter bar says which)."""
    form = GalleryFilters(query)
    return form, (form.cleaned_data if form.is_valid() else {})


def filtered(rows, values, viewer):
    """rows narrowed by the gallery's filter values, as `viewer` asked for them."""
    status = values.get("status")
    if not status:
        rows = rows.filter(status=Status.SUCCEEDED)
    elif status != "all":
        rows = rows.filter(status=status)
    who = values.get("who")
    if who == "mine":
        rows = rows.filter(owner=viewer)
    elif who:
        # The person's id as a value, not a join on names: the planner then estimates their
        # share of the rows instead of guessing.
        person = get_user_model().objects.filter(username=who).values("pk")[:1]
        rows = rows.filter(owner=Subquery(person))
    if values.get("q"):
        rows = matching(rows, values["q"])
    if values.get("board"):
        rows = on_board(rows, values["board"])
    if values.get("tag"):
        tag = Tag.objects.filter(name__iexact=values["tag"]).values("pk")[:1]
        tagged = GenerationTag.objects.filter(generation=OuterRef("pk"), tag=Subquery(tag))
        rows = rows.filter(Exists(tagged))
    if values.get("review"):
        rows = rows.filter(review_state=values["review"])
    if values.get("kind"):
        rows = rows.filter(from_sequence__isnull=values["kind"] == "clips")
    if values.get("lora"):
        rows = rows.filter(
            Exists(GenerationLora.objects.filter(generation=OuterRef("pk"), path=values["lora"]))
        )
    if values.get("since"):
        rows = rows.filter(created_at__gte=day_start(values["since"]))
    if values.get("until"):
        rows = rows.filter(created_at__lt=day_start(values["until"]) + timezone.timedelta(days=1))
    if values.get("favourites"):
        # Read from the person's favourites (a few in a thousand rows), then sorted: as a
        # condition checked row by row, favourites of one LoRA walked the whole history (1 s
        # at 1,000,000 on SQLite).
        rows = rows.filter(favourites__user=viewer)
    return rows


def on_board(rows, board):
    """rows on board, each with its item's copy of the order (BOARD_ORDER). One join: the
    annotation after the filter reads the same item row the filter chose."""
    return rows.filter(board_items__board=board).annotate(
        board_moment=F("board_items__generation_created_at"),
        board_pk=F("board_items__generation_id"),
    )


def filter_options():
    """Teammates, LoRA preset paths and tags offered by the filter bar."""
    people = get_user_model().objects.filter(is_active=True).order_by("username")
    presets = LoraPreset.objects.filter(is_active=True).order_by("path")
    return {
        "teammates": list(people.values_list("username", flat=True)),
        "lora_paths": list(presets.values_list("path", flat=True)),
        "tag_names": boards.tag_names(),
    }


def day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Page:
    """A gallery page as one viewer sees it."""

    filters: GalleryFilters
    rows: list  # Generations with just CARD_FIELDS, each with is_favourite
    next_cursor: str | None


def page_for(request):
    """The page of rows the URL's filters and `after` cursor select, as request.user sees it."""
    filters, values = filter_values(request.GET)
    rows, next_cursor = rows_page(request.user, values, request.GET.get("after"))
    return Page(filters, rows, next_cursor)


def rows_page(viewer, values, after):
    """(rows, next cursor): the page after the cursor `after` of what the filter values
    select, as viewer sees it. A board's page (studio/views/boards.py) is one too."""
    rows = filtered(Generation.objects.visible_to(viewer), values, viewer)
    order = BOARD_ORDER if values.get("board") else GALLERY_ORDER
    rows = after_position(rows, parse_cursor(after), values.get("sort"), order)
    rows = (
        rows.select_related("owner", "source_image")
        .only(*CARD_FIELDS)
        .prefetch_related(TILE_LORAS)
        .annotate(
            is_favourite=Exists(Favourite.objects.filter(generation=OuterRef("pk"), user=viewer))
        )
    )
    found = list(rows[: PAGE_SIZE + 1])
    next_cursor = cursor_after(found[PAGE_SIZE - 1]) if len(found) > PAGE_SIZE else None
    return found[:PAGE_SIZE], next_cursor


def tiles(rows, more_url):
    """The tiles of a page of rows (from rows_page) and its "load more", as HTML for a gallery
    or board page to hold, or to answer htmx with when a person scrolls on."""
    template = engines["jinja2"].get_template("studio/tiles.html")
    return mark_safe(template.render({"rows": rows, "more_url": more_url}))  # Jinja2 escaped it


def after_position(rows, position, sort, order=GALLERY_ORDER):
    """Keyset order by `order` (moment, id), starting after `position` when there is one."""
    moment, pk = order
    if sort == "oldest":
        rows = rows.order_by(moment, pk)
        if position:
            rows = rows.filter(**{f"{moment}__gte": position[0]}).exclude(
                **{moment: position[0], f"{pk}__lte": position[1]}
            )
    else:
        rows = rows.order_by(f"-{moment}", f"-{pk}")
        if position:
            rows = rows.filter(**{f"{moment}__lte": position[0]}).exclude(
                **{moment: position[0], f"{pk}__gte": position[1]}
            )
    return rows


def cursor_after(row):
    return f"{row.created_at.isoformat()}_{row.pk}"


def page_url(query, cursor, path=None):
    """The gallery URL (or path's) of the page after `cursor`, keeping the filters; None on
    the last page."""
    if not cursor:
        return None
    query = query.copy()
    query["after"] = cursor
    return f"{path or reverse('studio:gallery')}?{query.urlencode()}"


def parse_cursor(cursor):
    """(moment, id) from a cursor made by cursor_after; None for anything else, which then
    shows the first page."""
    if not cursor or "_" not in cursor:
        return None
    moment, _, pk = cursor.rpartition("_")
    if not (pk.isascii() and pk.isdigit()):
        return None
    try:
        when = parse_datetime(moment)
        if when is None:
            return None
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return when.astimezone(UTC), int(pk)
    except (ValueError, OverflowError):  # a month 13, or a moment before year 1 in UTC
        return None


def neighbours(generation, viewer):
    """The finished videos just newer and just older than generation, in the gallery's own
    order: what the detail page's previous / next open."""
    finished = Generation.objects.visible_to(viewer).filter(status=Status.SUCCEEDED).only("pk")
    position = (generation.created_at, generation.pk)
    return (
        after_position(finished, position, "oldest").first(),
        after_position(finished, position, "newest").first(),
    )
