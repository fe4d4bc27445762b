from __future__ import annotations

from django.urls import path

from cases import extract_views, views

app_name = "cases"

urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("nytt/", views.case_create_view, name="create"),
    path("export.csv", views.case_export_view, {"kind": "csv"}, name="export_csv"),
    path("export.xlsx", views.case_export_view, {"kind": "xlsx"}, name="export_xlsx"),
    path("<int:case_pk>/", views.case_detail_view, name="detail"),
    path("<int:case_pk>/skal/", views.outside_reason_view, name="outside_reason"),
    path("<int:case_pk>/visa-skyddade-uppgifter/", views.reveal_view, name="reveal"),
    path("<int:case_pk>/team/ny/", views.team_add_view, name="team_add"),
    path("<int:case_pk>/team/<int:pk>/ta-bort/", views.team_remove_view, name="team_remove"),
    path("<int:case_pk>/andra/", views.case_edit_view, name="edit"),
    path("<int:case_pk>/person/", views.individual_edit_view, name="individual_edit"),
    path("<int:case_pk>/status/", views.status_change_view, name="status"),
    path("<int:case_pk>/insatser/ny/", views.intervention_create_view, name="intervention_create"),
    path(
        "<int:case_pk>/insatser/<int:pk>/",
        views.intervention_edit_view,
        name="intervention_edit",
    ),
    path("<int:case_pk>/journal/", views.journal_create_view, name="journal_create"),
    *(
        path(f"<int:case_pk>/{route}/", views.case_part_view, {"part_name": name}, name=name)
        for route, name in (
            ("historik", "status_history"),
            ("insatser", "interventions"),
            ("hotbedomningar", "threat_assessments"),
            ("anteckningar", "journal"),
        )
    ),
    path(
        "<int:case_pk>/journalutdrag/",
        extract_views.journal_extract_create_view,
        name="journal_extract_create",
    ),
    path(
        "<int:case_pk>/journalutdrag/<int:pk>/",
        extract_views.journal_extract_view,
        name="journal_extract",
    ),
    path(
        "<int:case_pk>/journalutdrag/<int:pk>/status/",
        extract_views.journal_extract_status_view,
        name="journal_extract_status",
    ),
    path(
        "<int:case_pk>/journalutdrag/<int:pk>/pdf/",
        extract_views.journal_extract_download_view,
        name="journal_extract_download",
    ),
    path("<int:case_pk>/hotbedomning/ny/", views.threat_create_view, name="threat_create"),
    path("<int:case_pk>/samtycken/nytt/", views.consent_create_view, name="consent_create"),
    path(
        "<int:case_pk>/samtycken/<int:pk>/aterkalla/",
        views.consent_withdraw_view,
        name="consent_withdraw",
    ),
    path("<int:case_pk>/delningar/ny/", views.share_create_view, name="share_create"),
    path(
        "<int:case_pk>/delningar/<int:pk>/ta-bort/",
        views.share_revoke_view,
        name="share_revoke",
    ),
]
