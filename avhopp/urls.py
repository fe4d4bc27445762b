from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from avhopp import twofactor, views
from avhopp.forms import LoginForm

urlpatterns = [
    path("", views.home_view, name="home"),
    path("healthz", views.healthz_view, name="healthz"),
    path("logga-in/", auth_views.LoginView.as_view(form_class=LoginForm), name="login"),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("tvafaktor/", twofactor.two_factor_view, name="two_factor"),
    path("tvafaktor/bekrafta/", twofactor.reauthenticate_view, name="reauthenticate"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("arenden/", include("cases.urls")),
    path("remisser/", include("referrals.urls")),
    path("omplaceringar/", include("relocations.urls")),
    path("metod/", include("method.urls")),
    path("logg/", include("cases.audit_urls")),
    path("anvandare/", include("avhopp.user_urls")),
    path("admin/", admin.site.urls),
]

handler500 = "avhopp.views.server_error_view"
