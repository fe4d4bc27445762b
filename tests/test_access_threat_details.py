"""Threat-assessment details are shown to the police only (the access matrix,
tests/access_support.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from avhopp.models import User
from tests.access_support import REASON_ACTORS, World, give_outside_reason

# --- Threat details -------------------------------------------------------------------------


def test_threat_details_only_for_police(world: World, login: Callable[[User], Client]) -> None:
    url = world.url("cases:detail")
    summary, details = world.assessment.summary, world.assessment.details
    body = login(world.users["officer"]).get(url).content.decode()
    assert summary in body
    assert details in body
    assert 'data-testid="threat-details"' in body
    for actor in ("worker", "coordinator", "colleague"):
        client = login(world.users[actor])
        if actor in REASON_ACTORS:
            give_outside_reason(client, world.case)
        response = client.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert summary in text, actor
        assert details not in text, actor
        assert 'data-testid="threat-details"' not in text, actor
