from django.urls import path

from . import api, review_views, views
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
    path("media/<path:name>", views.media_file, name="media"),
    path("public/source/<str:token>/", views.source_link, name="source-link"),
    path("api/generations/", api.generations, name="api-list"),
    path("api/generations/<int:pk>/", api.generation, name="api-detail"),
]
