from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio.forms import PasswordForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(form_class=PasswordForm),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("", include("api.urls")),
    path("", include("studio.urls")),
]
