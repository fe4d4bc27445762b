"""Decisions under delegation: support, closing a case and requesting a relocation are taken
only by someone the municipality's delegation order names for that kind of decision, and
the decision-maker and the delegation reference are recorded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases import services
from cases.hooks import DecisionKind
from cases.models import Case, CaseStatus, CaseStatusChange, Intervention
from devdata.factories import advance, delegate, settle_required_steps
from method import services as method_services
from method.models import DecisionRecord, Delegation
from relocations.models import Relocation
from tests.relocation_support import relocation_consent
from tests.relocation_support import request as request_relocation

pytestmark = pytest.mark.django_db

OUTSIDE = "ligger utanför din delegering"


def test_closing_without_delegation_is_refused_with_a_message(case: Case, colleague: User) -> None:
    with pytest.raises(ValidationError, match=OUTSIDE):
        services.case_change_status(
            case=case, to_status=CaseStatus.DROPPED_OUT, by=colleague, reason="Avbröt"
        )
    case.refresh_from_db()
    assert case.status == CaseStatus.REPORTED
    assert not DecisionRecord.objects.exists()
    assert not CaseStatusChange.objects.filter(to_status=CaseStatus.DROPPED_OUT).exists()


def test_closing_within_delegation_records_the_decision(case: Case, worker: User) -> None:
    services.case_change_status(
        case=case, to_status=CaseStatus.DROPPED_OUT, by=worker, reason="Avbröt"
    )
    record = DecisionRecord.objects.get()
    delegation = Delegation.objects.get(user=worker, kind=DecisionKind.CLOSURE)
    assert (record.kind, record.decided_by, record.delegation) == (
        DecisionKind.CLOSURE,
        worker,
        delegation,
    )
    assert record.delegation_reference == delegation.reference
    change = CaseStatusChange.objects.get(to_status=CaseStatus.DROPPED_OUT)
    assert (record.subject_type, record.subject_id) == ("cases.CaseStatusChange", str(change.pk))
    event = AuditEvent.objects.get(action=AuditAction.DECISION)
    assert (event.case_id, event.user_id, event.reason) == (case.pk, worker.pk, "closure")


def test_moving_into_support_is_a_support_decision(
    case: Case, worker: User, colleague: User
) -> None:
    advance(case, worker, CaseStatus.INITIAL_ASSESSMENT)
    advance(case, worker, CaseStatus.INVESTIGATION)
    settle_required_steps(case, worker)
    with pytest.raises(ValidationError, match=OUTSIDE):
        services.case_change_status(case=case, to_status=CaseStatus.INTERVENTIONS, by=colleague)
    services.case_change_status(case=case, to_status=CaseStatus.INTERVENTIONS, by=worker)
    assert DecisionRecord.objects.get().kind == DecisionKind.SUPPORT


def test_an_intervention_with_a_decision_date_is_a_support_decision(
    case: Case, worker: User, colleague: User
) -> None:
    today = timezone.localdate()
    planned = services.intervention_create(
        case=case, by=colleague, kind="work", provider_name="Arbetsförmedlingen"
    )
    assert not DecisionRecord.objects.exists()  # planning is no decision
    with pytest.raises(ValidationError, match=OUTSIDE):
        services.intervention_update(intervention=planned, by=colleague, decision_date=today)
    assert Intervention.objects.get(pk=planned.pk).decision_date is None
    with pytest.raises(ValidationError, match=OUTSIDE):
        services.intervention_create(
            case=case, by=colleague, kind="work", provider_name="X", decision_date=today
        )
    services.intervention_update(intervention=planned, by=worker, decision_date=today)
    record = DecisionRecord.objects.get()
    assert (record.kind, record.subject_id) == (DecisionKind.SUPPORT, str(planned.pk))
    # Saving it again without moving the date is no new decision.
    services.intervention_update(intervention=planned, by=colleague, goal="Arbete")
    assert DecisionRecord.objects.count() == 1


def test_the_intervention_form_shows_the_refusal(
    case: Case, colleague: User, login: Callable[[User], Client]
) -> None:
    from tests.access_support import give_outside_reason

    client = login(colleague)
    give_outside_reason(client, case)
    response = client.post(
        reverse("cases:intervention_create", args=[case.pk]),
        {
            "kind": "work",
            "provider_name": "Arbetsförmedlingen",
            "status": "planned",
            "decision_date": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    assert OUTSIDE in response.content.decode()
    assert not Intervention.objects.exists()


def test_requesting_a_relocation_needs_a_relocation_delegation(
    case: Case,
    worker: User,
    officer: User,
    make_user: Callable[..., User],
    national_agency: Agency,
) -> None:
    from tests.relocation_support import assessed

    assessed(case, officer)
    undelegated = make_user(case.owning_agency, Role.COORDINATOR)
    consent = relocation_consent(case, undelegated, national_agency)
    with pytest.raises(ValidationError, match=OUTSIDE):
        request_relocation(case, undelegated, consent)
    assert not Relocation.objects.exists()
    delegate(undelegated, DecisionKind.RELOCATION, reference="DO 2025 p. 7.1")
    relocation = request_relocation(case, undelegated, consent)
    record = DecisionRecord.objects.get()
    assert (record.kind, record.delegation_reference) == (DecisionKind.RELOCATION, "DO 2025 p. 7.1")
    assert record.subject_id == str(relocation.pk)


def test_an_ended_or_expired_or_foreign_delegation_does_not_count(
    case: Case, colleague: User, agency_admin: User, make_user: Callable[..., User]
) -> None:
    today = timezone.localdate()
    expired = method_services.delegation_create(
        by=agency_admin,
        user=colleague,
        kind=DecisionKind.CLOSURE,
        reference="DO p. 3",
        valid_from=today - timedelta(days=30),
        valid_until=today - timedelta(days=1),
    )
    future = method_services.delegation_create(
        by=agency_admin,
        user=colleague,
        kind=DecisionKind.CLOSURE,
        reference="DO p. 3",
        valid_from=today + timedelta(days=1),
    )
    wrong_kind = method_services.delegation_create(
        by=agency_admin,
        user=colleague,
        kind=DecisionKind.SUPPORT,
        reference="DO p. 4",
        valid_from=today,
    )
    for _delegation in (expired, future, wrong_kind):
        with pytest.raises(ValidationError, match=OUTSIDE):
            services.case_change_status(
                case=case, to_status=CaseStatus.DROPPED_OUT, by=colleague, reason="x"
            )
    current = method_services.delegation_create(
        by=agency_admin,
        user=colleague,
        kind=DecisionKind.CLOSURE,
        reference="DO p. 3",
        valid_from=today,
    )
    method_services.delegation_end(by=agency_admin, delegation=current)
    with pytest.raises(ValidationError, match=OUTSIDE):
        services.case_change_status(
            case=case, to_status=CaseStatus.DROPPED_OUT, by=colleague, reason="x"
        )


def test_only_the_agency_admin_delegates_and_only_to_its_own_staff(
    agency_admin: User,
    worker: User,
    outsider: User,
    make_user: Callable[..., User],
    other_municipality: Agency,
) -> None:
    from django.core.exceptions import PermissionDenied

    today = timezone.localdate()
    fields = {"kind": DecisionKind.CLOSURE, "reference": "DO p. 3", "valid_from": today}
    with pytest.raises(PermissionDenied):
        method_services.delegation_create(by=worker, user=worker, **fields)
    with pytest.raises(ValidationError, match="egna kommunen"):
        method_services.delegation_create(by=agency_admin, user=outsider, **fields)
    with pytest.raises(ValidationError, match="egna kommunen"):
        method_services.delegation_create(by=agency_admin, user=agency_admin, **fields)
    other_admin = make_user(other_municipality, Role.AGENCY_ADMIN)
    delegation = Delegation.objects.filter(user=worker).first()
    with pytest.raises(ValidationError):
        method_services.delegation_end(by=other_admin, delegation=delegation)


def test_the_delegation_page(
    agency_admin: User, colleague: User, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(agency_admin)
    url = reverse("method:delegations")
    page = client.get(url)
    assert page.status_code == 200
    today = timezone.localdate()
    backwards = client.post(
        url,
        {
            "user": colleague.pk,
            "kind": "closure",
            "reference": "DO p. 3",
            "valid_from": today.isoformat(),
            "valid_until": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert backwards.status_code == 400
    assert "kan inte sluta innan den börjar" in backwards.content.decode()
    created = client.post(
        url,
        {
            "user": colleague.pk,
            "kind": "closure",
            "reference": "DO p. 3",
            "valid_from": today.isoformat(),
        },
    )
    assert created.status_code == 302
    delegation = Delegation.objects.get(user=colleague)
    assert delegation.created_by == agency_admin
    ended = client.post(reverse("method:delegation_end", args=[delegation.pk]))
    assert ended.status_code == 302
    delegation.refresh_from_db()
    assert delegation.ended_at is not None
    assert login(worker).get(url).status_code == 403
