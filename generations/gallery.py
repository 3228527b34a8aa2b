"""The gallery's filters and keyset pages: the same few queries per page at any size, and
none while the team's read of a page is fresh."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Exists, OuterRef, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from . import caching, fragments
from .models import (
    Favourite,
    Generation,
    GenerationLora,
    LoraPreset,
    ReviewState,
    Status,
    is_visible,
)

PAGE_SIZE = 24
FILTER_BAR_TEMPLATE = "generations/partials/gallery_filters.html"

# Days a filter may name: a day past these, moved to midnight in the studio's time zone and a
# day on, would leave what a date can hold.
DAY_RANGE = [MinValueValidator(date(1970, 1, 1)), MaxValueValidator(date(9998, 12, 31))]


class GalleryFilters(forms.Form):
    """Everything lives in the URL, so a filtered view can be shared and the back button works."""

    q = forms.CharField(required=False, label="Search prompts")
    who = forms.CharField(required=False, label="Made by")  # "", "mine" or a username
    status = forms.ChoiceField(
        required=False, choices=[("", "Finished videos"), ("all", "Any state"), *Status.choices]
    )
    review = forms.ChoiceField(
        required=False, choices=[("", "Any review"), *ReviewState.choices], label="Review"
    )
    lora = forms.CharField(required=False, label="LoRA")
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


# What a query's filters mean never changes; the lifetime only lets unused entries go.
FILTER_VALUES_LIFETIME = 24 * 3600


def filter_values(query):
    """A gallery URL's valid filters as plain values; none when any is invalid (the filter bar
    then says which). Kept per process: a query always means the same filters."""
    key = f"filter-values:{fragments.digest(filter_inputs(query))}"

    def clean():
        form = GalleryFilters(query)
        return form.cleaned_data if form.is_valid() else {}

    return caches["local"].get_or_set(key, clean, timeout=FILTER_VALUES_LIFETIME)


def filter_inputs(query):
    """A gallery URL's filters, whatever their order, without the page cursor."""
    return sorted((name, values) for name, values in query.lists() if name != "after")


def filter_bar(query):
    """The filter form as the URL's query set it, with the teammates and presets offered;
    the form is built only to render a bar not seen before."""
    options = filter_options()

    def render():
        context = {"filters": GalleryFilters(query), "options": options}
        return render_to_string(FILTER_BAR_TEMPLATE, context)

    key = f"filters:{fragments.digest((filter_inputs(query), options))}"
    return fragments.reused_or_rendered_one(key, render)


def shared_terms(values, viewer):
    """Filter values alike for everyone who asks for the same rows: "mine" becomes the
    viewer's name, and only "favourites only" names the viewer."""
    terms = dict(values)
    if terms.get("who") == "mine":
        terms["who"] = viewer.get_username()
    terms["favourites_of"] = viewer.pk if terms.pop("favourites", False) else None
    return terms


def team_rows(terms):
    """The generations `terms` select, whoever may see them: each viewer's visibility is
    applied to the rows read (see page_for), so everyone can share one read."""
    rows = Generation.objects.all()
    status = terms.get("status")
    if not status:
        rows = rows.filter(status=Status.SUCCEEDED)
    elif status != "all":
        rows = rows.filter(status=status)
    if terms.get("who"):
        # The person's id as a value, not a join on names: the planner then estimates their
        # share of the rows instead of guessing.
        person = get_user_model().objects.filter(username=terms["who"]).values("pk")[:1]
        rows = rows.filter(owner=Subquery(person))
    for word in (terms.get("q") or "").split():
        rows = rows.filter(prompt__icontains=word)
    if terms.get("review"):
        rows = rows.filter(review_state=terms["review"])
    if terms.get("lora"):
        rows = rows.filter(
            Exists(GenerationLora.objects.filter(generation=OuterRef("pk"), path=terms["lora"]))
        )
    if terms.get("since"):
        rows = rows.filter(created_at__gte=day_start(terms["since"]))
    if terms.get("until"):
        rows = rows.filter(created_at__lt=day_start(terms["until"]) + timezone.timedelta(days=1))
    if terms.get("favourites_of"):
        rows = rows.filter(favourites__user=terms["favourites_of"])
    return rows


