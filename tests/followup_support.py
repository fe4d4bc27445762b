"""Shared by the follow-up tests (tests/test_followup_*.py, tests/test_register_*.py): cases
in two municipalities taken through the real services to support, housing, an ending and
outcomes at follow-up."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from avhopp.models import User
from cases.models import Case, CaseStatus, EndReason, InterventionKind
from devdata.factories import advance, ongoing_intervention
from method import services as method_services
from register.models import RegisterRecord

PATH = [CaseStatus.INITIAL_ASSESSMENT, CaseStatus.INVESTIGATION, CaseStatus.INTERVENTIONS]


def supported(case: Case, by: User, *, housing_in: int | None = 3) -> Case:
    """To Insatser (the first support decision) through the checklist's required steps, with
    housing `housing_in` days after."""
    for status in PATH:
        advance(case, by, status)
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
    advance(case, by, status, reason="Se journalen.", end_reason=reason)
    return case


ANSWERS = {
    "stable_housing": "yes",
    "work_or_education": "no",
    "new_crime_known": "no",
    "substance_use": "unknown",
    "in_contact": "yes",
}


def followed_up(case: Case, by: User, *months: int, **answers: str) -> Case:
    """Dropped out 800 days ago, with outcomes recorded at the follow-up points `months`
    (method.services); `answers` change some of ANSWERS."""
    if case.status != CaseStatus.DROPPED_OUT:
        case = ended(case, by, CaseStatus.DROPPED_OUT, EndReason.PERSON_LEFT)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=800))
    case.refresh_from_db()
    for point in months:
        method_services.outcome_record(case=case, by=by, months=point, **{**ANSWERS, **answers})
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


COUNTIES = ["Stockholm", "Skåne", "Västra Götaland", "Norrbotten", "Uppsala"]


def seed_register(count: int, *, spread: int = 3, seed: int = 7) -> None:
    """Records with a few common and some rare combinations of the quasi-identifiers."""
    rng = random.Random(seed)
    RegisterRecord.objects.bulk_create(
        RegisterRecord(
            pseudonym=f"{rng.getrandbits(256):064x}",
            case_key=f"{index:064x}",
            region=rng.choice(COUNTIES[:spread]),
            age_band=rng.choice(["18-20", "21-24", "25-29", "30-39"][:spread]),
            gender=rng.choice(["male", "female"]),
            opened_quarter=f"{rng.choice([2023, 2024])}Q{rng.randint(1, 4)}",
            status="closed",
            ended_quarter="2025Q1",
            outcome="goals_met",
            interventions=[{"kind": "work", "start": "2024Q1", "end": ""}],
            digest="x",
        )
        for index in range(count)
    )
