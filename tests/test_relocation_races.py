"""Races: answers given at the same moment, on separate database connections, leave one
consistent state, and the loser a message rather than an error page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from avhopp.models import Role, User
from relocations import services
from relocations.models import Candidate, OfferStatus, Relocation, RelocationStatus
from tests.conftest import AgencyFactory
from tests.relocation_support import Parties, advance
from tests.support import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(*calls: Callable[[], Any]) -> list[str]:
    """Run the calls at once, each on its own connection; what each ended with: "ok" or the
    message it was refused with."""
    return [_ended(outcome) for outcome in at_once(*calls, timeout=30)]


def _ended(outcome: Any) -> str:
    if isinstance(outcome, ValidationError):
        return " ".join(outcome.messages)
    if isinstance(outcome, BaseException):
        return f"error: {type(outcome).__name__}: {outcome}"
    return "ok"


def test_two_accepts_at_once_leave_one_accepted_offer(
    relocation: Relocation, parties: Parties, make_user: Callable[..., User]
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    candidate = relocation.candidates.get()
    colleague = make_user(parties.receiving, Role.COORDINATOR, username="rcoord2")

    def accept(by: User) -> Callable[[], None]:
        return lambda: services.offer_answer(
            candidate=Candidate.objects.select_related("relocation").get(pk=candidate.pk),
            by=by,
            accepted=True,
            intake_contact=f"Kontakt {by.username}",
        )

    outcomes = _at_once(accept(parties.receiving_coordinator), accept(colleague))
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1, outcomes
    assert not any(o.startswith("error") for o in outcomes), outcomes
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.ACCEPTED
    assert relocation.steps.filter(status=RelocationStatus.ACCEPTED).count() == 1
    assert Candidate.objects.filter(relocation=relocation, offer=OfferStatus.ACCEPTED).count() == 1


def test_decline_and_accept_at_once_leave_one_answer(
    relocation: Relocation, parties: Parties, make_user: Callable[..., User]
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    candidate_id = relocation.candidates.get().pk
    colleague = make_user(parties.receiving, Role.COORDINATOR, username="rcoord3")

    def fresh() -> Candidate:
        return Candidate.objects.select_related("relocation").get(pk=candidate_id)

    outcomes = _at_once(
        lambda: services.offer_answer(
            candidate=fresh(), by=parties.receiving_coordinator, accepted=True, intake_contact="K"
        ),
        lambda: services.offer_answer(
            candidate=fresh(), by=colleague, accepted=False, decline_reason="no_housing"
        ),
    )
    assert outcomes.count("ok") == 1, outcomes
    assert not any(o.startswith("error") for o in outcomes), outcomes
    relocation.refresh_from_db()
    answer = Candidate.objects.get(pk=candidate_id).offer
    expected = RelocationStatus.ACCEPTED if answer == OfferStatus.ACCEPTED else "matching"
    assert relocation.status == expected


def test_double_submitted_handover_request_is_taken_once(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.MOVED)

    def submit() -> None:
        services.handover_request(
            relocation=Relocation.objects.get(pk=relocation.pk),
            by=parties.sending_coordinator,
            closing_summary="Stödet avslutas.",
        )

    outcomes = _at_once(submit, submit)
    assert outcomes.count("ok") == 1, outcomes
    assert "Överlämning begärd" in next(o for o in outcomes if o != "ok")
    assert relocation.steps.filter(status=RelocationStatus.HANDOVER).count() == 1


def test_the_database_never_holds_two_accepted_offers(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.ACCEPTED)
    other = AgencyFactory(police_region=parties.clearing_officer.agency)
    with pytest.raises(IntegrityError), transaction.atomic():
        Candidate.objects.create(
            relocation=relocation,
            municipality=other,
            sending_agency=relocation.sending_agency,
            police_agency=parties.clearing_officer.agency,
            clearance="cleared",
            cleared_at=timezone.now(),
            offer=OfferStatus.ACCEPTED,
            offer_sent_at=timezone.now(),
            intake_contact="K",
        )
