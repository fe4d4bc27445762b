"""The relocation pages: the request form, bad input at every step answered with a message
(400), a step taken at the wrong time refused with a message (never a 500), the start page's
waiting lists with days waiting, the case page's panel, the overview's figures, and the query
counts of the relocation page and the start page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, User
from cases.models import Case
from relocations import services
from relocations.models import Relocation, RelocationStatus, RelocationStep
from tests.access_support import body_of, count_queries
from tests.relocation_support import (
    DESTINATION_NAME,
    Parties,
    advance,
    assessed,
    relocation_consent,
)

pytestmark = pytest.mark.django_db


def _post(client: Client, relocation: Relocation, step: str, data: dict[str, object]):
    return client.post(reverse(f"relocations:{step}", args=[relocation.pk]), data)


def test_coordinator_requests_through_the_form(
    owned_case: Case,
    coordinator: User,
    officer: User,
    national_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    client = login(coordinator)
    url = reverse("relocations:request", args=[owned_case.pk])
    assessed(owned_case, officer)
    consent = relocation_consent(owned_case, coordinator, national_agency)
    bad = client.post(url, {"consent": consent.pk, "urgency": "acute", "housing_need": "protected"})
    assert bad.status_code == 400
    page = body_of(bad)
    assert "IVO-tillstånd" in page and "Kort behovsbeskrivning" in page
    response = client.post(
        url,
        {
            "consent": consent.pk,
            "urgency": "acute",
            "housing_need": "protected",
            "ivo_permit": "IVO 3.1-99",
            "people_moving": 1,
            "children_moving": 0,
            "needs_summary": "Akut skyddat boende.",
        },
    )
    relocation = Relocation.objects.get(case=owned_case)
    assert response.status_code == 302 and response["Location"] == relocation.get_absolute_url()
    assert relocation.status == RelocationStatus.MATCHING


def test_request_without_threat_assessment_gets_a_message(
    owned_case: Case, coordinator: User, national_agency: Agency, login: Callable[[User], Client]
) -> None:
    consent = relocation_consent(owned_case, coordinator, national_agency)
    response = login(coordinator).post(
        reverse("relocations:request", args=[owned_case.pk]),
        {
            "consent": consent.pk,
            "urgency": "planned",
            "housing_need": "long_term",
            "people_moving": 1,
            "children_moving": 0,
            "needs_summary": "Lägenhet.",
        },
    )
    assert response.status_code == 400
    assert "hotbedömning" in body_of(response)


@pytest.mark.parametrize(
    ("status", "actor", "step", "data", "message"),
    [
        ("matching", "national", "propose", {}, "Välj föreslagna kommuner"),
        ("matching", "sending_coordinator", "avoid", {"reason": "x"}, "antingen en kommun"),
        ("clearance", "clearing_officer", "clearance", {"decision": "veto"}, "vetot"),
        ("offered", "receiving_coordinator", "offer_answer", {"decision": "accept"}, "kontakt"),
        ("offered", "receiving_coordinator", "offer_answer", {"decision": "decline"}, "skäl"),
        ("accepted", "receiving_coordinator", "placement", {"housing": "x"}, "giltigt alternativ"),
        ("arranged", "receiving_coordinator", "moved", {"moved_on": "2999-01-01"}, "framtiden"),
        ("moved", "sending_coordinator", "handover", {}, "Ange avslutande sammanfattning"),
        ("handover", "receiving_coordinator", "handover_answer", {"decision": "refuse"}, "varför"),
        ("matching", "sending_coordinator", "abort", {"reason": "bored"}, "giltigt alternativ"),
        ("clearance", "national", "offer", {}, "Välj kommun"),
        ("handover", "sending_coordinator", "ivo", {"reference": " "}, "Ange IVO:s diarienummer"),
    ],
)
def test_bad_input_at_every_step_gets_a_message(
    status: str,
    actor: str,
    step: str,
    data: dict[str, object],
    message: str,
    relocation: Relocation,
    parties: Parties,
    login: Callable[[User], Client],
) -> None:
    advance(relocation, parties, RelocationStatus(status))
    if step == "clearance":
        data = {**data, "candidate": relocation.candidates.get().pk}
    if step == "offer":  # an offer goes to a cleared municipality
        services.clearance_answer(
            candidate=relocation.candidates.get(), by=parties.clearing_officer, cleared=True
        )
    if step == "ivo":  # the application to IVO follows a refused handover
        services.handover_answer(
            relocation=relocation,
            by=parties.receiving_coordinator,
            accepted=False,
            reason="Vi saknar boende.",
        )
    relocation.refresh_from_db()
    before = relocation.status
    response = _post(login(getattr(parties, actor)), relocation, step, data)
    assert response.status_code == 400
    assert message in body_of(response)
    relocation.refresh_from_db()
    assert relocation.status == before


def test_a_step_at_the_wrong_time_is_refused_with_a_message(
    relocation: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    """A handover before the move: the form is not the user's to post now."""
    advance(relocation, parties, RelocationStatus.ARRANGED)
    client = login(parties.sending_coordinator)
    response = _post(client, relocation, "handover", {"closing_summary": "Klart."})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Det steget går inte att ta nu."
    ]
    assert RelocationStep.objects.filter(relocation=relocation).count() == 5


