"""Hostile input to user administration, the login form, the second factor and
re-authentication, generated with hypothesis (the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from avhopp.models import Role, User
from tests.conftest import PASSWORD
from tests.hostile_support import (
    HOSTILE,
    Stage,
    assert_outcome,
    checkbox,
    choice,
    counts,
    extra_fields,
    field_text,
    grown,
    hostile_next,
    isolated,
    mostly,
    send,
    snapshot,
    stripped,
    submit,
)
from tests.support import verify_second_factor

# --- Users, login, second factor ------------------------------------------------------------

usernames = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäö0123456789.@+-_", min_size=1, max_size=40),
    field_text,
)


@HOSTILE
@given(
    username=usernames,
    first=field_text,
    last=field_text,
    email=st.one_of(st.emails().map(str), field_text),
    role=choice(["", *Role.values]),
    password=mostly(st.just("Ett-långt-lösenord-42"), field_text),
    extra=extra_fields,
)
@example(  # BUG-2: a blank role fails the model constraint; TypeError, 500
    username="ny.anvandare",
    first="Ny",
    last="Användare",
    email="ny@example.se",
    role="",
    password="Ett-långt-lösenord-42",
    extra={},
)
@isolated
def test_user_create(
    username: str,
    first: str,
    last: str,
    email: str,
    role: str,
    password: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    admin = stage.users["agency_admin"]
    client = login(admin)
    data = {
        **extra,
        "username": username,
        "first_name": first,
        "last_name": last,
        "email": email,
        "role": role,
        "password": password,
        "agency": str(stage.foreign.owning_agency_id),
        "is_superuser": "on",
        "is_staff": "on",
    }
    before = counts()
    response = submit(client, "post", reverse("users:list"), data)
    if assert_outcome(response, before, saves={"User": 1}):
        saved = User.objects.latest("pk")
        assert saved.username == stripped(username)
        assert (saved.first_name, saved.last_name) == (stripped(first), stripped(last))
        assert saved.agency_id == admin.agency_id
        assert not saved.is_superuser and not saved.is_staff
        # A posted password is never taken: the user chooses one through the invitation.
        assert not saved.has_usable_password()


@HOSTILE
@given(role=choice(list(Role.values)), active=checkbox, extra=extra_fields)
@isolated
def test_user_edit(
    role: str,
    active: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    edited = stage.users["colleague"]
    client = login(stage.users["agency_admin"])
    data = {**extra, "role": role, "is_active": active, "agency": "1", "is_superuser": "on"}
    before, state = counts(), snapshot(edited)
    response = submit(client, "post", reverse("users:edit", args=[edited.pk]), data)
    if assert_outcome(response, before, saves={}, unchanged=state, objects=(edited,)):
        saved = User.objects.get(pk=edited.pk)
        assert saved.role == role
        assert (saved.agency_id, saved.is_superuser) == (edited.agency_id, False)
    User.objects.filter(pk=edited.pk).update(role=Role.SOCIAL_WORKER, is_active=True)


@HOSTILE
@given(
    username=st.one_of(usernames, st.just("worker")),
    password=st.one_of(field_text, st.just(PASSWORD)),
    target=hostile_next,
    extra=extra_fields,
)
@example(username="a" * 256, password="x", target="", extra={})  # BUG-3: DataError, 500
@isolated
def test_login_form(
    username: str,
    password: str,
    target: str,
    extra: dict[str, str],
    stage: Stage,
) -> None:
    client = Client()
    login_url = reverse("login")
    submit(client, "get", login_url, {"next": target})
    before = counts()
    data = {**extra, "username": username, "password": password, "next": target}
    response = submit(client, "post", login_url, data)
    assert response.status_code in {200, 302, 400, 403, 429}, response.status_code
    assert grown(before, counts()) == {}
    if response.status_code == 302:  # the password was right: the second factor is next
        home = send(client, "get", reverse("home"))
        assert home.status_code == 302
        assert home["Location"].startswith(reverse("two_factor"))


@HOSTILE
@given(code=st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), field_text), target=hostile_next)
@example(code="000000", target="evil")  # BUG-1: NoReverseMatch, 500
@isolated
def test_two_factor_code(code: str, target: str, stage: Stage) -> None:
    client = Client()
    client.force_login(stage.users["worker"])
    verify_second_factor(client, stage.users["worker"])
    client.logout()
    client.force_login(stage.users["worker"])  # signed in, second factor still to pass
    url = reverse("two_factor")
    submit(client, "get", url, {"next": target})
    response = submit(client, "post", f"{url}?next=", {"code": code, "next": target})
    assert response.status_code in {200, 302, 400}, response.status_code
    # Already verified: the page sends the user on to `next`, which must stay on the site.
    verified = Client()
    verified.force_login(stage.users["worker"])
    verify_second_factor(verified, stage.users["worker"])
    onward = submit(verified, "get", url, {"next": target})
    assert onward.status_code == 302, onward.status_code


@HOSTILE
@given(code=field_text, target=hostile_next)
@isolated
def test_reauthenticate_code(
    code: str, target: str, stage: Stage, login: Callable[..., Client]
) -> None:
    client = login(stage.users["log_reviewer"])
    url = reverse("reauthenticate")
    submit(client, "get", url, {"next": target})
    response = submit(client, "post", url, {"code": code, "password": code, "next": target})
    assert response.status_code in {200, 302, 400}, response.status_code
