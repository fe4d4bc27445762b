"""Sign-in through an agency's OpenID Connect provider, and re-authentication with it.

The protocol is mozilla-django-oidc's: the authorization request with state, nonce and PKCE
kept in the session, the code exchange, the ID token's signature checked against the
provider's JWKS, its expiry and its nonce. That library serves one provider from settings, so
the classes below take the provider from the database instead, per sign-in. Two checks it
leaves out are added: the token's audience and issuer (it decodes with `verify_aud` off), and
what OpenID Connect leaves to the client: the assurance level (`acr`) and, when re-
authenticating, that the person signed in again just now (`auth_time`).

A sign-in never creates an account: it is matched by one claim to an existing, active user
of the provider's own agency, whom an agency admin created with a role.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import requests
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from avhopp.audit import audit_record
from avhopp.models import AuditAction, IdentityProvider, User, UserClaimField
from avhopp.redirects import safe_next
from avhopp.twofactor import REAUTH_AT, SSO_SESSION

LOGGER = logging.getLogger(__name__)

BACKEND = "avhopp.oidc.AgencyOIDCBackend"
# mozilla-django-oidc keeps each pending sign-in here, by state: {nonce, code_verifier, ...}.
STATES = "oidc_states"
LOGIN, REAUTH = "login", "reauth"
# Clock difference allowed between us and a provider, in the token's times.
CLOCK_SKEW_SECONDS = 30

MESSAGE_FAILED = _("Inloggningen via din organisation misslyckades. Försök igen.")
MESSAGE_STALE = _("Inloggningen har redan använts eller tagit för lång tid. Försök igen.")
MESSAGE_CANCELLED = _("Inloggningen avbröts hos din organisations inloggningstjänst.")
MESSAGE_NO_ACCOUNT = _(
    "Det finns inget aktivt konto i Avhopp för dig hos %(agency)s. Logga in via din egen "
    "myndighets inloggning, eller be din administratör om ett konto."
)
MESSAGE_ACR = _(
    "Inloggningen gjordes med för låg tillitsnivå. Logga in med SITHS-kort eller "
    "e-legitimation på tillitsnivå 3."
)
MESSAGE_REAUTH = _("Bekräftelsen misslyckades: logga in på nytt hos din organisation.")
MESSAGE_UNAVAILABLE = _(
    "Din organisations inloggningstjänst svarar inte eller är felaktigt inställd. Försök "
    "igen senare, eller kontakta din administratör."
)


class Refused(Exception):
    """A refused sign-in: `message` for the person, `reason` for the log (never a secret)."""

    def __init__(self, message: Any, reason: str, *, user: User | None = None) -> None:
        super().__init__(reason)
        self.message, self.reason, self.user = message, reason, user


@dataclass(frozen=True)
class Attempt:
    provider: IdentityProvider
    purpose: str
    started_at: float


def _fernet() -> MultiFernet:
    if not settings.AVHOPP_ENCRYPTION_KEYS:
        raise Refused(MESSAGE_UNAVAILABLE, "AVHOPP_ENCRYPTION_KEYS is not set")
    return MultiFernet([Fernet(key) for key in settings.AVHOPP_ENCRYPTION_KEYS])


def encrypt_secret(secret: str) -> str:
    """The client secret as stored in the database, under the first encryption key."""
    return _fernet().encrypt(secret.encode()).decode()


def client_secret(provider: IdentityProvider) -> str:
    """From the environment variable the provider names, else decrypted from the database."""
    if provider.client_secret_env:
        secret = os.environ.get(provider.client_secret_env, "")
        if secret:
            return secret
    if not provider.client_secret_encrypted:
        raise Refused(MESSAGE_UNAVAILABLE, "no client secret configured")
    try:
        return _fernet().decrypt(provider.client_secret_encrypted.encode()).decode()
    except InvalidToken:
        raise Refused(MESSAGE_UNAVAILABLE, "client secret not decryptable") from None


class AgencyOIDCBackend(OIDCAuthenticationBackend):
    """The library's code flow against the provider of the sign-in under way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the library's __init__: it reads one provider from settings; see authenticate.
        self.UserModel = User

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        attempt = getattr(request, "avhopp_oidc", None)
        if attempt is None:
            return None  # a password sign-in, or anything but our callback
        provider = self.provider = attempt.provider
        self.attempt = attempt
        self.OIDC_OP_TOKEN_ENDPOINT = provider.token_endpoint
        self.OIDC_OP_JWKS_ENDPOINT = provider.jwks_uri
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.OIDC_RP_CLIENT_SECRET = client_secret(provider)
        self.OIDC_RP_SIGN_ALGO = provider.signing_algorithm
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def retrieve_matching_jwk(self, token: str) -> Any:
        # The library needs the token's header to name its key (`kid`), which RFC 7515 leaves
        # optional: a provider with a single signing key may leave it out.
        if "kid" in jwt.get_unverified_header(token):
            return super().retrieve_matching_jwk(token)
        keys = jwt.PyJWKClient(
            self.OIDC_OP_JWKS_ENDPOINT, cache_keys=False, timeout=settings.OIDC_TIMEOUT
        ).get_signing_keys()
        if len(keys) != 1:
            raise SuspiciousOperation("ID token names no key, and the provider has several.")
        return keys[0]

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        # The library's own decode skips the audience; PyJWT checks it, the issuer, the
        # signature with the provider's key, the algorithm, and that the token has not expired.
        return jwt.decode(
            payload,
            key,
            algorithms=[self.OIDC_RP_SIGN_ALGO],
            audience=self.OIDC_RP_CLIENT_ID,
            issuer=self.provider.issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict) -> User:
        """The one active user of the provider's agency the token names; never a new one."""
        provider = self.provider
        value = payload.get(provider.user_claim)
        if not isinstance(value, str) or not value:
            raise Refused(MESSAGE_FAILED, f"claim {provider.user_claim} missing")
        field = "email__iexact" if provider.user_field == UserClaimField.EMAIL else "external_id"
        lookup = {field: value}
        matches = list(User.objects.filter(agency_id=provider.agency_id, **lookup)[:2])
        if len(matches) != 1 or not self.user_can_authenticate(matches[0]):
            elsewhere = User.objects.filter(**lookup).exclude(agency_id=provider.agency_id)
            reason = "account of another agency" if elsewhere.exists() else "no active account"
            message = MESSAGE_NO_ACCOUNT % {"agency": provider.agency.name}
            raise Refused(message, reason, user=matches[0] if len(matches) == 1 else None)
        user = matches[0]
        if payload.get("acr") not in provider.accepted_acr_values:
            acr = str(payload.get("acr"))[:80]
            raise Refused(MESSAGE_ACR, f"acr {acr} not accepted", user=user)
        if self.attempt.purpose == REAUTH:
            auth_time = payload.get("auth_time")
            if not isinstance(auth_time, int | float) or (
                auth_time < self.attempt.started_at - CLOCK_SKEW_SECONDS
            ):
                raise Refused(
                    MESSAGE_REAUTH, "auth_time missing or older than the request", user=user
                )
        self.id_token = id_token
        return user

    def get_user(self, user_id: int) -> User | None:
        """Each request: only an active user whose agency still signs in through a provider,
        so deactivating either ends the sessions (the library's own skips is_active)."""
        user = ModelBackend.get_user(self, user_id)
        if (
            user is None
            or not IdentityProvider.objects.filter(agency_id=user.agency_id, enabled=True).exists()
        ):
            return None
        return user


