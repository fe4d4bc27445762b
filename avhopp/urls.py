from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from avhopp import oidc, passkeys, twofactor, views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("healthz", views.healthz_view, name="healthz"),
    path("logga-in/", views.SignInView.as_view(), name="login"),
    path("logga-in/sso/", oidc.sso_start_view, name="oidc_start"),
    path("logga-in/sso/svar/", oidc.sso_callback_view, name="oidc_callback"),
    path("logga-in/sso/bekrafta/", oidc.sso_reauthenticate_view, name="oidc_reauthenticate"),
    path("logga-in/inbjudan/", views.invitation_view, name="invitation"),
    path("logga-ut/", views.logout_view, name="logout"),
    path("tvafaktor/", twofactor.two_factor_view, name="two_factor"),
    path("tvafaktor/bekrafta/", twofactor.reauthenticate_view, name="reauthenticate"),
    path("tvafaktor/nycklar/", passkeys.passkeys_view, name="passkeys"),
    path("tvafaktor/nyckel/", include(passkeys)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("arenden/", include("cases.urls")),
    path("remisser/", include("referrals.urls")),
    path("omplaceringar/", include("relocations.urls")),
    path("statistik/", include("followup.urls")),
    path("forskning/", include("research.urls")),
    path("metod/", include("method.urls")),
    path("logg/", include("cases.audit_urls")),
    path("anvandare/", include("avhopp.user_urls")),
    path("notiser/", include("avhopp.notification_urls")),
    path("gallring/", include("retention.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "avhopp.views.server_error_view"
