"""Shared by the follow-up tests (tests/test_followup_*.py, tests/test_register_*.py): cases
in two municipalities taken through the real services to support, housing and an ending."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from avhopp.models import User
from cases import services
from cases.models import Case, CaseStatus, EndReason, InterventionKind
from devdata.factories import ongoing_intervention

PATH = [CaseStatus.INITIAL_ASSESSMENT, CaseStatus.INVESTIGATION, CaseStatus.INTERVENTIONS]


def supported(case: Case, by: User, *, housing_in: int | None = 3) -> Case:
    """To Insatser (the first support decision), with housing `housing_in` days after."""
    for status in PATH:
        services.case_change_status(case=case, to_status=status, by=by)
    if housing_in is not None:
        ongoing_intervention(
            case,
            by=by,
            kind=InterventionKind.EMERGENCY_HOUSING,
            provider_name="Jourboendet",
            goal="Tak över huvudet.",
            start_date=timezone.localdate(case.opened_at) + timedelta(days=housing_in),
        )
    return case


def ended(case: Case, by: User, status: CaseStatus, reason: EndReason) -> Case:
    services.case_change_status(
        case=case, to_status=status, by=by, reason="Se journalen.", end_reason=reason
    )
    case.refresh_from_db()
    return case


def cases_in(
    make_case: Callable[..., Case], by: User, count: int, *, opened_days_ago: int = 30
) -> list[Case]:
    """Cases first contacted `opened_days_ago` days ago."""
    cases = [make_case(by, first_name=f"Person{i}") for i in range(count)]
    opened = timezone.now() - timedelta(days=opened_days_ago)
    Case.objects.filter(pk__in=[case.pk for case in cases]).update(opened_at=opened)
    for case in cases:
        case.opened_at = opened
    return cases
