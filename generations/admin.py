from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.utils.html import format_html

from . import jobs
from .models import (
    IN_FLIGHT_REFUSAL,
    ApiToken,
    Budget,
    Generation,
    GenerationEvent,
    GenerationLora,
    LedgerEntry,
    LoraPreset,
    PromptPreset,
    ReviewEvent,
    ReviewState,
    SourceImage,
    Status,
    StudioState,
)
from .search import SEARCH_MAX_CHARACTERS, SEARCH_MAX_WORDS


class DateHierarchyChangeList(ChangeList):
    """A date_hierarchy year past what a date holds (?created_at__year=9999, or 30 digits)
    is refused like any other bad filter (Django ticket #37357, fixed after 5.2)."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error


class BoundedChangelist:
    """A changelist no query parameter can make answer 500. Each search word is a LIKE per
    field: past the gallery's bounds SQLite refuses the query ("LIKE pattern too complex",
    "Expression tree is too large"), so such a search finds nothing and says why."""

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_search_results(self, request, queryset, search_term):
        if len(search_term) > SEARCH_MAX_CHARACTERS or len(search_term.split()) > SEARCH_MAX_WORDS:
            self.message_user(
                request,
                f"Search with at most {SEARCH_MAX_CHARACTERS} characters and "
                f"{SEARCH_MAX_WORDS} words.",
                messages.ERROR,
            )
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GenerationLoraInline(ReadOnlyInline):
    model = GenerationLora
    fields = ["position", "path", "scale", "preset"]


class GenerationEventInline(ReadOnlyInline):
    model = GenerationEvent
    fields = ["status", "note", "at"]
    verbose_name_plural = "Timeline"


class ReviewEventInline(ReadOnlyInline):
    model = ReviewEvent
    fields = ["at", "actor", "from_state", "to_state", "note"]
    verbose_name_plural = "Review audit trail"


class LoraFilter(admin.SimpleListFilter):
    title = "LoRA"
    parameter_name = "lora"

    def lookups(self, request, model_admin):
        paths = GenerationLora.objects.values_list("path", flat=True).distinct().order_by("path")
        return [(path, path) for path in paths[:50]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(loras__path=self.value()).distinct()
        return queryset


# Everything the API decided is shown, never edited by hand.
API_FIELDS = [
    "status",
    "api_task_id",
    "reported_seed",
    "progress_percent",
    "eta_seconds",
    "failure_reason",
    "submit_attempts",
    "poll_attempts",
    "poll_failures",
    "status_changed_at",
    "due_at",
    "video",
    "poster",
    "video_duration",
    "video_bytes",
    "video_sha256",
    "estimated_cost",
    "finished_at",
    "created_at",
]


@admin.register(Generation)
class GenerationAdmin(BoundedChangelist, admin.ModelAdmin):
    list_display = [
        "id",
        "thumbnail",
        "short_prompt",
        "owner",
        "status",
        "review_state",
        "clarity",
        "estimated_cost",
        "created_at",
    ]
    list_filter = ["status", "review_state", "owner", "created_at", LoraFilter]
    search_fields = ["prompt", "api_task_id"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    inlines = [GenerationLoraInline, GenerationEventInline, ReviewEventInline]
    readonly_fields = ["preview", *API_FIELDS, "review_state", "reviewed_by", "reviewed_at"]
    fields = [
        "preview",
        "owner",
        "source_image",
        "prompt",
        "negative_prompt",
        ("width", "height"),
        ("seed", "steps"),
        ("guidance_scale", "flow_shift"),
        ("enable_safety_checker", "fast_mode"),
        *API_FIELDS,
        ("review_state", "reviewed_by", "reviewed_at"),
        "review_note",
    ]
    actions = ["approve", "reject", "flag", "retry_failed", "resolve_needs_attention"]

    @admin.display(description="Prompt")
    def short_prompt(self, generation):
        return generation.prompt[:60]

    @admin.display(description="")
    def thumbnail(self, generation):
        if not generation.poster:
            return ""
        return format_html('<img src="{}" alt="" height="40">', generation.poster.url)

    @admin.display(description="Preview")
    def preview(self, generation):
        if generation.video:
            return format_html(
                '<video src="{}" poster="{}" controls muted width="{}"></video>',
                generation.video.url,
                generation.poster.url if generation.poster else "",
                480,
            )
        return format_html('<img src="{}" alt="" width="320">', generation.source_image.image.url)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source_image")

    def get_deleted_objects(self, objs, request):
        """The delete page and the bulk action list a paid task in flight as protected,
        which offers no confirm button; the model refuses such a delete in any case."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        in_flight = [
            f"{generation}: {generation.get_status_display().lower()}. {IN_FLIGHT_REFUSAL}"
            for generation in objs
            if generation.is_in_flight
        ]
        return deleted, counts, perms_needed, [*in_flight, *protected]

    def delete_model(self, request, generation):
        generation.delete_with_files()

    def delete_queryset(self, request, queryset):
        for generation in queryset:
            generation.delete_with_files()

    def review_selected(self, request, queryset, state):
        reviewed = sum(generation.review(request.user, state) for generation in queryset)
        self.message_user(
            request, f"{reviewed} generation(s) marked {ReviewState(state).label.lower()}."
        )

    @admin.action(description="Approve selected", permissions=["review"])
    def approve(self, request, queryset):
        self.review_selected(request, queryset, ReviewState.APPROVED)

    @admin.action(description="Reject selected", permissions=["review"])
    def reject(self, request, queryset):
        self.review_selected(request, queryset, ReviewState.REJECTED)

    @admin.action(description="Flag selected", permissions=["review"])
    def flag(self, request, queryset):
        self.review_selected(request, queryset, ReviewState.FLAGGED)

    def has_review_permission(self, request):
        return request.user.has_perm("generations.review_generation")

    @admin.action(description="Retry failed generations")
    def retry_failed(self, request, queryset):
        retried = 0
        for generation in queryset.filter(status=Status.FAILED):
            if generation.retry():
                jobs.enqueue_submit(generation.pk)
                retried += 1
        self.message_user(request, f"{retried} failed generation(s) queued again.")

    @admin.action(description="Mark needs-attention resolved (do not submit again)")
    def resolve_needs_attention(self, request, queryset):
        resolved = sum(
            generation.resolve_needs_attention(f"resolved by {request.user.get_username()}")
            for generation in queryset.filter(status=Status.NEEDS_ATTENTION)
        )
        self.message_user(request, f"{resolved} generation(s) resolved.")


