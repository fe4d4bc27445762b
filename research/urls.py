from __future__ import annotations

from django.urls import path

from research import views

app_name = "research"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("ny/", views.request_view, name="request"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/beslut/", views.decide_view, name="decide"),
    path("<int:pk>/status/", views.status_view, name="status"),
    path("<int:pk>/ladda-ned/", views.download_view, name="download"),
]
