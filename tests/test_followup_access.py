"""Who reads which statistics: the national coordinator every municipality's, suppressed; a
municipality's coordinators their own, as they are; nobody else any."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from avhopp.models import AgencyKind, AuditAction, AuditEvent, Role, roles_of_kind
from tests.conftest import AgencyFactory
from tests.followup_support import cases_in

pytestmark = pytest.mark.django_db
URL = reverse("followup:statistics")
HIDDEN_MARK = 'title="Dold för att ingen ska kunna identifieras"'


@pytest.fixture
def figures_in_two_places(make_case, worker, other_municipality, make_user):
    cases_in(make_case, worker, 6)
    cases_in(make_case, make_user(other_municipality, Role.SOCIAL_WORKER), 2)


def test_the_national_coordinator_reads_every_municipality_suppressed(
    figures_in_two_places, national, login
) -> None:
    response = login(national).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Statistik för hela landet" in page
    assert "Botkyrka kommun" in page and "Södertälje kommun" in page
    assert HIDDEN_MARK in page  # the two in Botkyrka, and a partner, are hidden
    assert AuditEvent.objects.filter(
        user_id=national.pk, action=AuditAction.STATISTICS_VIEW
    ).exists()


def test_a_municipal_coordinator_reads_only_its_own_unsuppressed(
    figures_in_two_places, coordinator, login
) -> None:
    response = login(coordinator).get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Statistik för Södertälje kommun" in page
    assert "Botkyrka kommun" not in page
    tables = response.context["stats"]
    assert tables.active.rows[-1].cells == (6,)
    assert HIDDEN_MARK not in page


def test_everyone_else_is_refused(db, make_user, login, worker) -> None:
    refused = [worker]
    for kind in AgencyKind.values:
        extra = {} if kind == AgencyKind.SOCIAL_SERVICES else {"municipality_code": ""}
        agency = AgencyFactory(kind=kind, **extra)
        for role in roles_of_kind(kind):
            allowed = (kind, role) in {
                (AgencyKind.SOCIAL_SERVICES, Role.COORDINATOR),
                (AgencyKind.NATIONAL_COORDINATION, Role.NATIONAL_COORDINATOR),
            }
            if not allowed:
                refused.append(make_user(agency, role))
    for user in refused:
        assert login(user).get(URL).status_code == 403, (user.agency.kind, user.role)


def test_anonymous_is_sent_to_log_in(client) -> None:
    assert client.get(URL)["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2024-05-01", "end": "2024-04-01"}, "Perioden är tom"),
        ({"start": "2999-01-01", "end": "2999-02-01"}, "Perioden ligger i framtiden"),
        ({"start": "", "end": ""}, "Ange ett datum"),
        ({"start": "igår", "end": "2024-01-01"}, "Fyll i ett giltigt datum"),
    ],
)
def test_a_bad_period_gets_a_clear_message(national, login, query, message) -> None:
    response = login(national).get(URL, query)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_period_may_end_today_but_not_later(national, login) -> None:
    today = timezone.localdate()
    client = login(national)
    ok = client.get(URL, {"start": today - timedelta(days=30), "end": today})
    assert ok.status_code == 200
    late = client.get(URL, {"start": today - timedelta(days=30), "end": today + timedelta(1)})
    assert late.status_code == 400
    assert "Perioden kan sluta senast i dag" in late.content.decode()
