"""Passkeys (WebAuthn) as the second factor, through django-otp-webauthn: the preferred one,
phishing-resistant, with the authenticator app's codes and the recovery codes as fallbacks
unless the user's agency requires passkeys (Agency.passkeys_required).

The library's ceremony views are used as they are, with three additions: every passkey
verification counts as a fresh authentication (as a fresh one-time code does), registrations
and failures are written to the audit log, and a passkey only signs in as a second factor,
never instead of the password (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is off).
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import views as webauthn
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.models import WebAuthnCredential

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.twofactor import REAUTH_AT, signed_in


class _Audited:
    """Refused ceremonies of a signed-in user are logged like a wrong one-time code."""

    def handle_exception(self, exc: Exception) -> JsonResponse:
        user = self.request.user  # type: ignore[attr-defined]
        if isinstance(exc, OTPWebAuthnApiError) and user.is_authenticated:
            audit_record(actor=user, action=AuditAction.SECOND_FACTOR_FAILED, reason=exc.code)
        return super().handle_exception(exc)  # type: ignore[misc]


class CompleteRegistration(_Audited, webauthn.CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> JsonResponse:
        response = super().post(*args, **kwargs)
        audit_record(actor=self.request.user, action=AuditAction.PASSKEY_REGISTERED)
        self.request.session[REAUTH_AT] = time.time()
        return response


class CompleteAuthentication(_Audited, webauthn.CompleteCredentialAuthenticationView):
    def complete_auth(self, device: WebAuthnCredential) -> None:
        already_verified = self.request.user.is_verified()
        super().complete_auth(device)
        self.request.session[REAUTH_AT] = time.time()
        if already_verified:  # the re-authentication page, not the sign-in
            audit_record(actor=self.request.user, action=AuditAction.REAUTHENTICATED)


class BeginRegistration(_Audited, webauthn.BeginCredentialRegistrationView):
    pass


class BeginAuthentication(_Audited, webauthn.BeginCredentialAuthenticationView):
    pass


@never_cache
@login_required
@require_GET
def passkeys_view(request: HttpRequest) -> HttpResponse:
    """The user's passkeys, and a button to add one (a security key, or the computer's own).
    Under the sign-in's open paths, but like the menu that links here, only after it."""
    if not signed_in(request):
        return redirect("two_factor")
    passkeys = WebAuthnCredential.objects.filter(user=request.user, confirmed=True)
    return render(
        request, "registration/passkeys.html", {"passkeys": passkeys.order_by("created_at")}
    )


# The names the library's template tags reverse.
app_name = "otp_webauthn"
urlpatterns = [
    path("registrera/", BeginRegistration.as_view(), name="credential-registration-begin"),
    path(
        "registrera/klar/", CompleteRegistration.as_view(), name="credential-registration-complete"
    ),
    path("verifiera/", BeginAuthentication.as_view(), name="credential-authentication-begin"),
    path(
        "verifiera/klar/",
        CompleteAuthentication.as_view(),
        name="credential-authentication-complete",
    ),
    path(
        "jsi18n/",
        JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
        name="js-i18n-catalog",
    ),
]
