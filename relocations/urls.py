from __future__ import annotations

from django.urls import path

from relocations import views

app_name = "relocations"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("arende/<int:case_pk>/ny/", views.request_view, name="request"),
    path("<int:pk>/", views.detail_view, name="detail"),
    path("<int:pk>/undvik/", views.avoid_view, name="avoid"),
    path("<int:pk>/forslag/", views.propose_view, name="propose"),
    path("<int:pk>/klarering/", views.clearance_view, name="clearance"),
    path("<int:pk>/erbjudande/", views.offer_view, name="offer"),
    path("<int:pk>/erbjudande/svar/", views.offer_answer_view, name="offer_answer"),
    path("<int:pk>/placering/", views.placement_view, name="placement"),
    path("<int:pk>/flyttad/", views.moved_view, name="moved"),
    path("<int:pk>/overlamning/", views.handover_view, name="handover"),
    path("<int:pk>/overlamning/svar/", views.handover_answer_view, name="handover_answer"),
    path("<int:pk>/ivo/", views.ivo_view, name="ivo"),
    path("<int:pk>/avbryt/", views.abort_view, name="abort"),
    path("<int:pk>/avtal/", views.agreement_view, name="agreement"),
]
