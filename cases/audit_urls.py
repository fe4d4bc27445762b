from __future__ import annotations

from django.urls import path

from cases import audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.audit_search_view, name="search"),
    path("export.csv", audit_views.audit_export_view, name="export"),
    path("arenden/<int:case_pk>/", audit_views.case_readers_view, name="case_readers"),
]
