"""Shared by the tests of what other apps do with the method's data (the register, gallring,
the person's extracts): a case's method work through the real services."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from avhopp.models import User
from cases.models import Case
from method import services
from method.models import Agreement, CaseStep, StepState
from method.pdf import agreement_render
from method.services import ConditionSpec


def method_work(case: Case, by: User, *, documents: bool = False) -> list[Agreement]:
    """An agreement revised once (the revision supersedes it), a drug test on each, a
    meeting, a breach of a condition in words, notes, and a waived step; with `documents`
    both agreements' PDFs in the document store. The older agreement first."""
    today = timezone.localdate()
    first = services.agreement_create(
        case=case,
        by=by,
        start_date=today - timedelta(days=60),
        review_date=today + timedelta(days=30),
        conditions=[ConditionSpec("drug_tests", interval_days=14)],
    )
    services.agreement_entry_add(
        agreement=first,
        case=case,
        by=by,
        kind="drug_test",
        occurred_on=today - timedelta(days=30),
        result="positive",
        note="Provet togs på mottagningen.",
    )
    second = services.agreement_create(
        case=case,
        by=by,
        start_date=today,
        review_date=today + timedelta(days=90),
        conditions=[
            ConditionSpec("other", details="Inte vistas i Norrort."),
            ConditionSpec("meetings", interval_days=7),
        ],
    )
    services.agreement_entry_add(
        agreement=second,
        case=case,
        by=by,
        kind="breach",
        occurred_on=today,
        condition=second.conditions.get(kind="other"),
        consequence="warning",
        note="Sågs i Norrort.",
    )
    services.agreement_entry_add(
        agreement=second,
        case=case,
        by=by,
        kind="meeting",
        occurred_on=today + timedelta(days=7),
    )
    step = CaseStep.objects.filter(checklist__case=case, state=StepState.OPEN).first()
    services.step_waive(case_step=step, case=case, by=by, reason="Bara en aktör är inblandad.")
    if documents:
        for agreement in (first, second):
            agreement_render(agreement_id=agreement.pk)
    return [first, second]