def test_a_double_submitted_step_gets_a_message(
    relocation: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    advance(relocation, parties, RelocationStatus.MOVED)
    client = login(parties.sending_coordinator)
    for _ in range(2):
        response = _post(client, relocation, "handover", {"closing_summary": "Stödet avslutas."})
        assert response.status_code == 302
    assert relocation.steps.filter(status=RelocationStatus.HANDOVER).count() == 1


def test_start_pages_show_what_waits_with_days(
    relocation: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    RelocationStep.objects.filter(relocation=relocation).update(
        entered_at=timezone.now() - timedelta(days=3)
    )
    page = body_of(login(parties.national).get(reverse("home")))
    assert "Matcha förfrågan" in page and relocation.reference in page
    assert "<td>3</td>" in page
    advance(relocation, parties, RelocationStatus.CLEARANCE)
    assert "Klarera kommun" in body_of(login(parties.clearing_officer).get(reverse("home")))
    # Cleared: the request waits for the national coordinator's offer, and no longer for
    # the police.
    services.clearance_answer(
        candidate=relocation.candidates.get(), by=parties.clearing_officer, cleared=True
    )
    assert "Skicka erbjudande" in body_of(login(parties.national).get(reverse("home")))
    assert "Klarera kommun" not in body_of(login(parties.clearing_officer).get(reverse("home")))
    services.offer_send(candidate=relocation.candidates.get(), by=parties.national)
    relocation.refresh_from_db()
    receiving = login(parties.receiving_coordinator)
    assert "Besvara erbjudande" in body_of(receiving.get(reverse("home")))
    assert "Skicka erbjudande" not in body_of(login(parties.national).get(reverse("home")))
    for status, what in [
        (RelocationStatus.ACCEPTED, "Ordna placeringen"),
        (RelocationStatus.ARRANGED, "Bekräfta flytten"),
        (RelocationStatus.HANDOVER, "Ta över ärendet"),
    ]:
        advance(relocation, parties, status)
        assert what in body_of(receiving.get(reverse("home")))
        if status == RelocationStatus.ARRANGED:
            advance(relocation, parties, RelocationStatus.MOVED)
            page = body_of(login(parties.sending_coordinator).get(reverse("home")))
            assert "Begär överlämning" in page and relocation.reference in page
            assert DESTINATION_NAME not in page


def test_case_page_panel_names_the_destination_to_the_deciders_only(
    relocation: Relocation,
    parties: Parties,
    worker: User,
    officer: User,
    login: Callable[[User], Client],
) -> None:
    advance(relocation, parties, RelocationStatus.ACCEPTED)
    url = reverse("cases:detail", args=[relocation.case_id])
    page = body_of(login(worker).get(url))
    assert relocation.reference in page and DESTINATION_NAME in page
    # The sending region's police follow the relocation, not where it went.
    page = body_of(login(officer).get(relocation.get_absolute_url()))
    assert relocation.reference in page and DESTINATION_NAME not in page


def test_overview_and_page_show_the_figures_to_the_national_coordinator(
    relocation: Relocation, parties: Parties, login: Callable[[User], Client], worker: User
) -> None:
    advance(relocation, parties, RelocationStatus.MOVED)
    client = login(parties.national)
    overview = body_of(client.get(reverse("relocations:list")))
    assert 'data-testid="totals"' in overview and "Från begäran till flytt" in overview
    assert 'data-testid="figures"' in body_of(client.get(relocation.get_absolute_url()))
    assert 'data-testid="figures"' not in body_of(login(worker).get(relocation.get_absolute_url()))


# Session, user, second factor, the header's unread count; the relocation; its step and
# candidate checks; the blind request's avoided places; the destination with its audit row;
# candidates, steps, the agreement and the view's audit row. The national coordinator's
# figures read the steps and the placement once more.
@pytest.mark.parametrize(("actor", "queries"), [("national", 15), ("receiving_coordinator", 13)])
def test_relocation_page_queries_are_pinned(
    actor: str,
    queries: int,
    relocation: Relocation,
    parties: Parties,
    login: Callable[[User], Client],
) -> None:
    advance(relocation, parties, RelocationStatus.ARRANGED)
    client = login(getattr(parties, actor))
    assert count_queries(client, relocation.get_absolute_url()) == queries


# Session, user, second factor, the header's unread count, then one query per waiting list
# the user answers: the national coordinator's requests to match; the receiving coordinator's
# offers and handovers, and the case lists (five: own cases, threat reviews, follow-ups,
# consents running out, files without an entry), their audit row (no cases shown, so no row of
# shown cases) and alerts of the cases app, the referrals received and sent (two, none shown so
# no audit row) and the outcomes due at follow-up of the method app
# (tests/test_access_query_counts.py counts them with rows shown).
@pytest.mark.parametrize(("actor", "queries"), [("national", 5), ("receiving_coordinator", 16)])
def test_start_page_queries_are_pinned(
    actor: str,
    queries: int,
    relocation: Relocation,
    parties: Parties,
    login: Callable[[User], Client],
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    client = login(getattr(parties, actor))
    assert count_queries(client, reverse("home")) == queries
