from __future__ import annotations

from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.referral_dashboard_view, name="dashboard"),
    path("arende/<int:case_pk>/ny/", views.referral_create_view, name="create"),
    path("arende/<int:case_pk>/sip/", views.sip_create_view, name="sip_create"),
    path("<int:pk>/", views.referral_detail_view, name="detail"),
    path("<int:pk>/status/", views.referral_status_view, name="status"),
    path("<int:pk>/dokument/", views.referral_download_view, name="download"),
    path("<int:pk>/forhandsvisning/", views.referral_preview_view, name="preview"),
    path("<int:pk>/forsok-igen/", views.referral_retry_view, name="retry"),
    path("<int:pk>/skicka/", views.referral_send_view, name="send"),
    path("<int:pk>/svar/", views.referral_answer_view, name="answer"),
]
