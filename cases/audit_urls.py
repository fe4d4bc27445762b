from __future__ import annotations

from django.urls import path

from cases import audit_views

app_name = "audit"

urlpatterns = [
    path("", audit_views.audit_search_view, name="search"),
    path("export.csv", audit_views.audit_export_view, name="export"),
    path("arenden/<int:case_pk>/", audit_views.case_readers_view, name="case_readers"),
    path("anvandare/", audit_views.audit_summary_view, name="summary"),
    path("stickprov/", audit_views.audit_sample_view, name="sample"),
    path(
        "stickprov/<int:pk>/granskad/", audit_views.audit_sample_review_view, name="sample_review"
    ),
]
