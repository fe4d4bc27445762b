"""The sign-in's second step: the code field has focus, the menu and the user's name wait until
the step is passed, and a code already used is told apart from a wrong one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.models import User
from tests.conftest import PASSWORD
from tests.support import authenticator_of, current_code

pytestmark = pytest.mark.django_db
REPLAYED = "Koden har redan använts. Vänta på nästa kod."
WRONG = "Koden stämmer inte. Försök igen med en ny kod."
MENU = 'aria-label="Huvudmeny"'


def _password_step(client: Client, user: User) -> None:
    response = client.post("/logga-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def _unthrottled(user: User) -> None:
    """Lift the growing delay that a refused code switches on, as waiting would."""
    TOTPDevice.objects.filter(pk=authenticator_of(user).pk).update(throttling_failure_count=0)


def _autofocused(body: str, name: str) -> bool:
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', body)[0]
    return re.search(r"\sautofocus(\s|>|=)", field) is not None


@pytest.mark.parametrize("enrolled", [True, False])
def test_the_menu_and_the_name_wait_for_the_second_factor(
    client: Client, agency_admin: User, enrolled: bool
) -> None:
    if enrolled:
        code = current_code(agency_admin)
    _password_step(client, agency_admin)
    body = client.get("/tvafaktor/").content.decode()
    assert ("Ange engångskod" if enrolled else "Aktivera tvåfaktorsinloggning") in body
    assert MENU not in body
    assert 'data-testid="whoami"' not in body
    assert agency_admin.agency.name not in body
    assert "Användare" not in body  # the admin's own menu entry
    assert "Logga ut" in body  # the sign-in can still be given up
    # Nor is the page of passkeys, which the menu links to, open before.
    assert client.get("/tvafaktor/nycklar/")["Location"] == "/tvafaktor/"
    if enrolled:
        assert client.post("/tvafaktor/", {"code": code}).status_code == 302
        signed_in = client.get("/").content.decode()
        assert MENU in signed_in
        assert 'data-testid="whoami"' in signed_in
        assert 'href="/anvandare/"' in signed_in
        assert client.get("/tvafaktor/nycklar/").status_code == 200


def test_without_the_second_factor_required_the_menu_shows_after_the_password(
    client: Client, worker: User, settings
) -> None:
    settings.REQUIRE_TWO_FACTOR = False
    _password_step(client, worker)
    assert MENU in client.get("/").content.decode()


def test_the_code_field_has_focus(client: Client, worker: User) -> None:
    assert _autofocused(client.get("/logga-in/").content.decode(), "username")
    current_code(worker)
    _password_step(client, worker)
    assert _autofocused(client.get("/tvafaktor/").content.decode(), "code")
    enrolling = Client()
    TOTPDevice.objects.filter(user=worker).delete()
    _password_step(enrolling, worker)
    assert _autofocused(enrolling.get("/tvafaktor/").content.decode(), "code")


def test_the_code_field_has_focus_when_confirming_again(login, worker: User) -> None:
    body = login(worker).get("/tvafaktor/bekrafta/").content.decode()
    assert _autofocused(body, "code")


def test_a_used_code_has_its_own_message(client: Client, worker: User) -> None:
    code = current_code(worker)
    _password_step(client, worker)
    wrong = client.post("/tvafaktor/", {"code": "000000" if code != "000000" else "111111"})
    body = wrong.content.decode()
    assert wrong.status_code == 400
    assert WRONG in body and REPLAYED not in body
    _unthrottled(worker)
    assert client.post("/tvafaktor/", {"code": code}).status_code == 302
    # The same code again, in another sign-in within its 30 seconds: right, but used.
    again = Client()
    _password_step(again, worker)
    replayed = again.post("/tvafaktor/", {"code": code})
    body = replayed.content.decode()
    assert replayed.status_code == 400
    assert REPLAYED in body and WRONG not in body
    assert re.search(r"<title>Fel: ", body)
    # Also while the refusal's delay runs: a used code is still told apart.
    assert REPLAYED in again.post("/tvafaktor/", {"code": code}).content.decode()
    # And when confirming a sensitive step with the code just used to sign in.
    confirm = client.post("/tvafaktor/bekrafta/", {"code": code})
    assert confirm.status_code == 400
    assert REPLAYED in confirm.content.decode()


def test_a_recovery_code_used_once_is_wrong_not_replayed(client: Client, worker: User) -> None:
    current_code(worker)
    static = worker.staticdevice_set.create(name="Reservkoder")
    static.token_set.create(token="abcd1234")
    _password_step(client, worker)
    assert client.post("/tvafaktor/", {"code": "abcd1234"}).status_code == 302
    again = Client()
    _password_step(again, worker)
    body = again.post("/tvafaktor/", {"code": "abcd1234"}).content.decode()
    assert WRONG in body and REPLAYED not in body
