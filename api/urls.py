from django.urls import path

from api import health, views, webhooks
from api import notes as note_views
from api import sequences as sequence_views
from api import shares as share_views
from api.docs import docs, schema

app_name = "api"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/generations/", views.generations, name="generations"),
    path("api/generations/<int:pk>/", views.generation, name="generation"),
    path("api/generations/<int:pk>/extend/", sequence_views.extend, name="extend"),
    path("api/generations/<int:pk>/notes/", note_views.generation_notes, name="notes"),
    path("api/sequences/", sequence_views.sequences, name="sequences"),
    path("api/sequences/<int:pk>/", sequence_views.sequence, name="sequence"),
    path("api/sequences/<int:pk>/export/", sequence_views.export, name="sequence-export"),
    path("api/shares/", share_views.share_list, name="shares"),
    path("api/shares/<int:pk>/", share_views.share, name="share"),
    path("api/webhooks/wan/<str:token>/", webhooks.wan_task_result, name="wan-webhook"),
    path("api/schema/", schema, name="schema"),
    path("api/docs/", docs, name="docs"),
]
