"""Case services: transitions, history, first-support time, threat assessments, journal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from avhopp.models import AuditAction, AuditEvent, Role
from cases import services
from cases.models import (
    Case,
    CaseStatus,
    Individual,
    InterventionKind,
    ThreatAssessment,
    ThreatLevel,
)
from devdata.factories import advance
from tests.support import assess_threat

pytestmark = pytest.mark.django_db

FORWARD = [
    CaseStatus.INITIAL_ASSESSMENT,
    CaseStatus.INVESTIGATION,
    CaseStatus.INTERVENTIONS,
    CaseStatus.FOLLOW_UP,
]


def test_a_new_case_starts_reported_with_history_and_grants(case: Case, worker) -> None:
    assert case.status == CaseStatus.REPORTED
    assert case.owning_agency == worker.agency
    assert case.responsible == worker
    assert list(case.status_changes.values_list("to_status", flat=True)) == ["reported"]
    assert worker.has_perm("cases.view_case", case)
    event = AuditEvent.objects.get(action=AuditAction.CASE_CREATE)
    assert (event.case_id, event.user_id) == (case.pk, worker.pk)


def test_the_process_moves_forward_one_step_at_a_time(case: Case, worker) -> None:
    # Each phase's required checklist steps first (method app): see tests/test_method_*.
    for status in FORWARD:
        advance(case, worker, status)
    advance(case, worker, CaseStatus.CLOSED, reason="Klar")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.close_reason == "Klar"
    history = list(case.status_changes.values_list("from_status", "to_status"))
    assert history[-1] == ("follow_up", "closed")
    assert len(history) == 6


@pytest.mark.parametrize(
    "target", [CaseStatus.INVESTIGATION, CaseStatus.INTERVENTIONS, CaseStatus.CLOSED, "nonsense"]
)
def test_skipping_steps_is_refused(case: Case, worker, target: str) -> None:
    with pytest.raises(ValidationError):
        services.case_change_status(case=case, to_status=target, by=worker, reason="x")
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED
    assert case.status_changes.count() == 1


def test_dropping_out_needs_a_reason_and_is_possible_from_any_open_state(
    case: Case, worker
) -> None:
    with pytest.raises(ValidationError):
        services.case_change_status(case=case, to_status=CaseStatus.DROPPED_OUT, by=worker)
    services.case_change_status(
        case=case, to_status=CaseStatus.DROPPED_OUT, by=worker, reason="Avbröt kontakten"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.DROPPED_OUT
    assert case.closed_at is not None


def test_a_finished_case_cannot_move(case: Case, worker) -> None:
    services.case_change_status(case=case, to_status=CaseStatus.DROPPED_OUT, by=worker, reason="x")
    with pytest.raises(ValidationError):
        services.case_change_status(case=case, to_status=CaseStatus.FOLLOW_UP, by=worker)


def test_database_refuses_a_closed_case_without_reason(case: Case) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)


def test_time_to_first_support_is_recorded(case: Case, worker) -> None:
    Case.objects.filter(pk=case.pk).update(opened_at=timezone.now() - timedelta(days=9))
    case.refresh_from_db()
    for status in FORWARD[:3]:
        advance(case, worker, status)
    case.refresh_from_db()
    assert case.days_to_first_support == 9


def test_identity_number_is_unique_in_the_database(case: Case) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Individual.objects.create(
            first_name="Dubbel", last_name="Person", personnummer=case.individual.personnummer
        )


def test_a_person_without_number_gets_a_reserve_identity(worker) -> None:
    person = services.individual_create(by=worker, first_name="Okänd", last_name="Person")
    assert person.personnummer is None
    assert person.reserve_number and person.reserve_number.startswith("R")
    with pytest.raises(IntegrityError), transaction.atomic():
        Individual.objects.create(first_name="Ingen", last_name="Identitet")


def test_birth_date_is_derived_from_the_number(case: Case) -> None:
    person = case.individual
    assert person.birth_date.isoformat() == (
        f"{person.personnummer[:4]}-{person.personnummer[4:6]}-{person.personnummer[6:8]}"
    )


def test_threat_assessment_supersedes_and_sets_the_case_level(case: Case, officer) -> None:
    review = timezone.localdate() + timedelta(days=30)
    assess_threat(case, officer, level=ThreatLevel.LOW, summary="Låg", next_review_date=review)
    assess_threat(
        case,
        officer,
        level=ThreatLevel.SEVERE,
        summary="Allvarlig",
        next_review_date=review,
    )
    case.refresh_from_db()
    assert case.threat_level == ThreatLevel.SEVERE
    assert case.threat_review_due == review
    assert case.threat_assessments.count() == 2
    assert case.threat_assessments.first().level == ThreatLevel.SEVERE


def test_only_police_record_threat_assessments(case: Case, worker) -> None:
    with pytest.raises(PermissionDenied):
        services.threat_assessment_create(
            case=case,
            by=worker,
            level=ThreatLevel.LOW,
            summary="x",
            next_review_date=timezone.localdate() + timedelta(days=1),
        )
    assert not ThreatAssessment.objects.exists()


def test_journal_correction_points_at_the_corrected_entry(case: Case, worker, make_case) -> None:
    entry = services.journal_entry_create(case=case, by=worker, text="Fel datum")
    fix = services.journal_entry_create(case=case, by=worker, text="Rätt datum", corrects=entry)
    assert fix.corrects == entry
    other = make_case(worker, first_name="Annan")
    with pytest.raises(ValidationError):
        services.journal_entry_create(case=other, by=worker, text="x", corrects=entry)


def test_intervention_needs_a_provider_and_sane_dates(case: Case, worker) -> None:
    with pytest.raises(ValidationError):
        services.intervention_create(case=case, by=worker, kind=InterventionKind.WORK)
    today = timezone.localdate()
    with pytest.raises(ValidationError):
        services.intervention_create(
            case=case,
            by=worker,
            kind=InterventionKind.WORK,
            provider_name="Arbetsförmedlingen",
            start_date=today,
            end_date=today - timedelta(days=1),
        )
    assert not case.interventions.exists()


def test_follow_up_overdue_only_while_active(case: Case, worker) -> None:
    item = services.intervention_create(
        case=case,
        by=worker,
        kind=InterventionKind.EDUCATION,
        provider_name="Komvux",
        follow_up_date=timezone.localdate() - timedelta(days=1),
    )
    assert item.follow_up_overdue
    services.intervention_update(intervention=item, by=worker, status="completed")
    assert not item.follow_up_overdue


def test_only_social_workers_and_coordinators_open_cases(officer, worker) -> None:
    person = services.individual_create(by=worker, first_name="A", last_name="B")
    with pytest.raises(PermissionDenied):
        services.case_create(by=officer, individual=person, referral_source="police")
    assert officer.role == Role.POLICE_OFFICER
