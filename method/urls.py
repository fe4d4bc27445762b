from __future__ import annotations

from django.urls import path

from method import views

app_name = "method"

urlpatterns = [
    path("arende/<int:case_pk>/steg/<int:pk>/", views.step_view, name="step"),
    path(
        "arende/<int:case_pk>/overenskommelse/ny/",
        views.agreement_create_view,
        name="agreement_create",
    ),
    path("arende/<int:case_pk>/overenskommelse/<int:pk>/", views.agreement_view, name="agreement"),
    path(
        "arende/<int:case_pk>/overenskommelse/<int:pk>/undertecknad/",
        views.agreement_sign_view,
        name="agreement_sign",
    ),
    path(
        "arende/<int:case_pk>/overenskommelse/<int:pk>/anteckning/",
        views.agreement_entry_view,
        name="agreement_entry",
    ),
    path(
        "arende/<int:case_pk>/overenskommelse/<int:pk>/pdf/",
        views.agreement_pdf_view,
        name="agreement_pdf",
    ),
    path(
        "arende/<int:case_pk>/overenskommelse/<int:pk>/status/",
        views.agreement_status_view,
        name="agreement_status",
    ),
    path("arende/<int:case_pk>/resultat/", views.outcome_view, name="outcome"),
    path("kalender.ics", views.calendar_view, name="calendar"),
    path("mallar/", views.templates_view, name="templates"),
    path("mallar/kopiera/", views.template_copy_view, name="template_copy"),
    path("mallar/steg/ny/", views.template_step_view, name="template_step_create"),
    path("mallar/steg/<int:pk>/", views.template_step_view, name="template_step"),
    path(
        "mallar/steg/<int:pk>/ta-bort/",
        views.template_step_remove_view,
        name="template_step_remove",
    ),
    path("mallar/publicera/", views.template_publish_view, name="template_publish"),
    path("delegeringar/", views.delegations_view, name="delegations"),
    path("delegeringar/<int:pk>/avsluta/", views.delegation_end_view, name="delegation_end"),
]