class _ProviderRedirect(OIDCAuthenticationRequestView):
    """The library's authorization request, to the given provider with our parameters."""

    def __init__(self, *, provider: IdentityProvider, extra: dict[str, str]) -> None:
        # Not the library's __init__, which reads one provider's endpoint from settings.
        View.__init__(self)
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization_endpoint
        self.OIDC_RP_CLIENT_ID = provider.client_id
        self.extra = {
            "scope": provider.scopes,
            "acr_values": provider.accepted_acr,
            "ui_locales": "sv en",
            **extra,
        }

    def get_extra_params(self, request: HttpRequest) -> dict[str, str]:
        return self.extra


def _redirect_to_provider(
    request: HttpRequest, provider: IdentityProvider, *, purpose: str, extra: dict[str, str]
) -> HttpResponse:
    response = _ProviderRedirect(provider=provider, extra=extra).get(request)
    # The library keeps state, nonce and PKCE verifier; we add whose and what for.
    state = parse_qs(urlparse(response["Location"]).query)["state"][0]
    request.session[STATES][state].update(
        provider=provider.pk,
        purpose=purpose,
        started_at=time.time(),
        next=safe_next(request, reverse("home")),
    )
    request.session.modified = True
    return response


@never_cache
@require_GET
def sso_start_view(request: HttpRequest) -> HttpResponse:
    """The login page's link to an agency's provider: ?provider=<id>."""
    chosen = request.GET.get("provider", "")
    if not re.fullmatch(r"[0-9]{1,9}", chosen):
        raise Http404
    provider = get_object_or_404(IdentityProvider, pk=int(chosen), enabled=True)
    return _redirect_to_provider(request, provider, purpose=LOGIN, extra={})


@never_cache
@login_required
@require_GET
def sso_reauthenticate_view(request: HttpRequest) -> HttpResponse:
    """Ask the provider to authenticate the person again, whatever session it has."""
    signed_in_with = request.session.get(SSO_SESSION, {}).get("provider")
    provider = get_object_or_404(IdentityProvider, pk=signed_in_with or 0, enabled=True)
    return _redirect_to_provider(
        request, provider, purpose=REAUTH, extra={"prompt": "login", "max_age": "0"}
    )


