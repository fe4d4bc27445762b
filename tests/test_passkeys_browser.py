"""A passkey registered and used in Chromium, with its virtual authenticator (WebAuthn over
the DevTools protocol) standing in for a security key or the computer's own."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from avhopp.models import AuditAction, AuditEvent, User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The WebAuthn ceremony, then its verification on the server: slower than a page on a
# loaded machine.
PASSKEY_CEREMONY_MS = 45_000


@pytest.fixture
def authenticator(page: Any, live_server: Any, settings: Any) -> str:
    # localhost is a valid relying party id and a secure context over plain HTTP.
    assert live_server.url.startswith("http://localhost:")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return added["authenticatorId"]


def _password_step(page: Any, user: User) -> None:
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill(user.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()


def test_a_required_passkey_is_registered_then_signs_in(
    page: Any, authenticator: str, worker: User
) -> None:
    agency = worker.agency
    agency.passkeys_required = True
    agency.save()
    _password_step(page, worker)
    # No second factor yet, and the agency requires a passkey: register one.
    page.get_by_role("button", name="Registrera en nyckel").click()
    page.locator("#passkey-register-status-message").get_by_text("successful").wait_for()
    assert WebAuthnCredential.objects.filter(user=worker, confirmed=True).count() == 1
    assert AuditEvent.objects.filter(
        action=AuditAction.PASSKEY_REGISTERED, user_id=worker.pk
    ).exists()
    page.get_by_test_id("passkey-continue").click()
    page.wait_for_url("**/", timeout=PASSKEY_CEREMONY_MS)
    assert worker.get_full_name() in page.get_by_role("heading", level=1).inner_text()

    page.get_by_role("button", name="Logga ut").click()
    _password_step(page, worker)
    # Only the passkey is offered: no code field for an agency that requires passkeys.
    assert page.get_by_label("Engångskod").count() == 0
    page.get_by_role("button", name="Använd nyckel").click()
    page.wait_for_url("**/", timeout=PASSKEY_CEREMONY_MS)
    assert worker.get_full_name() in page.get_by_role("heading", level=1).inner_text()
