"""The audit's smaller findings: private caching, text limits, log date ranges, login lockout,
and fields a user may not change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases.models import (
    TEXT_LIMIT,
    Case,
    CaseStatusChange,
    Intervention,
    InterventionKind,
    JournalEntry,
    LegalBasis,
    ThreatAssessment,
)
from referrals import services as referral_services
from referrals.models import DocumentKind
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


# --- Finding 1: signed-in pages are private and never stored ---------------------------------


def test_signed_in_pages_are_private_and_not_stored(
    login: Callable[[User], Client], worker: User, log_reviewer: User, case: Case
) -> None:
    client = login(worker)
    for url in (reverse("home"), case.get_absolute_url(), reverse("cases:list")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"no-store", "private"} <= _directives(response), url
    export = login(log_reviewer).get(reverse("audit:export"))
    assert export.status_code == 200
    assert {"no-store", "private"} <= _directives(export)


def test_pdf_download_is_private_and_not_stored(
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    monkeypatch.setattr(referral_services, "enqueue_generation", lambda referral_id: True)
    case = make_case(worker, responsible=coordinator)
    referral = referral_services.referral_create(
        case=case,
        by=coordinator,
        kind=DocumentKind.REFERRAL,
        to_agency=police_agency,
        intervention_kind=InterventionKind.PROTECTION,
        reason="Behöver skydd efter avhopp.",
        summary="Personen har lämnat nätverket.",
        contact_person="Karin Kontakt",
        legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
        legal_basis_citation="OSL 10 kap. 2 §, beslut i ärendet",
    )
    referral_services.referral_render(referral_id=referral.pk)
    response = login(coordinator).get(reverse("referrals:download", args=[referral.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"no-store", "private"} <= _directives(response)


def test_anonymous_login_page_is_not_stored_either(client: Client) -> None:
    # Django's login view marks itself never-cached; the page holds a CSRF token.
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "no-store" in _directives(response)


def test_the_answer_that_signs_in_is_private(client: Client, worker: User) -> None:
    response = client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    assert response.status_code == 302
    assert {"no-store", "private"} <= _directives(response)


# --- Finding 2: free text is held to its limit in the forms and in the database -------------

TOO_LONG = "å" * (TEXT_LIMIT + 1)


@pytest.mark.parametrize("field", ["summary", "details"])
def test_threat_assessment_over_the_text_limit_is_refused(
    login: Callable[[User], Client],
    officer: User,
    police_agency: Agency,
    case: Case,
    share_with: Callable[..., Any],
    field: str,
) -> None:
    share_with(case, police_agency)
    data = {
        "level": "low",
        "summary": "Sammanfattning",
        "next_review_date": (timezone.localdate() + timedelta(days=30)).isoformat(),
        field: TOO_LONG,
    }
    url = reverse("cases:threat_create", args=[case.pk])
    response = login(officer).post(url, data)
    assert response.status_code == 400
    assert response.context["form"].has_error(field, "max_length")
    assert not ThreatAssessment.objects.exists()
    data[field] = "å" * TEXT_LIMIT  # the limit itself is allowed
    assert login(officer).post(url, data).status_code == 302
    assert ThreatAssessment.objects.count() == 1


@pytest.mark.parametrize(
    ("route", "data", "field"),
    [
        ("cases:journal_create", {}, "text"),
        ("cases:edit", {}, "motivation_notes"),
        ("cases:edit", {}, "agreement_conditions"),
        ("cases:intervention_create", {"kind": "work", "provider_name": "X"}, "goal"),
        ("cases:intervention_create", {"kind": "work", "provider_name": "X"}, "outcome"),
    ],
)
def test_case_texts_over_the_limit_are_refused(
    login: Callable[[User], Client],
    worker: User,
    case: Case,
    route: str,
    data: dict[str, str],
    field: str,
) -> None:
    if route == "cases:intervention_create":
        data = {**data, "status": "planned"}
    before = (
        JournalEntry.objects.count(),
        Intervention.objects.count(),
        Case.objects.filter(motivation_notes="", agreement_conditions="").count(),
    )
    response = login(worker).post(reverse(route, args=[case.pk]), {**data, field: TOO_LONG})
    assert response.status_code == 400
    # A note sent back stands open on the case page, which holds other forms beside it.
    form = "journal_form" if route == "cases:journal_create" else "form"
    assert response.context[form].has_error(field, "max_length")
    after = (
        JournalEntry.objects.count(),
        Intervention.objects.count(),
        Case.objects.filter(motivation_notes="", agreement_conditions="").count(),
    )
    assert after == before


def _rejected(save: Callable[[], object]) -> bool:
    try:
        with transaction.atomic():
            save()
    except IntegrityError:
        return True
    return False


def test_database_refuses_over_long_texts(worker: User, officer: User, case: Case) -> None:
    review = timezone.localdate() + timedelta(days=30)

    def saves(text: str) -> list[Callable[[], object]]:
        return [
            lambda: Case.objects.filter(pk=case.pk).update(motivation_notes=text),
            lambda: Case.objects.filter(pk=case.pk).update(agreement_conditions=text),
            lambda: Case.objects.filter(pk=case.pk).update(close_reason=text),
            lambda: CaseStatusChange.objects.create(
                case=case, to_status="reported", changed_by=worker, reason=text
            ),
            lambda: Intervention.objects.create(
                case=case, kind="work", provider_name="X", created_by=worker, goal=text
            ),
            lambda: Intervention.objects.create(
                case=case, kind="work", provider_name="X", created_by=worker, outcome=text
            ),
            lambda: JournalEntry.objects.create(case=case, author=worker, text=text),
            lambda: ThreatAssessment.objects.create(
                case=case, level="low", summary=text, assessed_by=officer, next_review_date=review
            ),
            lambda: ThreatAssessment.objects.create(
                case=case,
                level="low",
                summary="S",
                details=text,
                assessed_by=officer,
                next_review_date=review,
            ),
        ]

    assert [_rejected(save) for save in saves(TOO_LONG)] == [True] * 9
    assert [_rejected(save) for save in saves("å" * TEXT_LIMIT)] == [False] * 9


# --- Finding 3: log search dates outside the log's range get a message -----------------------

OUT_OF_RANGE = [
    {"date_from": "0001-01-01"},
    {"date_to": "0001-01-01"},
    {"date_to": "9999-12-31"},
    {"date_from": "9999-12-31"},
    {"date_from": "1999-12-31", "date_to": "2000-01-01"},
]


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_log_search_refuses_dates_out_of_range(
    login: Callable[[User], Client], log_reviewer: User, params: dict[str, str]
) -> None:
    response = login(log_reviewer).get(reverse("audit:search"), params)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    form = response.context["form"]
    assert any(form.has_error(name, "out_of_range") for name in params)


@pytest.mark.parametrize("params", OUT_OF_RANGE)
def test_log_export_refuses_dates_out_of_range_before_streaming(
    login: Callable[[User], Client], log_reviewer: User, params: dict[str, str]
) -> None:
    response = login(log_reviewer).get(reverse("audit:export"), params)
    assert response.status_code == 400
    assert not response.streaming
    assert response["Content-Type"].startswith("text/plain")
    assert "Content-Disposition" not in response
    assert "Loggen kunde inte exporteras" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).exists()


def test_log_dates_within_range_are_searched_and_exported(
    login: Callable[[User], Client], log_reviewer: User
) -> None:
    params = {"date_from": "2000-01-01", "date_to": timezone.localdate().isoformat()}
    client = login(log_reviewer)
    assert client.get(reverse("audit:search"), params).status_code == 200
    export = client.get(reverse("audit:export"), params)
    assert export.status_code == 200
    assert export["Content-Disposition"].startswith("attachment")


# --- Finding 4: failures for one user name lock it across addresses, briefly ------------------


def _try_login(username: str, password: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post(reverse("login"), {"username": username, "password": password}).status_code


def _rewind_login_records(seconds: int) -> None:
    """Move the lockout records back in time, as if that long had passed."""
    from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog

    shift = timedelta(seconds=seconds)
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - shift)
    AccessAttemptExpiration.objects.update(expires_at=F("expires_at") - shift)
    AccessFailureLog.objects.update(attempt_time=F("attempt_time") - shift)


def _lock_from_many_addresses(user: User, first: int) -> None:
    limit = django_settings.AXES_FAILURE_LIMIT
    answers = [
        _try_login(user.username, "fel-losen-123", f"10.0.{first}.{n + 1}") for n in range(limit)
    ]
    # One failure from each address; the one that reaches the limit is already refused.
    assert answers == [200] * (limit - 1) + [429]


def test_failures_from_many_addresses_lock_the_user_name_briefly(worker: User) -> None:
    _lock_from_many_addresses(worker, first=1)
    # A new address, the right password: the user name itself is locked.
    assert _try_login(worker.username, PASSWORD, "10.9.9.9") == 429
    # Guessing on during the lockout does not prolong it.
    assert _try_login(worker.username, "fel-losen-123", "10.9.9.10") == 429
    _rewind_login_records(django_settings.LOGIN_LOCKOUT_FIRST.seconds + 1)
    assert _try_login(worker.username, PASSWORD, "10.9.9.9") == 302


def test_repeated_lockouts_grow_but_stay_bounded(worker: User, settings: Any) -> None:
    first = settings.LOGIN_LOCKOUT_FIRST
    _lock_from_many_addresses(worker, first=1)
    _rewind_login_records(first.seconds + 1)
    _lock_from_many_addresses(worker, first=2)
    _rewind_login_records(first.seconds + 1)
    assert _try_login(worker.username, PASSWORD, "10.9.9.9") == 429  # the second lasts longer
    _rewind_login_records(first.seconds + 1)
    assert _try_login(worker.username, PASSWORD, "10.9.9.9") == 302

    from axes.models import AccessFailureLog

    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(
            username=worker.username,
            ip_address="10.8.8.8",
            user_agent="",
            http_accept="",
            path_info="/logga-in/",
            attempt_time=timezone.now(),
            locked_out=True,
        )
        for _ in range(40)
    )
    request = RequestFactory().post(reverse("login"), {"username": worker.username})
    assert settings.AXES_COOLOFF_TIME(request) == settings.LOGIN_LOCKOUT_LONGEST


# --- Finding 5: fields a user may not change are refused, never silently dropped -------------


@pytest.mark.parametrize(
    "withheld",
    [
        {"address": "Ny väg 1"},
        {"phone": "070-000 00 00"},
        {"protection_level": "none"},
        {"protection_level": "protected_registration", "address": "Hemlig 9"},
    ],
)
def test_withheld_fields_posted_before_a_reveal_are_refused(
    login: Callable[[User], Client],
    worker: User,
    make_case: Callable[..., Case],
    withheld: dict[str, str],
) -> None:
    protected = make_case(worker, protection_level="protected_registration", address="Hemlig 9")
    person = protected.individual
    url = reverse("cases:individual_edit", args=[protected.pk])
    response = login(worker).post(
        url, {"first_name": "Bertil", "last_name": person.last_name, **withheld}
    )
    assert response.status_code == 400
    assert response.context["form"].has_error("__all__", "withheld")
    assert "Inget har sparats" in response.content.decode()
    saved = type(person).objects.get(pk=person.pk)
    assert (saved.first_name, saved.address, saved.phone, saved.protection_level) == (
        person.first_name,
        "Hemlig 9",
        person.phone,
        "protected_registration",
    )
    assert not AuditEvent.objects.filter(action=AuditAction.INDIVIDUAL_UPDATE).exists()


def test_person_without_withheld_fields_is_saved_before_a_reveal(
    login: Callable[[User], Client], worker: User, make_case: Callable[..., Case]
) -> None:
    protected = make_case(worker, protection_level="protected_registration", address="Hemlig 9")
    url = reverse("cases:individual_edit", args=[protected.pk])
    response = login(worker).post(url, {"first_name": "Bertil", "last_name": "Testsson"})
    assert response.status_code == 302
    protected.individual.refresh_from_db()
    assert (protected.individual.first_name, protected.individual.address) == (
        "Bertil",
        "Hemlig 9",
    )
