"""Second factor: TOTP enrolment with a QR code, recovery codes, verification, re-authentication.

No SMS. A user without a confirmed authenticator is sent to enrolment right after the password;
a user with one is asked for a code (or a one-time recovery code).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from avhopp.audit import audit_record
from avhopp.forms import Form
from avhopp.models import AuditAction, User
from avhopp.redirects import safe_next

RECOVERY_CODES = 10
REAUTH_AT = "avhopp_reauth_at"
# Set on a session signed in through the agency's identity provider (avhopp.oidc): which one,
# and its ID token for signing out there. That sign-in is itself multi-factor (SITHS, Freja
# eID+ at assurance level 3, checked by its acr), so it stands in for the second factor.
SSO_SESSION = "avhopp_sso"


def passkeys_required(user: User) -> bool:
    return user.agency_id is not None and user.agency.passkeys_required


def second_factor_passed(request: HttpRequest) -> bool:
    """After the provider's sign-in; or after a passkey, or where the agency allows it, a
    one-time code."""
    user = request.user
    if SSO_SESSION in request.session:
        return True
    if not user.is_verified():
        return False
    return not passkeys_required(user) or isinstance(user.otp_device, WebAuthnCredential)


def signed_in(request: HttpRequest) -> bool:
    """Past every step of the sign-in: only then are the menu and the pages shown."""
    if not request.user.is_authenticated:
        return False
    return not settings.REQUIRE_TWO_FACTOR or second_factor_passed(request)


class PasswordForm(Form):
    password = forms.CharField(
        label=_("Lösenord"),
        widget=forms.PasswordInput(attrs={"autofocus": True}),
        max_length=128,
    )


class CodeForm(Form):
    # Focused when the page opens: it is the one thing the page asks for (an error summary
    # above it, also autofocused, comes first and wins).
    code = forms.CharField(
        label=_("Engångskod"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("Sex siffror från din autentiseringsapp, eller en av dina reservkoder."),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())


def _confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _pending_totp(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=False)


def _qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


@transaction.atomic
def enrol(*, user: User, device: TOTPDevice) -> list[str]:
    """Confirm the authenticator and issue fresh recovery codes, shown once."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    static, _created = StaticDevice.objects.get_or_create(user=user, name="Reservkoder")
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    audit_record(actor=user, action=AuditAction.SECOND_FACTOR_ENROLLED)
    return codes


def _verified(request: HttpRequest, device: Any) -> None:
    otp_login(request, device)
    request.session[REAUTH_AT] = time.time()


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """A passkey, offered first; a one-time code unless the agency requires passkeys. Whoever
    has neither enrols one: a passkey where required, else the authenticator app."""
    user = request.user
    if second_factor_passed(request):
        return redirect(safe_next(request, reverse("home")))
    form = CodeForm(request.POST or None)
    passkey, required = _has_passkey(user), passkeys_required(user)
    if required and not passkey and (user.is_verified() or _confirmed_totp(user) is None):
        return render(request, "registration/passkey_setup.html", {"next": _next(request)})
    if not passkey and _confirmed_totp(user) is None:
        return _enrolment(request, form)
    codes_accepted = not (required and passkey)
    if request.method == "POST" and codes_accepted and form.is_valid():
        device = match_token(user, form.cleaned_data["code"])
        if device is not None:
            _verified(request, device)
            return redirect(safe_next(request, reverse("home")))
        audit_record(actor=user, action=AuditAction.SECOND_FACTOR_FAILED)
        form.add_error("code", _refusal(user, form.cleaned_data["code"]))
    return render(
        request,
        "registration/two_factor.html",
        {"form": form if codes_accepted else None, "passkey": passkey, "next": _next(request)},
        status=400 if form.errors else 200,
    )


REPLAYED = _("Koden har redan använts. Vänta på nästa kod.")
WRONG_CODE = _("Koden stämmer inte. Försök igen med en ny kod.")


def _refusal(user: User, code: str) -> str:
    """Why a code was refused: a code of the app that was already used (each is good once, and
    a new one comes every 30 seconds) has a message of its own."""
    return REPLAYED if _replayed(user, code) else WRONG_CODE


def _replayed(user: User, code: str) -> bool:
    """The app's code for a time step at or before the last one accepted: right, but used.
    Computed without the device's verify_token, which would count one more failure."""
    device = _confirmed_totp(user)
    if device is None or not code.isdigit():
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return totp.verify(int(code), device.tolerance) and totp.t() <= device.last_t


def _has_passkey(user: User) -> bool:
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def _next(request: HttpRequest) -> str:
    return request.GET.get("next", "")


def _enrolment(request: HttpRequest, form: CodeForm) -> HttpResponse:
    device = _pending_totp(request.user)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            codes = enrol(user=request.user, device=device)
            _verified(request, device)
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": codes, "next": safe_next(request, reverse("home"))},
            )
        form.add_error(
            "code", _("Koden stämmer inte. Kontrollera att klockan i telefonen går rätt.")
        )
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            # Generated by us from the device key: no user input reaches this markup.
            "qr_svg": mark_safe(_qr_svg(device)),  # noqa: S308
            "secret": base64.b32encode(device.bin_key).decode(),
            "next": request.GET.get("next", ""),
        },
        status=400 if form.errors else 200,
    )


def recently_authenticated(request: HttpRequest) -> bool:
    given = request.session.get(REAUTH_AT)
    return given is not None and time.time() - given < settings.AVHOPP_REAUTH_SECONDS


def require_recent_authentication(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Highly sensitive operations ask for a fresh code first (ASVS level 3)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not recently_authenticated(request):
            url = reverse("reauthenticate")
            return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reauthenticate_view(request: HttpRequest) -> HttpResponse:
    """A fresh one-time code; the password only for users without an authenticator
    (possible in development, where two-factor login can be switched off). Users signed in
    through their agency's identity provider sign in there again."""
    if SSO_SESSION in request.session:
        url = reverse("oidc_reauthenticate")
        return redirect(f"{url}?{urlencode({'next': safe_next(request, reverse('home'))})}")
    has_device = _confirmed_totp(request.user) is not None
    passkey = _has_passkey(request.user)
    if passkey and (passkeys_required(request.user) or not has_device):
        # The passkey only: a code or the password would be the weaker way round it.
        context = {"form": None, "passkey": True, "next": _next(request)}
        return render(request, "registration/reauthenticate.html", context)
    form = CodeForm(request.POST or None) if has_device else PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if has_device:
            confirmed = match_token(request.user, form.cleaned_data["code"]) is not None
        else:
            confirmed = request.user.check_password(form.cleaned_data["password"])
        if confirmed:
            request.session[REAUTH_AT] = time.time()
            audit_record(actor=request.user, action=AuditAction.REAUTHENTICATED)
            return redirect(safe_next(request, reverse("home")))
        audit_record(actor=request.user, action=AuditAction.SECOND_FACTOR_FAILED)
        replayed = has_device and _replayed(request.user, form.cleaned_data["code"])
        form.add_error(None, REPLAYED if replayed else _("Uppgiften stämmer inte."))
    return render(
        request,
        "registration/reauthenticate.html",
        {"form": form, "passkey": passkey, "next": request.GET.get("next", "")},
        status=400 if form.errors else 200,
    )
