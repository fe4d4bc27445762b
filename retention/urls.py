from __future__ import annotations

from django.urls import path

from retention import views

app_name = "retention"

urlpatterns = [
    path("", views.gallring_list_view, name="list"),
    path("forslag/<int:pk>/", views.proposal_view, name="proposal"),
    path("forslag/<int:pk>/besluta/", views.proposal_approve_view, name="approve"),
    path("gallringsstopp/", views.holds_view, name="holds"),
    path("gallringsstopp/<int:pk>/hav/", views.hold_lift_view, name="hold_lift"),
    path("arenden/<int:case_pk>/utdrag/", views.extract_create_view, name="extract_create"),
    path("utdrag/<int:pk>/", views.extract_download_view, name="extract_download"),
]
