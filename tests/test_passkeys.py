"""Passkeys as the preferred second factor, and agencies that require them: which factor the
pages offer and accept (the ceremony itself runs in Chromium: test_passkeys_browser.py)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp_webauthn.models import WebAuthnCredential

from avhopp.models import User
from tests.conftest import PASSWORD
from tests.support import authenticator_of, current_code

pytestmark = pytest.mark.django_db


def _passkey(user: User) -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user,
        name="Säkerhetsnyckel",
        confirmed=True,
        credential_id=b"credential-" + str(user.pk).encode(),
        public_key=b"not-used-here",
        sign_count=0,
    )


def _after_password(user: User) -> Client:
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    return client


def _require_passkeys(user: User) -> None:
    user.agency.passkeys_required = True
    user.agency.save()


def test_the_passkey_is_offered_first_with_the_code_as_fallback(worker: User) -> None:
    authenticator_of(worker)
    _passkey(worker)
    page = _after_password(worker).get(reverse("two_factor")).content.decode()
    assert page.index("passkey-verification-placeholder") < page.index('name="code"')


def test_a_required_passkey_refuses_codes(worker: User) -> None:
    authenticator_of(worker)
    _passkey(worker)
    _require_passkeys(worker)
    client = _after_password(worker)
    page = client.get(reverse("two_factor")).content.decode()
    assert 'name="code"' not in page and "passkey-verification-placeholder" in page
    client.post(reverse("two_factor"), {"code": current_code(worker)})
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor"))


def test_a_code_does_not_pass_where_passkeys_are_required(worker: User) -> None:
    """A user of the agency with only an authenticator app confirms with it once, and must
    then register a passkey before anything else."""
    authenticator_of(worker)
    _require_passkeys(worker)
    client = _after_password(worker)
    client.post(reverse("two_factor"), {"code": current_code(worker)})
    assert client.get(reverse("home"))["Location"].startswith(reverse("two_factor"))
    setup = client.get(reverse("two_factor"))
    assert "passkey-registration-placeholder" in setup.content.decode()


def test_a_required_passkey_counts_once_verified(worker: User) -> None:
    _require_passkeys(worker)
    client = _after_password(worker)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = _passkey(worker).persistent_id
    session.save()
    assert client.get(reverse("home")).status_code == 200


def test_reauthentication_takes_the_passkey_not_the_password(worker: User) -> None:
    _passkey(worker)
    client = _after_password(worker)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = WebAuthnCredential.objects.get(user=worker).persistent_id
    session.save()
    page = client.get(reverse("reauthenticate"))
    assert page.context["form"] is None and page.context["passkey"]
    client.post(reverse("reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("home")).status_code == 200  # signed in, not re-authenticated


def test_the_passkeys_page_lists_them(login, worker: User) -> None:
    _passkey(worker)
    page = login(worker).get(reverse("passkeys")).content.decode()
    assert "Säkerhetsnyckel" in page and "passkey-registration-placeholder" in page