def _attempt(request: HttpRequest) -> tuple[Attempt, dict[str, Any]]:
    """The pending sign-in the callback's state names, taken out of the session so that a
    replayed callback finds nothing."""
    pending = request.session.get(STATES, {}).pop(request.GET.get("state", ""), None)
    request.session.modified = True
    if pending is None:
        raise Refused(MESSAGE_STALE, "unknown or used state")
    provider = IdentityProvider.objects.filter(pk=pending.get("provider"), enabled=True).first()
    if provider is None:
        raise Refused(MESSAGE_STALE, "provider gone or disabled")
    return Attempt(provider, pending["purpose"], pending["started_at"]), pending


@never_cache
@require_GET
def sso_callback_view(request: HttpRequest) -> HttpResponse:
    attempt = None
    try:
        attempt, pending = _attempt(request)
        if request.GET.get("error"):
            raise Refused(MESSAGE_CANCELLED, f"provider error {request.GET['error'][:40]}")
        request.avhopp_oidc = attempt
        backend = AgencyOIDCBackend()
        user = backend.authenticate(
            request, nonce=pending.get("nonce"), code_verifier=pending.get("code_verifier")
        )
        if user is None:  # the library found no code or state
            raise Refused(MESSAGE_FAILED, "no code in the callback")
        return _signed_in(request, attempt, user, backend.id_token, pending["next"])
    except Refused as refused:
        return _refuse(request, attempt, refused)
    except jwt.ExpiredSignatureError:
        return _refuse(request, attempt, Refused(MESSAGE_FAILED, "ID token expired"))
    except jwt.InvalidAudienceError:
        return _refuse(request, attempt, Refused(MESSAGE_FAILED, "ID token for another client"))
    except jwt.InvalidIssuerError:
        return _refuse(request, attempt, Refused(MESSAGE_FAILED, "ID token of another issuer"))
    except (jwt.PyJWTError, SuspiciousOperation) as error:
        # Signature, algorithm, missing claims, unknown key, nonce (a replayed token).
        return _refuse(request, attempt, Refused(MESSAGE_FAILED, f"ID token refused: {error}"))
    except (requests.RequestException, ValueError, KeyError) as error:
        reason = f"provider unreachable or malformed answer: {type(error).__name__}"
        return _refuse(request, attempt, Refused(MESSAGE_UNAVAILABLE, reason))


def _signed_in(
    request: HttpRequest, attempt: Attempt, user: User, id_token: str, next_url: str
) -> HttpResponse:
    from axes.handlers.proxy import AxesProxyHandler

    if attempt.purpose == REAUTH:
        if user.pk != request.user.pk:
            raise Refused(MESSAGE_REAUTH, "another person re-authenticated", user=user)
        request.session[REAUTH_AT] = time.time()
        audit_record(actor=user, action=AuditAction.REAUTHENTICATED)
        return redirect(next_url)
    # Failed sign-ins of the account, through either door, lock both.
    if not AxesProxyHandler.is_allowed(request, {"username": user.username}):
        audit_record(actor=user, action=AuditAction.SSO_REFUSED, reason="locked out")
        return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
    login(request, user, backend=BACKEND)
    # The provider's authentication is the second factor (SITHS, Freja eID+ at level 3).
    request.session[SSO_SESSION] = {"provider": attempt.provider.pk, "id_token": id_token}
    request.session[REAUTH_AT] = time.time()
    return redirect(next_url)


def _refuse(request: HttpRequest, attempt: Attempt | None, refused: Refused) -> HttpResponse:
    provider = attempt.provider.name if attempt else "-"
    LOGGER.warning("OpenID Connect sign-in refused (%s): %s", provider, refused.reason)
    audit_record(
        actor=refused.user,
        action=AuditAction.SSO_REFUSED,
        reason=f"{provider}: {refused.reason}",
    )
    if refused.user is not None:
        # Counted against the account like a wrong password (django-axes); tokens that name
        # no account are not, so nobody can lock an agency's door by sending bad ones.
        user_login_failed.send(
            sender=__name__, credentials={"username": refused.user.username}, request=request
        )
    return render(
        request,
        "registration/sso_refused.html",
        {"message": refused.message, "retry": attempt.purpose == LOGIN if attempt else True},
        status=403,
    )


def provider_sign_out_url(request: HttpRequest, sso: dict[str, Any]) -> str:
    """Where to end the session at the provider too (RP-initiated logout), or ''."""
    provider = IdentityProvider.objects.filter(pk=sso.get("provider")).first()
    if provider is None or not provider.end_session_endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": sso.get("id_token", ""),
            "client_id": provider.client_id,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{provider.end_session_endpoint}?{query}"
