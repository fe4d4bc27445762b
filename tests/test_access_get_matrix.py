"""GET on every URL that takes an id, for every kind of viewer, against the expectation table
in tests/access_support.py; the outside-assignment reason; ids that do not exist or belong
to another case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases.audit_selectors import touching_case
from cases.models import Case, JournalEntry
from tests.access_support import (
    ACTORS,
    CONTENT_MARKERS,
    REASON_ACTORS,
    TABLE,
    World,
    body_of,
    client_for,
    give_outside_reason,
    ready_referral,
    snapshot,
    stranger_actors,
)

# --- GET matrix -----------------------------------------------------------------------------


def _mismatch(name: str, url: str, token: str, response: Any, reason_url: str) -> str | None:
    got = response.status_code
    location = response.get("Location", "")
    if token.startswith("R"):
        want = "302 to the reason page"
        next_part = urlencode({"next": url})
        ok = got == 302 and location == f"{reason_url}?{next_part}"
    elif token == "LOGIN":
        want = "302 to login"
        ok = got == 302 and location.startswith(reverse("login"))
    else:
        want = token
        ok = got == int(token)
    return None if ok else f"{name} {url}: want {want}, got {got} {location}".rstrip()


def _unlogged_content(case: Case, url: str, response: Any, since: int) -> str | None:
    """A page that shows the case's content must have written an event about the case."""
    body = body_of(response)
    if not any(marker in body for marker in CONTENT_MARKERS):
        return None
    logged = AuditEvent.objects.filter(pk__gt=since).exclude(action=AuditAction.ACCESS_DENIED)
    if logged.filter(touching_case(case.pk)).exists():
        return None
    return f"{url}: shows the case without an audit event"


def _check(client: Client, world: World, name: str, url: str, token: str) -> list[str | None]:
    since = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    response = client.get(url)
    reason_url = reverse("cases:outside_reason", args=[world.case.pk])
    return [
        _mismatch(name, url, token, response, reason_url),
        _unlogged_content(world.case, url, response, since),
    ]


