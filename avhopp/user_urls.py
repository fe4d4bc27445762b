from __future__ import annotations

from django.urls import path

from avhopp import user_views

app_name = "users"

urlpatterns = [
    path("", user_views.user_list_view, name="list"),
    path("<int:pk>/", user_views.user_edit_view, name="edit"),
    path("<int:pk>/inbjudan/", user_views.user_invite_view, name="invite"),
    path(
        "<int:pk>/avsluta-sessioner/",
        user_views.user_end_sessions_view,
        name="end_sessions",
    ),
]
