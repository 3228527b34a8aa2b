from django.urls import path

from api import health, views

app_name = "api"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/generations/", views.generations, name="generations"),
    path("api/generations/<int:pk>/", views.generation, name="generation"),
]
