from django.contrib import admin

from .models import (
    ApiToken,
    Generation,
    GenerationEvent,
    GenerationLora,
    LoraPreset,
    PromptPreset,
    SourceImage,
)


class GenerationLoraInline(admin.TabularInline):
    model = GenerationLora
    extra = 0


class GenerationEventInline(admin.TabularInline):
    model = GenerationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "note", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "prompt", "owner", "status", "progress_percent", "created_at"]
    list_filter = ["status", "owner", "created_at"]
    search_fields = ["prompt", "api_task_id"]
    inlines = [GenerationLoraInline, GenerationEventInline]
    readonly_fields = [
        "api_task_id",
        "reported_seed",
        "progress_percent",
        "eta_seconds",
        "submit_attempts",
        "poll_attempts",
        "poll_failures",
        "video_duration",
        "video_bytes",
        "video_sha256",
        "status_changed_at",
        "finished_at",
    ]


@admin.register(SourceImage)
class SourceImageAdmin(admin.ModelAdmin):
    list_display = ["id", "original_name", "width", "height", "uploaded_by", "created_at"]
    readonly_fields = ["sha256", "width", "height"]


@admin.register(LoraPreset)
class LoraPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "path", "default_scale", "is_active"]
    list_filter = ["is_active"]


@admin.register(PromptPreset)
class PromptPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "prompt"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    exclude = ["key"]
