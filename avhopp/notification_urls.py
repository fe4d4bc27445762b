from __future__ import annotations

from django.urls import path

from avhopp import notification_views

app_name = "notifications"

urlpatterns = [
    path("", notification_views.notification_list_view, name="list"),
    path("<int:pk>/", notification_views.notification_open_view, name="open"),
    path("las-alla/", notification_views.notification_read_all_view, name="read_all"),
]
