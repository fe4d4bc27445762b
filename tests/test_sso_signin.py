"""Sign-in through an agency's OpenID Connect provider, against a real provider on loopback
(tests/oidc_support.py): matching, the agency's own provider only, the assurance level, and
every refusal logged with a clear message and no 500."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from avhopp import oidc
from avhopp.models import Agency, AuditAction, AuditEvent, IdentityProvider, Role, User
from avhopp.oidc import AgencyOIDCBackend, encrypt_secret
from tests.oidc_support import (
    STAFF,
    Provider,
    authenticate_at_provider,
    pending_nonce,
    sso_sign_in,
    start_sign_in,
    tokens_from_provider,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(
        municipality, Role.SOCIAL_WORKER, username="anna", email=STAFF["anna"]["email"]
    )


@pytest.fixture
def lars(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(
        municipality, Role.SOCIAL_WORKER, username="lars", email=STAFF["lars"]["email"]
    )


@pytest.fixture
def provider(make_provider: Callable[..., IdentityProvider], municipality: Agency):
    return make_provider(municipality)


def refusals() -> list[str]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.SSO_REFUSED).values_list("reason", flat=True)
    )


def assert_refused(response, message: str) -> None:
    assert response.status_code == 403
    assert message in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_signs_in_the_matching_user_and_needs_no_code(
    client: Client, anna: User, provider: IdentityProvider
) -> None:
    login_page = client.get(reverse("login")).content.decode()
    assert f"{reverse('oidc_start')}?provider={provider.pk}" in login_page
    response = sso_sign_in(client, provider, "anna")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    home = client.get(reverse("home"))
    assert home.status_code == 200  # the provider's sign-in is the second factor
    assert home.wsgi_request.user == anna
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, user_id=anna.pk).exists()


def test_the_request_asks_for_the_accepted_levels_with_nonce_and_pkce(
    client: Client, provider: IdentityProvider
) -> None:
    url = start_sign_in(client, provider)
    assert url.startswith(provider.authorization_endpoint)
    for part in ("acr_values=", "nonce=", "code_challenge=", "code_challenge_method=S256"):
        assert part in url


def test_matches_on_the_hsa_id_when_so_configured(
    client: Client, make_provider, municipality: Agency, make_user
) -> None:
    user = make_user(municipality, username="a.berg", external_id=STAFF["anna"]["hsa_id"])
    provider = make_provider(municipality, user_claim="hsa_id", user_field="external_id")
    assert sso_sign_in(client, provider, "anna").status_code == 302
    assert client.get(reverse("home")).wsgi_request.user == user


def test_secret_from_the_database_is_encrypted(
    client: Client, anna: User, make_provider, municipality: Agency, settings
) -> None:
    settings.AVHOPP_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    stored = encrypt_secret("the-client-secret")
    assert "the-client-secret" not in stored
    provider = make_provider(municipality, client_secret_env="", client_secret_encrypted=stored)
    assert oidc.client_secret(provider) == "the-client-secret"
    assert sso_sign_in(client, provider, "anna").status_code == 302


def test_no_account_is_created(client: Client, provider: IdentityProvider) -> None:
    users = User.objects.count()
    assert_refused(sso_sign_in(client, provider, "anna"), "inget aktivt konto")
    assert User.objects.count() == users
    assert refusals() == ["SITHS-kort: no active account"]


def test_another_agencys_provider_is_refused(
    client: Client, anna: User, make_provider, other_municipality: Agency
) -> None:
    theirs = make_provider(other_municipality, name="Botkyrkas SITHS")
    response = sso_sign_in(client, theirs, "anna")
    assert_refused(response, "inget aktivt konto i Avhopp för dig hos Botkyrka kommun")
    assert refusals() == ["Botkyrkas SITHS: account of another agency"]


def test_a_level_below_the_accepted_is_refused(
    client: Client, lars: User, provider: IdentityProvider
) -> None:
    assert_refused(sso_sign_in(client, provider, "lars"), "för låg tillitsnivå")
    assert refusals() == [f"SITHS-kort: acr {STAFF['lars']['acr']} not accepted"]
    # Counted against the account, like a wrong password.
    failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, username="lars")
    assert failed.exists()


def test_a_deactivated_user_is_refused_and_their_session_ends(
    client: Client, anna: User, provider: IdentityProvider
) -> None:
    assert sso_sign_in(client, provider, "anna").status_code == 302
    User.objects.filter(pk=anna.pk).update(is_active=False)
    assert client.get(reverse("home")).status_code == 302  # to the login page
    assert_refused(sso_sign_in(Client(), provider, "anna"), "inget aktivt konto")


def test_a_disabled_provider_ends_its_sessions(
    client: Client, anna: User, provider: IdentityProvider
) -> None:
    assert sso_sign_in(client, provider, "anna").status_code == 302
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_the_provider_saying_no_is_refused_clearly(
    client: Client, provider: IdentityProvider
) -> None:
    url = start_sign_in(client, provider)
    state, _nonce = pending_nonce(client, url)
    response = client.get(reverse("oidc_callback"), {"state": state, "error": "access_denied"})
    assert_refused(response, "Inloggningen avbröts")


# --- Bad input: refused, logged, never a 500 ------------------------------------------------


def _callback_with(client: Client, provider: IdentityProvider, tokens: dict, monkeypatch):
    """Our callback, handed `tokens` as if the provider's token endpoint had answered them."""
    url = start_sign_in(client, provider)
    state, _nonce = pending_nonce(client, url)
    monkeypatch.setattr(AgencyOIDCBackend, "get_token", lambda self, payload: tokens)
    return client.get(reverse("oidc_callback"), {"state": state, "code": "any"})