# The filter bar's choices change rarely; each web process re-reads them at most once a minute
# (a new teammate or preset shows up in the lists within a minute).
FILTER_OPTIONS_LIFETIME = 60


def filter_options():
    """Teammates and LoRA preset paths offered by the filter bar."""

    def read():
        people = get_user_model().objects.filter(is_active=True).order_by("username")
        presets = LoraPreset.objects.filter(is_active=True).order_by("path")
        return {
            "teammates": list(people.values_list("username", flat=True)),
            "lora_paths": list(presets.values_list("path", flat=True)),
        }

    return cache.get_or_set("gallery:filter-options", read, FILTER_OPTIONS_LIFETIME)


def day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min))


# A window holds two pages of rows: rows a viewer may not see (others' flagged work) leave
# room for the rest, as in the live queue.
WINDOW = PAGE_SIZE * 2


@dataclass
class Window:
    """Rows of a gallery page as read for the whole team."""

    rows: list  # named tuples of ROW_FIELDS, in gallery order
    more: bool  # rows follow the window
    favourited_by: dict  # generation id -> ids of the people who favourited it


@dataclass
class Page:
    """A gallery page as one viewer sees it."""

    rows: list
    favourites: set  # ids of the rows the viewer favourited
    next_cursor: str | None


# What a card shows, plus what decides who sees a row and where the next page starts.
ROW_FIELDS = (*fragments.CARD_FIELDS, "owner_id", "created_at")


def page_for(request):
    """The page of rows the URL's filters and `after` cursor select, as request.user sees it.

    The rows are read once per GALLERY_FRESHNESS in each web process for everyone asking for
    the same filters (generations/caching.shared_read); visibility and favourites are the
    viewer's, applied here."""
    viewer = request.user
    terms = shared_terms(filter_values(request.GET), viewer)
    position = parse_cursor(request.GET.get("after"))
    key = f"gallery:{fragments.digest((sorted(terms.items()), position))}"
    window = caching.shared_read(
        request, key, lambda: read_window(terms, position), settings.GALLERY_FRESHNESS
    )
    visible = [row for row in window.rows if is_visible(row.review_state, row.owner_id, viewer)]
    rows = visible[:PAGE_SIZE]
    if len(visible) > PAGE_SIZE:
        next_cursor = cursor_after(rows[-1])
    elif window.more:
        next_cursor = cursor_after(window.rows[-1])  # nothing else here is the viewer's to see
    else:
        next_cursor = None
    favourites = {row.pk for row in rows if viewer.pk in window.favourited_by.get(row.pk, ())}
    return Page(rows, favourites, next_cursor)


def read_window(terms, position):
    """WINDOW rows after `position`, by (created_at, id), and who favourited each."""
    rows = team_rows(terms)
    if terms.get("sort") == "oldest":
        rows = rows.order_by("created_at", "id")
        if position:
            rows = rows.filter(created_at__gte=position[0]).exclude(
                created_at=position[0], id__lte=position[1]
            )
    else:
        rows = rows.order_by("-created_at", "-id")
        if position:
            rows = rows.filter(created_at__lte=position[0]).exclude(
                created_at=position[0], id__gte=position[1]
            )
    found = list(rows.values_list(*ROW_FIELDS, named=True)[: WINDOW + 1])
    favourited_by = defaultdict(set)
    favourites = Favourite.objects.filter(generation__in=[row.pk for row in found[:WINDOW]])
    for generation_id, user_id in favourites.values_list("generation_id", "user_id"):
        favourited_by[generation_id].add(user_id)
    return Window(found[:WINDOW], len(found) > WINDOW, dict(favourited_by))


def cursor_after(row):
    return f"{row.created_at.isoformat()}_{row.pk}"


def page_url(query, cursor):
    """The gallery URL of the page after `cursor`, keeping the filters; None on the last page."""
    if not cursor:
        return None
    query = query.copy()
    query["after"] = cursor
    return f"{reverse('generations:gallery')}?{query.urlencode()}"


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
