from __future__ import annotations

from django.urls import path

from followup import views

app_name = "followup"

urlpatterns = [
    path("", views.statistics_view, name="statistics"),
    path("rapport/", views.report_order_view, name="report_order"),
    path("rapport/<int:pk>/", views.report_view, name="report"),
    path("rapport/<int:pk>/status/", views.report_status_view, name="report_status"),
    path("rapport/<int:pk>/ladda-ned/", views.report_download_view, name="report_download"),
    path("register/", views.register_view, name="register"),
    path("register/bygg/", views.register_build_view, name="register_build"),
]