def _real_tokens(client: Client, provider: IdentityProvider, server: Provider, **kwargs) -> dict:
    url = start_sign_in(client, provider)
    _state, nonce = pending_nonce(client, url)
    values = {"client_id": provider.client_id, "sub": "anna", "nonce": nonce} | kwargs
    return tokens_from_provider(server, **values)


def test_a_tampered_id_token_is_refused(
    client: Client, anna: User, lars: User, provider, oidc_server: Provider, monkeypatch
) -> None:
    # Lars, at level 2, turns his own token into Anna's at level 3.
    tokens = _real_tokens(client, provider, oidc_server, sub="lars")
    header, payload, signature = tokens["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims |= {"email": STAFF["anna"]["email"], "acr": STAFF["anna"]["acr"]}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tokens["id_token"] = f"{header}.{forged}.{signature}"
    # The nonce of the new sign-in, so only the signature can give it away.
    tokens["id_token"] = tokens["id_token"]
    response = _callback_with(client, provider, tokens, monkeypatch)
    assert_refused(response, "Inloggningen via din organisation misslyckades")
    assert "Signature verification failed" in refusals()[0]


def test_a_token_for_another_client_is_refused(
    client: Client, anna: User, provider, oidc_server: Provider, monkeypatch
) -> None:
    tokens = _real_tokens(client, provider, oidc_server, client_id="some-other-service")
    response = _callback_with(client, provider, tokens, monkeypatch)
    assert_refused(response, "Inloggningen via din organisation misslyckades")
    assert refusals() == ["SITHS-kort: ID token for another client"]


def test_an_expired_token_is_refused(
    client: Client, anna: User, make_provider, municipality, short_lived_oidc_server, monkeypatch
) -> None:
    provider = make_provider(municipality, server=short_lived_oidc_server)
    monkeypatch.setattr(oidc, "CLOCK_SKEW_SECONDS", 0)
    url = start_sign_in(client, provider)
    callback = authenticate_at_provider(url, "anna")
    real_get_token = AgencyOIDCBackend.get_token

    def late(self, payload):
        tokens = real_get_token(self, payload)
        time.sleep(2.1)  # the token lives one second
        return tokens

    monkeypatch.setattr(AgencyOIDCBackend, "get_token", late)
    assert_refused(client.get(callback), "Inloggningen via din organisation misslyckades")
    assert refusals() == ["SITHS-kort: ID token expired"]


def test_a_replayed_token_with_an_old_nonce_is_refused(
    client: Client, anna: User, provider, oidc_server: Provider, monkeypatch
) -> None:
    earlier = _real_tokens(client, provider, oidc_server, nonce="the-nonce-of-an-earlier-sign-in")
    response = _callback_with(client, provider, earlier, monkeypatch)
    assert_refused(response, "Inloggningen via din organisation misslyckades")
    assert refusals() == ["SITHS-kort: ID token refused: JWT Nonce verification failed."]


def test_a_replayed_callback_is_refused(client: Client, anna: User, provider) -> None:
    callback = authenticate_at_provider(start_sign_in(client, provider), "anna")
    assert client.get(callback).status_code == 302
    other = Client()
    other.cookies = client.cookies
    client.post(reverse("logout"))
    assert_refused(client.get(callback), "redan använts")
    assert refusals() == ["-: unknown or used state"]


def test_garbage_choosing_the_provider_is_not_found(client: Client, provider) -> None:
    for chosen in ("", "x", "²", "1" * 30, "-1", str(provider.pk + 1000)):
        assert client.get(reverse("oidc_start"), {"provider": chosen}).status_code == 404


def test_garbage_in_the_callback_is_refused(client: Client, provider) -> None:
    for query in ({}, {"state": "x" * 5000}, {"state": "\x00", "code": "\x00"}):
        response = client.get(reverse("oidc_callback"), query)
        assert response.status_code == 403
    url = start_sign_in(client, provider)
    state, _nonce = pending_nonce(client, url)
    # A code the provider never issued: its token endpoint says no.
    assert_refused(
        client.get(reverse("oidc_callback"), {"state": state, "code": "made-up"}),
        "svarar inte eller är felaktigt inställd",
    )


def test_an_unreachable_provider_is_refused_clearly(
    client: Client, anna: User, make_provider, municipality: Agency
) -> None:
    provider = make_provider(municipality, token_endpoint="http://127.0.0.1:9/token")
    callback = authenticate_at_provider(start_sign_in(client, provider), "anna")
    assert_refused(client.get(callback), "svarar inte")