@pytest.mark.parametrize("actor", [*ACTORS, *stranger_actors()])
def test_get_on_every_id_url(actor: str, world: World, login: Callable[[User], Client]) -> None:
    """Every role of every kind of agency gets the status the table says, and every page
    that shows case content has logged it."""
    client = client_for(world, actor, login)
    urls = world.id_urls()
    failures = []
    for name, url in urls.items():
        failures += _check(client, world, name, url, TABLE[name].token(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, world.case)
        for name, url in urls.items():
            failures += _check(client, world, name, url, TABLE[name].token(actor).removeprefix("R"))
    problems = [failure for failure in failures if failure]
    assert not problems, f"{actor}:\n" + "\n".join(problems)


LIST_PAGES = ("home", "cases:list", "referrals:dashboard")


@pytest.mark.parametrize("actor", [*ACTORS, *stranger_actors()])
def test_list_pages_log_the_cases_they_show(
    actor: str, world: World, login: Callable[[User], Client]
) -> None:
    """The start page, the case list, a search, the list's export and the referral overview
    record which cases they showed; a page that shows the case without recording it fails."""
    client = client_for(world, actor, login)
    if actor in REASON_ACTORS:
        give_outside_reason(client, world.case)
    urls = [reverse(name) for name in LIST_PAGES]
    # Searched by first name, so the page's echo of the query is no marker.
    urls += [f"{reverse('cases:list')}?q=Adam", f"{reverse('cases:create')}?q=Adam"]
    urls += [reverse("cases:export_csv"), f"{reverse('cases:export_csv')}?q=Adam"]
    failures = []
    for url in urls:
        since = AuditEvent.objects.aggregate(last=Max("pk"))["last"] or 0
        response = client.get(url)
        failures.append(_unlogged_content(world.case, url, response, since))
    problems = [failure for failure in failures if failure]
    assert not problems, f"{actor}:\n" + "\n".join(problems)


def test_reason_redirect_keeps_where_the_reader_was_going(
    world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users["colleague"])
    target = world.url("cases:edit")
    response = client.get(target)
    assert response.status_code == 302
    response = client.post(response["Location"], {"reason": "covering", "next": target})
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


def test_reason_is_per_case_expires_and_never_redirects_off_site(
    world: World,
    settings: Any,
    make_case: Callable[..., Case],
    login: Callable[[User], Client],
) -> None:
    other_case = make_case(world.users["worker"])
    client = login(world.users["colleague"])
    reason_url = reverse("cases:outside_reason", args=[world.case.pk])
    response = client.post(reason_url, {"reason": "urgent", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == world.case.get_absolute_url()
    assert client.get(world.case.get_absolute_url()).status_code == 200
    # A reason given for one case does not open another.
    assert client.get(other_case.get_absolute_url()).status_code == 302
    # Once the reason is older than AVHOPP_REASON_TTL it must be given again.
    settings.AVHOPP_REASON_TTL = timedelta(0)
    assert client.get(world.case.get_absolute_url()).status_code == 302


@pytest.mark.parametrize("case_id", [987654, 2**63 - 1, 2**70])
def test_unknown_case_ids_look_like_invisible_ones(
    case_id: int, world: World, login: Callable[[User], Client]
) -> None:
    """No oracle: a missing case answers exactly like another agency's case, never 500."""
    client = login(world.users["worker"])
    for url in (f"/arenden/{case_id}/", f"/arenden/{case_id}/andra/", f"/logg/arenden/{case_id}/"):
        assert client.get(url).status_code == 404, url


def test_child_ids_of_another_case_are_404(
    world: World,
    foreign_case: Case,
    make_user: Callable[..., User],
    other_municipality: Agency,
    login: Callable[[User], Client],
) -> None:
    """An id in the URL must belong to the case in the URL (no IDOR through a visible case)."""
    foreign_intervention = foreign_case.interventions.get()
    foreign_share = foreign_case.shares.get()
    foreign_entry = foreign_case.journal_entries.get()
    foreign_coordinator = User.objects.get(username="fcoord")
    foreign_referral = ready_referral(foreign_case, foreign_coordinator, world.case.owning_agency)
    foreign_user = make_user(other_municipality, Role.SOCIAL_WORKER, username="fworker")
    pk = world.case.pk
    worker = login(world.users["worker"])
    coordinator = login(world.users["coordinator"])
    give_outside_reason(coordinator, world.case)
    admin = login(world.users["agency_admin"])
    before = snapshot(foreign_case)
    attempts = [
        (worker, "get", reverse("cases:intervention_edit", args=[pk, foreign_intervention.pk])),
        (
            worker,
            "post",
            reverse("cases:intervention_edit", args=[pk, foreign_intervention.pk]),
        ),
        (coordinator, "post", reverse("cases:share_revoke", args=[pk, foreign_share.pk])),
        (
            coordinator,
            "post",
            reverse("cases:consent_withdraw", args=[pk, foreign_share.consent_id]),
        ),
        (worker, "get", reverse("referrals:detail", args=[foreign_referral.pk])),
        (worker, "get", reverse("referrals:download", args=[foreign_referral.pk])),
        (coordinator, "post", reverse("referrals:send", args=[foreign_referral.pk])),
        (admin, "get", reverse("users:edit", args=[foreign_user.pk])),
        (admin, "post", reverse("users:edit", args=[foreign_user.pk])),
    ]
    failures = []
    for client, method, url in attempts:
        data = {
            "kind": "work",
            "provider_name": "X",
            "status": "cancelled",
            "role": "agency_admin",
        }
        response = client.get(url) if method == "get" else client.post(url, data)
        if response.status_code != 404:
            failures.append(f"{method.upper()} {url}: {response.status_code}")
    # A correction must correct an entry of the same case.
    correction = {"text": "Rättelse", "corrects": foreign_entry.pk}
    response = worker.post(reverse("cases:journal_create", args=[pk]), correction)
    if response.status_code != 404:
        failures.append(f"journal correction of a foreign entry: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert snapshot(foreign_case) == before
    assert not JournalEntry.objects.filter(case=world.case, text="Rättelse").exists()
    foreign_user.refresh_from_db()
    assert foreign_user.role == Role.SOCIAL_WORKER
