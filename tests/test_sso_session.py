"""After a provider's sign-in: re-authentication at the provider before sensitive operations,
signing out at both ends, and agencies that switch password sign-in off."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, AuditAction, AuditEvent, IdentityProvider, Role, User
from avhopp.twofactor import REAUTH_AT
from tests.conftest import PASSWORD
from tests.oidc_support import STAFF, authenticate_at_provider, sso_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(municipality, Role.LOG_REVIEWER, username="anna", email=STAFF["anna"]["email"])


@pytest.fixture
def provider(make_provider: Callable[..., IdentityProvider], municipality: Agency):
    return make_provider(municipality)


def _signed_in(client: Client, provider: IdentityProvider) -> Client:
    assert sso_sign_in(client, provider, "anna").status_code == 302
    return client


def _reauthentication_due(client: Client) -> None:
    session = client.session
    session[REAUTH_AT] = 0
    session.save()


def test_export_asks_the_provider_again_and_checks_auth_time(
    client: Client, reviewer: User, provider: IdentityProvider
) -> None:
    _signed_in(client, provider)
    export = reverse("audit:export")
    assert client.get(export).status_code == 200  # just signed in: recent enough
    _reauthentication_due(client)
    step = client.get(export)
    assert step["Location"].startswith(reverse("reauthenticate"))
    step = client.get(step["Location"])
    assert step["Location"].startswith(reverse("oidc_reauthenticate"))
    at_provider = client.get(step["Location"])["Location"]
    query = parse_qs(urlparse(at_provider).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]
    back = client.get(authenticate_at_provider(at_provider, "anna"))
    assert back["Location"] == export
    assert client.get(export).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.REAUTHENTICATED).count() == 1


def test_reauthentication_by_another_person_is_refused(
    client: Client, reviewer: User, provider: IdentityProvider, make_user, municipality
) -> None:
    make_user(municipality, username="lars", email=STAFF["lars"]["email"])
    provider.accepted_acr += f" {STAFF['lars']['acr']}"
    provider.save()
    _signed_in(client, provider)
    _reauthentication_due(client)
    at_provider = client.get(reverse("oidc_reauthenticate"))["Location"]
    response = client.get(authenticate_at_provider(at_provider, "lars"))
    assert response.status_code == 403
    assert "Bekräftelsen misslyckades" in response.content.decode()
    assert client.get(reverse("audit:export")).status_code == 302  # still not confirmed


def test_a_token_without_a_fresh_auth_time_does_not_confirm(
    client: Client, reviewer: User, provider: IdentityProvider, monkeypatch
) -> None:
    from avhopp import oidc

    _signed_in(client, provider)
    _reauthentication_due(client)
    at_provider = client.get(reverse("oidc_reauthenticate"))["Location"]
    callback = authenticate_at_provider(at_provider, "anna")
    # As if the provider had answered from its session of an hour ago.
    real = oidc.AgencyOIDCBackend.verify_token

    def old_session(self, token, **kwargs):
        return real(self, token, **kwargs) | {"auth_time": 1}

    monkeypatch.setattr(oidc.AgencyOIDCBackend, "verify_token", old_session)
    response = client.get(callback)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action=AuditAction.SSO_REFUSED, reason__contains="auth_time"
    ).exists()


def test_sign_out_ends_the_session_and_offers_the_providers(
    client: Client, reviewer: User, provider: IdentityProvider
) -> None:
    _signed_in(client, provider)
    page = client.post(reverse("logout"))
    assert page.status_code == 200
    link = page.context["sign_out_url"]
    assert link.startswith(provider.end_session_endpoint)
    query = parse_qs(urlparse(link).query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/logga-in/"]
    assert query["id_token_hint"][0].count(".") == 2
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert requests.get(link, timeout=10).status_code == 200  # the provider's sign-out page
    assert AuditEvent.objects.filter(action=AuditAction.LOGOUT, user_id=reviewer.pk).exists()


def test_password_sign_out_goes_straight_to_the_login_page(client: Client, worker: User) -> None:
    client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    assert client.post(reverse("logout"))["Location"] == reverse("login")


# --- Password sign-in switched off per agency -----------------------------------------------


def test_password_sign_in_can_be_switched_off_per_agency(
    client: Client, worker: User, outsider: User, provider: IdentityProvider
) -> None:
    municipality = worker.agency
    municipality.password_sign_in = False
    municipality.full_clean()
    municipality.save()
    refused = client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    assert refused.status_code == 200  # the login form again, with the usual generic error
    assert refused.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session
    # Other agencies keep theirs.
    other = Client()
    other.post(reverse("login"), {"username": outsider.username, "password": PASSWORD})
    assert "_auth_user_id" in other.session


def test_switching_password_off_ends_password_sessions(client: Client, worker: User, provider):
    client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    assert "_auth_user_id" in client.session
    Agency.objects.filter(pk=worker.agency_id).update(password_sign_in=False)
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


def test_password_sign_in_stays_without_an_active_provider(municipality: Agency) -> None:
    municipality.password_sign_in = False
    with pytest.raises(ValidationError, match="aktiv identitetsleverantör"):
        municipality.full_clean()
