from __future__ import annotations

from django.urls import path

from followup import views

app_name = "followup"

urlpatterns = [
    path("", views.statistics_view, name="statistics"),
]
