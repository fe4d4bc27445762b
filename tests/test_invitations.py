"""Invitations: a new user gets an e-mail (through a real SMTP server on loopback) with a
one-time, expiring link to choose their own password; the admin never sees one. The second
factor is then set up at the first sign-in, as for everyone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from avhopp import invitations, services
from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from avhopp.user_views import UserCreateForm
from tests.mail_support import Inbox

pytestmark = pytest.mark.django_db

ADDRESS = "ny.person@example.se"
GOOD_PASSWORD = "Ett-eget-och-langt-losen-42"


@pytest.fixture
def create(committed: Callable[..., Any]) -> Callable[[Client], User]:
    """The admin creates "ny.person" through the form; the invitation goes out on commit."""

    def make(client: Client) -> User:
        with committed():
            response = client.post(
                reverse("users:list"),
                {
                    "username": "ny.person",
                    "first_name": "Ny",
                    "last_name": "Person",
                    "email": ADDRESS,
                    "role": Role.SOCIAL_WORKER,
                },
            )
        assert response.status_code == 302, response.content.decode()[:2000]
        return User.objects.get(username="ny.person")

    return make


def _link(mailbox: Inbox, address: str = ADDRESS) -> str:
    """The path and query of the newest invitation's link to the address."""
    received = mailbox.to(address)[-1]
    [link, same] = received.links  # once in Swedish, once in English
    assert link == same
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def _choose(client: Client, link: str, password: str = GOOD_PASSWORD) -> object:
    opened = client.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == reverse("invitation")  # the token leaves the address bar
    return client.post(
        reverse("invitation"), {"new_password1": password, "new_password2": password}
    )


