"""Outcomes at follow-up: due the configured months after a case closes (or its support
begins), listed on the responsible worker's start page, recorded once per point, and read by
the register and the statistics as codes and counts (method.selectors.outcome_answers and
outcome_tally)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import AuditAction, AuditEvent, AuditShownCase, User
from cases import services
from cases.hooks import DecisionKind
from cases.models import Case, CaseStatus
from devdata.factories import delegate
from method import services as method_services
from method.followup import months_after
from method.models import FollowUpOutcome
from method.selectors import outcome_answers, outcome_tally, outcomes_due_for

pytestmark = pytest.mark.django_db

ANSWERS = {
    "stable_housing": "yes",
    "work_or_education": "no",
    "new_crime_known": "no",
    "substance_use": "unknown",
    "in_contact": "yes",
}


def closed_ago(case: Case, by: User, days: int) -> Case:
    services.case_change_status(case=case, to_status=CaseStatus.DROPPED_OUT, by=by, reason="x")
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=days))
    case.refresh_from_db()
    return case


def test_months_after_keeps_to_the_month() -> None:
    assert months_after(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert months_after(date(2025, 1, 15), 12) == date(2026, 1, 15)
    assert months_after(date(2025, 3, 31), -1) == date(2025, 2, 28)


def test_outcomes_come_due_on_the_start_page_and_go_when_recorded(
    case: Case, worker: User, colleague: User, login: Callable[[User], Client]
) -> None:
    closed_ago(case, worker, 200)
    assert [(p.case, p.months) for p in outcomes_due_for(worker)] == [(case, 6)]
    assert outcomes_due_for(colleague) == []  # not responsible
    client = login(worker)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="outcomes-due"' in home
    assert f"{reverse('method:outcome', args=[case.pk])}?manader=6" in home
    listed = AuditShownCase.objects.filter(case_id=case.pk, event__action=AuditAction.CASE_LIST)
    assert listed.exists()

    url = f"{reverse('method:outcome', args=[case.pk])}?manader=6"
    assert client.get(url).status_code == 200
    incomplete = client.post(url, {**ANSWERS, "in_contact": ""})
    assert incomplete.status_code == 400
    assert client.post(url, ANSWERS).status_code == 302
    outcome = FollowUpOutcome.objects.get()
    assert (outcome.months, outcome.anchor, outcome.recorded_by) == (6, "closed", worker)
    assert outcome.due_on == months_after(timezone.localdate(case.closed_at), 6)
    assert AuditEvent.objects.filter(action=AuditAction.OUTCOME_RECORD, reason="6").exists()
    assert outcomes_due_for(worker) == []
    assert 'data-testid="outcomes-due"' not in client.get(reverse("home")).content.decode()


def test_a_point_not_yet_come_or_already_recorded_is_refused(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    closed_ago(case, worker, 200)
    with pytest.raises(ValidationError, match="inte aktuell"):
        method_services.outcome_record(case=case, by=worker, months=12, **ANSWERS)
    method_services.outcome_record(case=case, by=worker, months=6, **ANSWERS)
    with pytest.raises(ValidationError, match="inte aktuell"):
        method_services.outcome_record(case=case, by=worker, months=6, **ANSWERS)
    client = login(worker)
    assert client.get(f"{reverse('method:outcome', args=[case.pk])}?manader=12").status_code == 404


def test_the_points_and_their_start_are_configurable(
    settings: Any, make_case: Callable[..., Case], worker: User
) -> None:
    settings.AVHOPP_OUTCOME_MONTHS = [3, 9]
    settings.AVHOPP_OUTCOME_FROM = "support"
    case = make_case(worker)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.INTERVENTIONS, first_support_at=timezone.now() - timedelta(days=100)
    )
    assert [p.months for p in outcomes_due_for(worker)] == [3]
    case.refresh_from_db()
    method_services.outcome_record(case=case, by=worker, months=3, **ANSWERS)
    assert FollowUpOutcome.objects.get().anchor == "support"


def test_the_register_and_the_statistics_read_the_outcomes_as_codes(
    case: Case,
    worker: User,
    outsider: User,
    make_case: Callable[..., Case],
) -> None:
    closed_ago(case, worker, 800)
    for months in (6, 12, 24):
        method_services.outcome_record(case=case, by=worker, months=months, **ANSWERS)
    delegate(outsider, DecisionKind.CLOSURE)
    foreign = closed_ago(make_case(outsider), outsider, 200)
    method_services.outcome_record(
        case=foreign, by=outsider, months=6, **{**ANSWERS, "stable_housing": "no"}
    )
    read = outcome_answers([case.pk])
    assert [(o.case_id, o.months, o.anchor) for o in read] == [
        (case.pk, 6, "closed"),
        (case.pk, 12, "closed"),
        (case.pk, 24, "closed"),
    ]
    assert all(o.answers == ANSWERS for o in read)
    now = timezone.now()
    day = timedelta(days=1)
    mine = outcome_tally(Case.objects.filter(owning_agency=worker.agency), now - day, now + day)
    assert [(t.months, t.recorded, t.yes) for t in mine] == [
        (months, 1, {**dict.fromkeys(ANSWERS, 0), "stable_housing": 1, "in_contact": 1})
        for months in (6, 12, 24)
    ]
    both = outcome_tally(Case.objects.all(), now - day, now + day)
    assert [(t.months, t.recorded, t.yes["stable_housing"]) for t in both] == [
        (6, 2, 1),
        (12, 1, 1),
        (24, 1, 1),
    ]
    # Every configured point is counted, none recorded before yesterday.
    earlier = outcome_tally(Case.objects.all(), now - 2 * day, now - day)
    assert [(t.label, t.recorded) for t in earlier] == [
        ("6 månader efter avslut", 0),
        ("12 månader efter avslut", 0),
        ("24 månader efter avslut", 0),
    ]
