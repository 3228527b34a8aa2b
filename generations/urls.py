from django.urls import path

from . import api, compare_views, library_views, media_access, review_views, views
from .health import healthz

app_name = "generations"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", healthz, name="healthz"),
    path("generations/rows/", views.queue, name="queue"),
    path("gallery/", views.gallery_page, name="gallery"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("generations/<int:pk>/", views.generation_detail, name="detail"),
    path("generations/<int:pk>/favourite/", views.toggle_favourite, name="favourite"),
    path("generations/<int:pk>/delete/", views.delete_generation, name="delete"),
    path("generations/<int:pk>/video.mp4", views.generation_video, name="video"),
    path("generations/<int:pk>/cancel/", views.cancel_generation, name="cancel"),
    path("generations/<int:pk>/submit-again/", views.submit_generation_again, name="submit-again"),
    path("generations/<int:pk>/retry/", views.retry_generation, name="retry"),
    path("review/", review_views.review_next, name="review-next"),
    path("review/<int:pk>/", review_views.review, name="review"),
    path("review/<int:pk>/decide/", review_views.decide, name="review-decide"),
    path("ledger/", views.ledger, name="ledger"),
    path("studio/resume/", views.resume, name="resume"),
    path("media/<path:name>", media_access.media_file, name="media"),
    path("public/source/<str:token>/", views.source_link, name="source-link"),
    path("api/generations/", api.generations, name="api-list"),
    path("api/generations/<int:pk>/", api.generation, name="api-detail"),
    # --- libraries (pictures, LoRA presets, prompt presets) and compare ---
    path("library/", library_views.library, name="library"),
    path("library/pictures/", library_views.pictures, name="library-pictures"),
    path("library/pictures/<int:pk>/", library_views.edit_picture, name="library-picture"),
    path(
        "library/pictures/<int:pk>/retire/",
        library_views.retire_picture,
        name="library-picture-retire",
    ),
    path(
        "library/pictures/<int:pk>/restore/",
        library_views.restore_picture,
        name="library-picture-restore",
    ),
    path("library/loras/", library_views.loras, name="library-loras"),
    path("library/loras/new/", library_views.add_lora, name="library-lora-new"),
    path("library/loras/<int:pk>/", library_views.edit_lora, name="library-lora"),
    path("library/loras/<int:pk>/retire/", library_views.retire_lora, name="library-lora-retire"),
    path(
        "library/loras/<int:pk>/restore/", library_views.restore_lora, name="library-lora-restore"
    ),
    path("library/prompts/", library_views.prompts, name="library-prompts"),
    path("library/prompts/new/", library_views.add_prompt, name="library-prompt-new"),
    path("library/prompts/<int:pk>/", library_views.edit_prompt, name="library-prompt"),
    path(
        "library/prompts/<int:pk>/delete/",
        library_views.delete_prompt,
        name="library-prompt-delete",
    ),
    path("compare/", compare_views.compare_page, name="compare"),
]
