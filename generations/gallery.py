"""The gallery's filters and keyset pages: the same few queries per page at any size."""

from datetime import datetime, time

from django import forms
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, FilteredRelation, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import Generation, GenerationLora, LoraPreset, ReviewState, Status

PAGE_SIZE = 24


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
    since = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    favourites = forms.BooleanField(required=False, label="Favourites only")
    sort = forms.ChoiceField(
        required=False, choices=[("newest", "Newest first"), ("oldest", "Oldest first")]
    )

    def filtered(self, user):
        """The visible generations these filters select, in gallery order."""
        data = self.cleaned_data if self.is_valid() else {}
        # The viewer's own favourite of each row, if any (one per person and generation): a
        # join, which costs less to build than a subquery per page.
        rows = Generation.objects.visible_to(user).annotate(
            viewer_favourite=FilteredRelation("favourites", condition=Q(favourites__user=user))
        )
        status = data.get("status")
        if not status:
            rows = rows.filter(status=Status.SUCCEEDED)
        elif status != "all":
            rows = rows.filter(status=status)
        who = data.get("who")
        if who == "mine":
            rows = rows.filter(owner=user)
        elif who:
            # The person's id as a value, not a join on names: the planner then estimates
            # their share of the rows instead of guessing.
            person = get_user_model().objects.filter(username=who).values("pk")[:1]
            rows = rows.filter(owner=Subquery(person))
        for word in (data.get("q") or "").split():
            rows = rows.filter(prompt__icontains=word)
        if data.get("review"):
            rows = rows.filter(review_state=data["review"])
        if data.get("lora"):
            rows = rows.filter(
                Exists(GenerationLora.objects.filter(generation=OuterRef("pk"), path=data["lora"]))
            )
        if data.get("since"):
            rows = rows.filter(created_at__gte=day_start(data["since"]))
        if data.get("until"):
            rows = rows.filter(created_at__lt=day_start(data["until"]) + timezone.timedelta(days=1))
        if data.get("favourites"):
            rows = rows.filter(viewer_favourite__isnull=False)
        return rows

    @property
    def oldest_first(self):
        return self.is_valid() and self.cleaned_data.get("sort") == "oldest"


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


def page_of(rows, cursor, oldest_first, size=PAGE_SIZE):
    """One page after the cursor, by (created_at, id); returns (rows, next cursor or None)."""
    position = parse_cursor(cursor)
    if oldest_first:
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
    found = list(rows[: size + 1])
    if len(found) <= size:
        return found, None
    last = found[size - 1]
    return found[:size], f"{last.created_at.isoformat()}_{last.pk}"


def page_url(query, cursor):
    """The gallery URL of the page after `cursor`, keeping the filters; None on the last page."""
    if not cursor:
        return None
    query = query.copy()
    query["after"] = cursor
    return f"{reverse('generations:gallery')}?{query.urlencode()}"


def parse_cursor(cursor):
    if not cursor or "_" not in cursor:
        return None
    moment, _, pk = cursor.rpartition("_")
    when = parse_datetime(moment)
    return (when, int(pk)) if when and pk.isdigit() else None