@admin.register(ReviewEvent)
class ReviewEventAdmin(admin.ModelAdmin):
    list_display = ["generation", "actor", "from_state", "to_state", "at"]
    list_filter = ["to_state", "actor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SourceImage)
class SourceImageAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "original_name",
        "width",
        "height",
        "uploaded_by",
        "is_retired",
        "created_at",
    ]
    list_filter = ["is_retired"]
    readonly_fields = ["sha256", "width", "height", "image"]


@admin.register(LoraPreset)
class LoraPresetAdmin(BoundedChangelist, admin.ModelAdmin):
    list_display = ["name", "path", "default_scale", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "path"]


@admin.register(PromptPreset)
class PromptPresetAdmin(BoundedChangelist, admin.ModelAdmin):
    list_display = ["name", "prompt"]
    search_fields = ["name", "prompt"]


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin):
    list_display = ["user", "monthly_limit"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin):
    """Append-only: what the API billed is read here, never changed."""

    list_display = ["charged_at", "person_name", "generation_id", "amount", "currency", "clarity"]
    list_filter = ["month", "clarity", "fast_mode"]
    search_fields = ["person_name", "api_task_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StudioState)
class StudioStateAdmin(admin.ModelAdmin):
    list_display = ["__str__", "paused_reason", "paused_at"]
    readonly_fields = ["submissions_paused", "paused_reason", "paused_at"]
    actions = ["resume"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Resume submissions")
    def resume(self, request, queryset):
        StudioState.resume()
        self.message_user(request, "Submissions resumed.", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    exclude = ["key"]
