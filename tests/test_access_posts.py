"""POST to every URL that takes an id, from users of unrelated agencies: refused, and nothing
changes (the access matrix, tests/access_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from avhopp.models import Agency, Role, User
from tests.access_support import TABLE, World, snapshot

# --- POST from unrelated users ----------------------------------------------------------------


def _post_data(name: str, world: World) -> dict[str, Any]:
    future = (timezone.localdate() + timedelta(days=60)).isoformat()
    today = timezone.localdate().isoformat()
    outsider_agency = world.users["outsider"].agency_id
    return {
        "cases:outside_reason": {"reason": "urgent"},
        "cases:reveal": {"reason": "urgent"},
        "cases:edit": {"motivation_notes": "INTRÅNG"},
        "cases:individual_edit": {
            "first_name": "INTRÅNG",
            "last_name": "INTRÅNG",
            "protection_level": "none",
            "address": "INTRÅNG",
        },
        "cases:status": {"to_status": "initial_assessment"},
        "cases:intervention_create": {"kind": "work", "provider_name": "X", "status": "planned"},
        "cases:intervention_edit": {
            "kind": "work",
            "provider_name": "X",
            "status": "cancelled",
            "goal": "INTRÅNG",
        },
        "cases:journal_create": {"text": "INTRÅNG"},
        "cases:threat_create": {
            "level": "severe",
            "summary": "INTRÅNG",
            "next_review_date": future,
        },
        "cases:consent_create": {
            "recipient": outsider_agency,
            "scope_journal": "on",
            "given_on": today,
            "document_reference": "INTRÅNG",
        },
        "cases:consent_withdraw": {},
        "cases:share_create": {
            "agency": outsider_agency,
            "legal_basis": "osl_10_2",
            "legal_basis_citation": "INTRÅNG",
            "scopes": ["journal"],
        },
        "cases:share_revoke": {},
        "cases:team_add": {"user": world.users["colleague"].pk},
        "cases:team_remove": {},
        "referrals:create": {"to_agency": outsider_agency, "contact_person": "INTRÅNG"},
        "referrals:sip_create": {
            "overall_responsibility": "INTRÅNG",
            "next_follow_up": future,
            "contact_person": "INTRÅNG",
            "consent": world.consent.pk,
        },
        "referrals:retry": {},
        "referrals:send": {},
        "referrals:answer": {"decision": "accept"},
        "users:edit": {"role": "agency_admin", "is_active": ""},
        "users:end_sessions": {},
    }.get(name, {})


@pytest.mark.parametrize("actor", ["outsider", "other_officer"])
def test_post_from_unrelated_users_is_refused_and_changes_nothing(
    actor: str, world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users[actor])
    before = snapshot(world.case)
    failures = []
    posted = 0
    for name, url in world.id_urls().items():
        if "POST" not in TABLE[name].methods:
            continue
        posted += 1
        # 404 once the object is looked up; a view that checks the role first (user admin)
        # refuses with the same 403 as for a GET, whatever the id.
        token = TABLE[name].token(actor)
        want = 403 if token == "403" or name.startswith("users:") else 404
        response = client.post(url, _post_data(name, world))
        if response.status_code != want:
            failures.append(f"{name} {url}: want {want}, got {response.status_code}")
    assert posted >= 15
    assert not failures, "\n".join(failures)
    assert snapshot(world.case) == before


def test_agency_admin_of_another_agency_cannot_edit_our_users(
    world: World, make_user: Callable[..., User], other_municipality: Agency, login: Callable
) -> None:
    foreign_admin = make_user(other_municipality, Role.AGENCY_ADMIN, username="fadmin")
    client = login(foreign_admin)
    url = world.url("users:edit")
    before = snapshot(world.case)
    assert client.get(url).status_code == 404
    assert client.post(url, _post_data("users:edit", world)).status_code == 404
    assert client.post(world.url("users:end_sessions")).status_code == 404
    assert snapshot(world.case) == before