def test_a_new_user_is_invited_by_mail_and_chooses_their_password(
    mailbox: Inbox,
    settings: object,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    settings.AVHOPP_BASE_URL = "https://avhopp.example.se"
    user = create(login(agency_admin))
    assert not user.has_usable_password()
    [received] = mailbox.messages
    assert received.recipients == [ADDRESS]
    assert received.subject == "Avhopp: Inbjudan / Invitation"
    assert "Ditt användarnamn är ny.person." in received.body
    assert received.links[0].startswith("https://avhopp.example.se/logga-in/inbjudan/?u=")
    actions = AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)
    assert set(actions) == {AuditAction.USER_CREATE, AuditAction.USER_INVITED}

    visitor = Client()
    page = visitor.get(_link(mailbox), follow=True)
    assert page.status_code == 200
    assert "ny.person" in page.content.decode()
    response = visitor.post(
        reverse("invitation"), {"new_password1": GOOD_PASSWORD, "new_password2": GOOD_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("login"))
    user.refresh_from_db()
    assert user.check_password(GOOD_PASSWORD)
    assert AuditEvent.objects.filter(
        action=AuditAction.INVITATION_ACCEPTED, user_id=user.pk
    ).exists()
    # Signing in then asks for the second factor, which a new user sets up first.
    signed = Client().post(
        reverse("login"), {"username": "ny.person", "password": GOOD_PASSWORD}, follow=True
    )
    assert signed.redirect_chain[-1][0].startswith(reverse("two_factor"))
    assert "Aktivera tvåfaktorsinloggning" in signed.content.decode()


def test_the_link_works_once(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    create(login(agency_admin))
    link = _link(mailbox)
    assert _choose(Client(), link).status_code == 302
    again = Client()
    response = _choose(again, link, "Ett-annat-langt-losen-43")
    assert response.status_code == 400
    assert "Länken fungerar inte längre" in response.content.decode()
    assert User.objects.get(username="ny.person").check_password(GOOD_PASSWORD)


def test_the_link_expires(
    mailbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    settings: object,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    create(login(agency_admin))
    link = _link(mailbox)
    later = datetime.now() + timedelta(hours=settings.AVHOPP_INVITATION_HOURS, minutes=1)
    monkeypatch.setattr(invitations.tokens, "_now", lambda: later)
    assert _choose(Client(), link).status_code == 400
    assert not User.objects.get(username="ny.person").has_usable_password()


def test_a_new_invitation_ends_the_earlier_links(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
    committed: Callable[..., Any],
) -> None:
    client = login(agency_admin)
    user = create(client)
    first = _link(mailbox)
    with committed():
        response = client.post(reverse("users:invite", args=[user.pk]), follow=True)
    assert "En ny inbjudan är skickad" in response.content.decode()
    assert len(mailbox.to(ADDRESS)) == 2
    second = _link(mailbox)
    assert _choose(Client(), first).status_code == 400
    assert _choose(Client(), second).status_code == 302


def test_no_new_invitation_once_a_password_is_chosen(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    worker: User,
    committed: Callable[..., Any],
) -> None:
    """The worker has a password: an invitation would take it away."""
    User.objects.filter(pk=worker.pk).update(email="worker@example.se")
    client = login(agency_admin)
    page = client.get(reverse("users:edit", args=[worker.pk])).content.decode()
    assert "Skicka ny inbjudan" not in page
    with committed():
        response = client.post(reverse("users:invite", args=[worker.pk]), follow=True)
    assert "kan bjudas in" in response.content.decode()
    worker.refresh_from_db()
    assert worker.has_usable_password()
    assert mailbox.messages == []


def test_only_the_agency_admin_sends_invitations(
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
    coordinator: User,
    make_user: Callable[..., User],
    other_municipality: Agency,
    mailbox: Inbox,
) -> None:
    invited = create(login(agency_admin))
    mailbox.clear()
    url = reverse("users:invite", args=[invited.pk])
    assert login(coordinator).post(url).status_code == 403
    assert login(make_user(other_municipality, Role.AGENCY_ADMIN)).post(url).status_code == 404
    assert Client().post(url).status_code == 302  # to the login page
    assert login(agency_admin).get(url).status_code == 405
    assert mailbox.messages == []


@pytest.mark.parametrize("password", ["kort", "password1234", "123456789012", "ny.person123"])
def test_weak_passwords_are_refused(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
    password: str,
) -> None:
    create(login(agency_admin))
    response = _choose(Client(), _link(mailbox), password)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    assert not User.objects.get(username="ny.person").has_usable_password()


def test_two_different_passwords_are_refused(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    create(login(agency_admin))
    visitor = Client()
    visitor.get(_link(mailbox))
    response = visitor.post(
        reverse("invitation"), {"new_password1": GOOD_PASSWORD, "new_password2": "Annat-42-losen"}
    )
    assert response.status_code == 400
    assert not User.objects.get(username="ny.person").has_usable_password()


@pytest.mark.parametrize(
    "query",
    ["", "?u=&t=", "?u=MQ&t=fel-token", "?u=%%%&t=x", "?u=OTk5OTk5OTk5OTk5OTk5OTk5OTk&t=x"],
)
def test_a_broken_link_gets_a_message(query: str) -> None:
    visitor = Client()
    response = visitor.get(reverse("invitation") + query, follow=True)
    assert response.status_code == 400
    assert "Länken fungerar inte längre" in response.content.decode()


def test_a_deactivated_users_link_stops_working(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    user = create(login(agency_admin))
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert _choose(Client(), _link(mailbox)).status_code == 400


def test_an_agency_that_signs_in_only_through_its_provider_invites_nobody(
    mailbox: Inbox, agency_admin: User, committed: Callable[..., Any]
) -> None:
    """Its staff sign in at the provider: no address is required and no invitation sent.
    (Its admin's own session is a provider's, so the form and the service are used here.)"""
    Agency.objects.filter(pk=agency_admin.agency_id).update(password_sign_in=False)
    agency_admin.refresh_from_db()
    data = {"username": "sso", "first_name": "S", "last_name": "O", "role": Role.SOCIAL_WORKER}
    form = UserCreateForm(data, agency=agency_admin.agency)
    assert form.is_valid(), form.errors
    with committed():
        created = services.user_create(by=agency_admin, **form.cleaned_data)
    assert not created.has_usable_password()
    assert mailbox.messages == []
    assert not AuditEvent.objects.filter(action=AuditAction.USER_INVITED).exists()


def test_the_invitation_carries_no_password_and_its_token_is_not_kept(
    mailbox: Inbox,
    login: Callable[[User], Client],
    agency_admin: User,
    create: Callable[[Client], User],
) -> None:
    user = create(login(agency_admin))
    [received] = mailbox.messages
    token = parse_qs(urlsplit(received.links[0]).query)["t"][0]
    assert "lösenord:" not in received.body.lower()
    assert user.password not in received.text
    user.refresh_from_db()
    assert token not in user.password
    assert not AuditEvent.objects.filter(reason__contains=token).exists()
