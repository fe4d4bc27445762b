"""The relocation's state machine through its services: each step's preconditions, every
transition refused from the wrong step with a message, the deadlines, the handover, and the
audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases.models import Case, CaseShare
from cases.policy import CasePolicy
from cases.services import case_share, consent_create, consent_withdraw
from relocations import services
from relocations.calendar import add_working_days, one_month_after
from relocations.models import (
    Candidate,
    OfferStatus,
    Relocation,
    RelocationStatus,
)
from relocations.selectors import relocation_figures
from relocations.tasks import expire_answers
from tests.conftest import AgencyFactory
from tests.relocation_support import (
    Parties,
    advance,
    assessed,
    relocation_consent,
    request,
)

pytestmark = pytest.mark.django_db


# --- The request ----------------------------------------------------------------------------


def test_request_needs_a_current_relocation_consent(
    case: Case, coordinator: User, officer: User, national_agency: Agency, police_agency: Agency
) -> None:
    assessed(case, officer)
    consent = relocation_consent(case, coordinator, national_agency)
    consent_withdraw(consent=consent, by=coordinator, case=case)
    consent.refresh_from_db()
    with pytest.raises(ValidationError, match="samtycke"):
        request(case, coordinator, consent)
    assert not Relocation.objects.exists()


def test_request_needs_a_threat_assessment_under_review(
    case: Case, coordinator: User, officer: User, national_agency: Agency
) -> None:
    consent = relocation_consent(case, coordinator, national_agency)
    with pytest.raises(ValidationError, match="hotbedömning"):
        request(case, coordinator, consent)
    assessed(case, officer, review_in=-1)
    with pytest.raises(ValidationError, match="hotbedömning"):
        request(case, coordinator, consent)


def test_request_only_by_the_cases_coordinator(
    case: Case, worker: User, coordinator: User, officer: User, national_agency: Agency
) -> None:
    assessed(case, officer)
    consent = relocation_consent(case, coordinator, national_agency)
    with pytest.raises(PermissionDenied):
        request(case, worker, consent)


def test_one_open_relocation_per_case(relocation: Relocation, coordinator: User) -> None:
    with pytest.raises(ValidationError, match="redan en pågående"):
        request(relocation.case, coordinator, relocation.consent)
    # And the database holds to it whatever calls it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Relocation.objects.create(
            **{
                f.attname: getattr(relocation, f.attname)
                for f in Relocation._meta.concrete_fields
                if f.name != "id"
            }
        )


def test_protected_housing_needs_an_ivo_permit(
    case: Case, coordinator: User, officer: User, national_agency: Agency
) -> None:
    assessed(case, officer)
    consent = relocation_consent(case, coordinator, national_agency)
    with pytest.raises(ValidationError):
        request(case, coordinator, consent, housing_need="protected")
    relocation = request(case, coordinator, consent, housing_need="protected", ivo_permit="IVO 1.2")
    assert relocation.ivo_permit == "IVO 1.2"


def test_handover_ends_the_sending_municipalitys_consents(
    relocation: Relocation, parties: Parties, police_agency: Agency
) -> None:
    """A consent lets the municipality that asked for it share: the new owner asks anew."""
    person = relocation.case.individual
    sending = list(person.consents.filter(withdrawn_at__isnull=True).values_list("pk", flat=True))
    assert sending
    relocation = advance(relocation, parties, RelocationStatus.HANDED_OVER)
    assert not person.consents.filter(withdrawn_at__isnull=True).exists()
    ended = AuditEvent.objects.filter(
        action=AuditAction.CONSENT_WITHDRAW, reason="case_transferred", case_id=relocation.case_id
    )
    assert sorted(int(pk) for pk in ended.values_list("object_id", flat=True)) == sorted(sending)
    # The new owner records its own consent and shares on it.
    case = Case.objects.get(pk=relocation.case_id)
    consent = consent_create(
        individual=person,
        case=case,
        by=parties.receiving_coordinator,
        recipient=police_agency,
        given_on=timezone.localdate(),
        valid_until=timezone.localdate() + timedelta(days=90),
        document_reference="NY-1",
        scope_threat_level=True,
    )
    case_share(case=case, agency=police_agency, by=parties.receiving_coordinator, consent=consent)
    assert CaseShare.objects.get(case=case, revoked_at__isnull=True).consent_id == consent.pk


# --- Matching, clearance, offer -------------------------------------------------------------


def test_whole_journey_moves_the_case(
    relocation: Relocation, parties: Parties, officer: User, coordinator: User, worker: User
) -> None:
    share = CaseShare.objects.get(case=relocation.case) if CaseShare.objects.exists() else None
    relocation = advance(relocation, parties, RelocationStatus.HANDED_OVER)
    case = Case.objects.get(pk=relocation.case_id)
    assert case.owning_agency_id == parties.receiving.pk
    assert case.responsible_id == parties.receiving_coordinator.pk
    assert not CasePolicy.visible_to(worker).filter(pk=case.pk).exists()
    assert CasePolicy.visible_to(parties.receiving_coordinator).filter(pk=case.pk).exists()
    assert share is None or CaseShare.objects.get(pk=share.pk).revoked_at is not None
    assert relocation.closed_at is not None
    steps = list(relocation.steps.values_list("status", flat=True))
    assert steps == [
        "matching", "clearance", "offered", "accepted", "arranged", "moved", "handover",
        "handed_over",
    ]  # fmt: skip
    transitions = AuditEvent.objects.filter(
        action=AuditAction.RELOCATION_TRANSITION, case_id=case.pk
    )
    assert transitions.count() >= len(steps)
    figures = relocation_figures(relocation)
    assert figures.request_to_move == 0
    assert set(figures.days_per_step) >= {"Matchning", "Flyttad"}


def test_never_the_sending_or_an_avoided_municipality(
    relocation: Relocation, parties: Parties, municipality: Agency, coordinator: User
) -> None:
    with pytest.raises(ValidationError, match="sändande"):
        services.candidates_propose(
            relocation=relocation, by=parties.national, municipalities=[municipality]
        )
    services.avoided_place_add(
        relocation=relocation, by=coordinator, place=parties.receiving, reason="Känd konflikt"
    )
    with pytest.raises(ValidationError, match="inte får placeras"):
        services.candidates_propose(
            relocation=relocation, by=parties.national, municipalities=[parties.receiving]
        )
    skane = AgencyFactory(name="Malmö stad", municipality_code="1280", region="Skåne")
    with pytest.raises(ValidationError, match="inte får placeras"):
        services.candidates_propose(
            relocation=relocation, by=parties.national, municipalities=[skane]
        )
    # The database refuses the sending municipality too.
    with pytest.raises(IntegrityError), transaction.atomic():
        Candidate.objects.create(
            relocation=relocation,
            municipality=municipality,
            sending_agency=municipality,
            police_agency=parties.clearing_officer.agency,
        )


def test_one_to_three_candidates(relocation: Relocation, parties: Parties) -> None:
    many = [AgencyFactory(police_region=parties.clearing_officer.agency) for _ in range(4)]
    with pytest.raises(ValidationError, match="en till tre"):
        services.candidates_propose(relocation=relocation, by=parties.national, municipalities=many)
    with pytest.raises(ValidationError, match="en till tre"):
        services.candidates_propose(relocation=relocation, by=parties.national, municipalities=[])


def test_a_veto_needs_a_reason_and_all_vetoes_return_to_matching(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.CLEARANCE)
    candidate = relocation.candidates.get()
    with pytest.raises(ValidationError, match="vetot"):
        services.clearance_answer(candidate=candidate, by=parties.clearing_officer, cleared=False)
    services.clearance_answer(
        candidate=candidate, by=parties.clearing_officer, cleared=False, reason="Motpart bor där"
    )
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.MATCHING
    with pytest.raises(ValidationError, match="Bara en klarerad"):
        services.offer_send(candidate=candidate, by=parties.national)


def test_only_the_candidates_police_region_clears(
    relocation: Relocation, parties: Parties, officer: User
) -> None:
    advance(relocation, parties, RelocationStatus.CLEARANCE)
    with pytest.raises(PermissionDenied):
        services.clearance_answer(candidate=relocation.candidates.get(), by=officer, cleared=True)


def test_decline_needs_a_reason_and_returns_to_matching(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    candidate = relocation.candidates.get()
    with pytest.raises(ValidationError, match="skäl"):
        services.offer_answer(candidate=candidate, by=parties.receiving_coordinator, accepted=False)
    with pytest.raises(ValidationError, match="kontakt"):
        services.offer_answer(candidate=candidate, by=parties.receiving_coordinator, accepted=True)
    services.offer_answer(
        candidate=candidate,
        by=parties.receiving_coordinator,
        accepted=False,
        decline_reason="no_housing",
    )
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.MATCHING
    assert relocation.receiving_agency is None


@override_settings(AVHOPP_OFFER_ANSWER_WORKING_DAYS=2)
def test_offer_unanswered_in_working_days_returns_to_matching(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    candidate = relocation.candidates.get()
    assert candidate.offer_due_on == add_working_days(timezone.localdate(), 2)
    assert expire_answers.apply().get() == 0  # not yet
    Candidate.objects.filter(pk=candidate.pk).update(
        offer_due_on=timezone.localdate() - timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="Svarstiden"):
        services.offer_answer(
            candidate=candidate, by=parties.receiving_coordinator, accepted=True, intake_contact="X"
        )
    candidate.refresh_from_db()
    relocation.refresh_from_db()
    assert candidate.offer == OfferStatus.EXPIRED  # the expiry was kept, the answer refused
    assert relocation.status == RelocationStatus.MATCHING


def test_the_periodic_task_expires_offers_and_disputes_handovers(
    relocation: Relocation, parties: Parties, case: Case, make_case: Callable[..., Case]
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    Candidate.objects.filter(relocation=relocation).update(
        offer_due_on=timezone.localdate() - timedelta(days=1)
    )
    assert expire_answers.apply().get() == 1
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.MATCHING
    assert relocation.candidates.get().offer == OfferStatus.EXPIRED


def test_unanswered_handover_becomes_disputed_and_ivo_is_recorded(
    relocation: Relocation, parties: Parties, coordinator: User
) -> None:
    advance(relocation, parties, RelocationStatus.HANDOVER)
    relocation.refresh_from_db()
    assert relocation.handover_due_on == one_month_after(timezone.localdate())
    Relocation.objects.filter(pk=relocation.pk).update(
        handover_due_on=timezone.localdate() - timedelta(days=1)
    )
    assert expire_answers.apply().get() == 1
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.DISPUTED
    with pytest.raises(ValidationError, match="diarienummer"):
        services.ivo_record(relocation=relocation, by=coordinator, reference=" ")
    services.ivo_record(
        relocation=relocation, by=coordinator, reference="IVO 8.5-1234/2026", outcome="Beviljad"
    )
    relocation.refresh_from_db()
    assert relocation.ivo_reference == "IVO 8.5-1234/2026"


def test_refused_handover_is_disputed(relocation: Relocation, parties: Parties) -> None:
    advance(relocation, parties, RelocationStatus.HANDOVER)
    with pytest.raises(ValidationError, match="avböjs"):
        services.handover_answer(
            relocation=relocation, by=parties.receiving_coordinator, accepted=False
        )
    services.handover_answer(
        relocation=relocation,
        by=parties.receiving_coordinator,
        accepted=False,
        reason="Starkast anknytning till sändande kommun",
    )
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.DISPUTED


def test_closing_summary_may_not_name_the_destination(
    relocation: Relocation, parties: Parties, coordinator: User
) -> None:
    advance(relocation, parties, RelocationStatus.MOVED)
    with pytest.raises(ValidationError, match="vart personen"):
        services.handover_request(
            relocation=relocation,
            by=coordinator,
            closing_summary=f"Flyttat till {parties.receiving.name.split()[0]}.",
        )


# --- Every transition from the wrong step ---------------------------------------------------


def _attempts(relocation: Relocation, parties: Parties) -> dict[str, Callable[[], object]]:
    candidate = relocation.candidates.first()
    today = timezone.localdate()
    return {
        "propose": lambda: services.candidates_propose(
            relocation=relocation,
            by=parties.national,
            municipalities=[AgencyFactory(police_region=parties.clearing_officer.agency)],
        ),
        "place": lambda: services.placement_record(
            relocation=relocation,
            by=parties.receiving_coordinator,
            housing="long_term",
            address="Gata 1",
            move_date=today,
        ),
        "moved": lambda: services.move_confirm(
            relocation=relocation, by=parties.receiving_coordinator, moved_on=today
        ),
        "handover": lambda: services.handover_request(
            relocation=relocation, by=parties.sending_coordinator, closing_summary="Klart."
        ),
        "handover_answer": lambda: services.handover_answer(
            relocation=relocation, by=parties.receiving_coordinator, accepted=True
        ),
        "ivo": lambda: services.ivo_record(
            relocation=relocation, by=parties.sending_coordinator, reference="IVO 1"
        ),
        "offer": lambda: services.offer_send(candidate=candidate, by=parties.national),
        "answer": lambda: services.offer_answer(
            candidate=candidate,
            by=parties.receiving_coordinator,
            accepted=True,
            intake_contact="X",
        ),
    }


# The steps each transition may start from (any other is refused with a message).
ALLOWED_FROM = {
    "propose": {"matching"},
    "place": {"accepted"},
    "moved": {"arranged"},
    "handover": {"moved"},
    "handover_answer": {"handover"},
    "ivo": {"disputed"},
    "offer": {"matching", "clearance"},
    "answer": {"offered"},
}


@pytest.mark.parametrize(
    "status",
    [
        "matching",
        "clearance",
        "offered",
        "accepted",
        "arranged",
        "moved",
        "handover",
        "handed_over",
    ],
)
def test_every_transition_from_a_wrong_step_is_refused_with_a_message(
    status: str, relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus(status))
    candidate = relocation.candidates.first()
    for name, attempt in _attempts(relocation, parties).items():
        if status in ALLOWED_FROM[name] or (name in {"offer", "answer"} and not candidate):
            continue  # allowed here, or before any candidate there is nothing to offer
        before = relocation.steps.count()
        try:
            with transaction.atomic():
                attempt()
        except (ValidationError, PermissionDenied) as refused:
            # Not a database error: a refusal the user can read (or not theirs to take).
            assert isinstance(refused, PermissionDenied) or refused.messages, name
        else:
            if name == "offer" and status in {"matching", "clearance"}:
                continue
            pytest.fail(f"{name} from {status} was allowed")
        assert relocation.steps.count() == before, name


def test_abort_from_any_open_step_with_a_reason(
    relocation: Relocation, parties: Parties, coordinator: User
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    with pytest.raises(ValidationError, match="skäl"):
        services.relocation_abort(relocation=relocation, by=coordinator, reason="bored")
    services.relocation_abort(relocation=relocation, by=coordinator, reason="person_declined")
    relocation.refresh_from_db()
    assert relocation.status == RelocationStatus.ABORTED
    assert relocation.candidates.get().offer == OfferStatus.EXPIRED
    with pytest.raises(ValidationError, match="Avbruten"):
        services.relocation_abort(relocation=relocation, by=coordinator, reason="returned")
    # A new request may follow an aborted one.
    request(relocation.case, coordinator, relocation.consent)


def test_destination_reads_are_audited_with_the_case(
    relocation: Relocation, parties: Parties, coordinator: User, worker: User
) -> None:
    from relocations.selectors import destination_of

    advance(relocation, parties, RelocationStatus.ARRANGED)
    relocation.refresh_from_db()
    seen = destination_of(coordinator, relocation)
    assert seen is not None and seen.address is None and seen.name == parties.receiving.name
    full = destination_of(parties.national, relocation)
    assert full is not None and full.address
    events = AuditEvent.objects.filter(
        action=AuditAction.DESTINATION_VIEW, case_id=relocation.case_id
    )
    assert {e.user_id for e in events} == {coordinator.pk, parties.national.pk}


def test_relocation_events_by_other_parties_do_not_name_them(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.ACCEPTED)
    events = AuditEvent.objects.filter(case_id=relocation.case_id)
    assert not events.filter(agency_name=parties.receiving.name).exists()
    assert not events.filter(agency_name=parties.clearing_officer.agency.name).exists()
    accepted = events.get(reason="accepted")
    assert accepted.agency_id == parties.receiving.pk and accepted.role == Role.COORDINATOR
