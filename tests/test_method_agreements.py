"""Agreements with conditions: the PDF for signature, revisions kept as history, dated drug
tests, meetings and breaches with their consequences, and the calendar export."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, time, timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from pypdf import PdfReader

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases.models import Case, ProtectionLevel
from method import pdf
from method import services as method_services
from method.models import Agreement, AgreementEntry, ConditionKind, Consequence, EntryKind
from method.services import ConditionSpec
from tests.access_support import body_of

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def make_agreement(case: Case, by: User, police: Agency | None = None) -> Agreement:
    return method_services.agreement_create(
        case=case,
        by=by,
        start_date=TODAY(),
        review_date=TODAY() + timedelta(days=90),
        police_party=police,
        conditions=[
            ConditionSpec(ConditionKind.NO_CRIME),
            ConditionSpec(ConditionKind.NO_DRUGS),
            ConditionSpec(ConditionKind.DRUG_TESTS, interval_days=14),
            ConditionSpec(ConditionKind.MEETINGS, interval_days=7),
            ConditionSpec(ConditionKind.NO_CONTACT, details="Nätverket Korpen i Ronna"),
            ConditionSpec(ConditionKind.OTHER, details="Bor kvar i jourboendet"),
        ],
    )


def pdf_text(content: bytes) -> str:
    """The text with its line breaks as spaces: the renderer wraps long lines."""
    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_the_agreement_pdf_for_signature(
    doc_root: Path, case: Case, worker: User, police_agency: Agency
) -> None:
    agreement = make_agreement(case, worker, police_agency)
    pdf.agreement_render(agreement_id=agreement.pk)
    agreement.refresh_from_db()
    assert agreement.document_ready
    text = pdf_text((doc_root / agreement.document_path).read_bytes())
    for expected in (
        "Överenskommelse",
        "Adam Testsson",
        "19950314-",
        case.reference,
        "Södertälje kommun",
        "Polisregion Stockholm",
        "Ingen brottslighet",
        "Inga droger",
        "Drogtester (var 14:e dag)",
        "Regelbundna möten (var 7:e dag)",
        "Ingen kontakt med namngivna miljöer: Nätverket Korpen i Ronna",
        "Annat: Bor kvar i jourboendet",
        f"Omprövas senast {agreement.review_date:%Y-%m-%d}",
        "varning, uppehåll i stödet eller att stödet avslutas",
        "För Polisregion Stockholm",
    ):
        assert expected in text, expected


def test_a_protected_person_s_number_stays_masked_in_the_pdf(
    doc_root: Path, make_case: Callable[..., Case], worker: User
) -> None:
    case = make_case(worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION)
    agreement = make_agreement(case, worker)
    text = pdf.agreement_html(agreement)
    assert "Skyddade personuppgifter" in text
    assert case.individual.personnummer[-4:] not in text


def test_a_revision_supersedes_and_keeps_the_history(case: Case, worker: User) -> None:
    first = make_agreement(case, worker)
    second = make_agreement(case, worker)
    first.refresh_from_db()
    assert first.ended_on == TODAY()
    assert second.supersedes == first and second.is_current
    assert first.conditions.count() == second.conditions.count() == 6
    assert Agreement.objects.filter(case=case, ended_on__isnull=True).get() == second


def test_signing_updates_the_case_and_refuses_a_future_date(case: Case, worker: User) -> None:
    agreement = make_agreement(case, worker)
    with pytest.raises(ValidationError, match="framtiden"):
        method_services.agreement_sign(
            agreement=agreement, case=case, by=worker, signed_on=TODAY() + timedelta(days=1)
        )
    method_services.agreement_sign(agreement=agreement, case=case, by=worker, signed_on=TODAY())
    case.refresh_from_db()
    assert case.agreement_signed_on == TODAY()
    assert "Drogtester (var 14:e dag)" in case.agreement_conditions


def test_a_test_result_in_the_future_is_refused_with_a_message(case: Case, worker: User) -> None:
    agreement = make_agreement(case, worker)
    with pytest.raises(ValidationError) as refused:
        method_services.agreement_entry_add(
            agreement=agreement,
            case=case,
            by=worker,
            kind=EntryKind.DRUG_TEST,
            occurred_on=TODAY() + timedelta(days=1),
            result="negative",
        )
    assert refused.value.message_dict["occurred_on"] == [
        "Ett provresultat kan inte ligga i framtiden."
    ]
    # A meeting may be planned ahead.
    meeting = method_services.agreement_entry_add(
        agreement=agreement,
        case=case,
        by=worker,
        kind=EntryKind.MEETING,
        occurred_on=TODAY() + timedelta(days=7),
        at_time=time(10, 0),
    )
    assert meeting.pk


def test_breaches_carry_the_consequence_decided(case: Case, worker: User) -> None:
    agreement = make_agreement(case, worker)
    drugs = agreement.conditions.get(kind=ConditionKind.NO_DRUGS)
    with pytest.raises(ValidationError) as refused:
        method_services.agreement_entry_add(
            agreement=agreement,
            case=case,
            by=worker,
            kind=EntryKind.BREACH,
            occurred_on=TODAY(),
            condition=drugs,
        )
    assert refused.value.message_dict["consequence"] == [
        "Ange vilken konsekvens brottet mot överenskommelsen får."
    ]
    for consequence in Consequence:
        method_services.agreement_entry_add(
            agreement=agreement,
            case=case,
            by=worker,
            kind=EntryKind.BREACH,
            occurred_on=TODAY(),
            condition=drugs,
            consequence=consequence,
        )
    assert set(drugs.breaches.values_list("consequence", flat=True)) == set(Consequence.values)
    assert AuditEvent.objects.filter(action=AuditAction.AGREEMENT_ENTRY).count() == 4


def test_bad_entries_get_a_clear_message_on_the_page(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    agreement = make_agreement(case, worker)
    client = login(worker)
    url = reverse("method:agreement_entry", args=[case.pk, agreement.pk])
    future = client.post(
        url,
        {
            "kind": "drug_test",
            "occurred_on": (TODAY() + timedelta(days=2)).isoformat(),
            "result": "negative",
        },
    )
    assert future.status_code == 400
    assert "Ett provresultat kan inte ligga i framtiden." in future.content.decode()
    breach = client.post(url, {"kind": "breach", "occurred_on": TODAY().isoformat()})
    assert breach.status_code == 400
    assert "Ange vilken konsekvens brottet mot överenskommelsen får." in breach.content.decode()
    assert not AgreementEntry.objects.exists()
    saved = client.post(
        url,
        {"kind": "drug_test", "occurred_on": TODAY().isoformat(), "result": "positive"},
    )
    assert saved.status_code == 302


def test_the_agreement_pages(
    doc_root: Path, case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    created = client.post(
        reverse("method:agreement_create", args=[case.pk]),
        {
            "start_date": TODAY().isoformat(),
            "review_date": (TODAY() + timedelta(days=60)).isoformat(),
            "no_crime": "on",
            "drug_tests": "14",
        },
    )
    assert created.status_code == 302
    agreement = Agreement.objects.get()
    pdf_url = reverse("method:agreement_pdf", args=[case.pk, agreement.pk])
    status_url = reverse("method:agreement_status", args=[case.pk, agreement.pk])
    assert client.get(pdf_url).status_code == 409
    assert client.get(status_url).json()["pending"] is True
    pdf.agreement_render(agreement_id=agreement.pk)
    assert client.get(status_url).json()["pending"] is False
    download = client.get(pdf_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOAD, case_id=case.pk).exists()
    page = client.get(reverse("method:agreement", args=[case.pk, agreement.pk]))
    assert "Drogtester (var 14:e dag)" in page.content.decode()
    no_conditions = client.post(
        reverse("method:agreement_create", args=[case.pk]),
        {"start_date": TODAY().isoformat(), "review_date": TODAY().isoformat()},
    )
    assert no_conditions.status_code == 400
    assert "Välj minst ett villkor." in no_conditions.content.decode()


def test_the_calendar_has_meetings_and_reviews_but_no_names_or_content(
    make_case: Callable[..., Case],
    case: Case,
    worker: User,
    colleague: User,
    login: Callable[[User], Client],
) -> None:
    agreement = make_agreement(case, worker)
    method_services.agreement_entry_add(
        agreement=agreement,
        case=case,
        by=worker,
        kind=EntryKind.MEETING,
        occurred_on=TODAY() + timedelta(days=3),
        at_time=time(13, 30),
        note="Möte på Blåmesvägen om Korpen",
    )
    method_services.agreement_entry_add(
        agreement=agreement,
        case=case,
        by=worker,
        kind=EntryKind.MEETING,
        occurred_on=TODAY() - timedelta(days=3),
    )
    someone_elses = make_case(worker, responsible=colleague, first_name="Bertil")
    make_agreement(someone_elses, worker)
    response = login(worker).get(reverse("method:calendar"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = body_of(response)
    calendar = Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert sorted(str(e["summary"]) for e in events) == [
        "Avhopp: möte",
        "Avhopp: omprövning av överenskommelse",
    ]
    starts = {e.decoded("dtstart") for e in events}
    assert agreement.review_date in starts
    assert any(getattr(s, "hour", None) == 13 for s in starts)
    for secret in ("Adam", "Testsson", "Bertil", "Blåmesvägen", "Korpen", case.reference, "1995"):
        assert secret not in body
    assert f"/arenden/{case.pk}/" in body
    assert AuditEvent.objects.filter(action=AuditAction.CALENDAR_EXPORT, reason="2").exists()


def test_other_agencies_see_no_agreement(
    case: Case,
    worker: User,
    officer: User,
    share_with: Callable[..., object],
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    share_with(case, police_agency)
    agreement = make_agreement(case, worker)
    client = login(officer)
    assert client.get(reverse("method:agreement", args=[case.pk, agreement.pk])).status_code == 403
    assert "Överenskommelse med villkor" not in client.get(case.get_absolute_url()).content.decode()


def test_dates_are_checked(case: Case, worker: User) -> None:
    with pytest.raises(ValidationError):
        method_services.agreement_create(
            case=case,
            by=worker,
            start_date=date(2025, 5, 1),
            review_date=date(2025, 4, 1),
            conditions=[ConditionSpec(ConditionKind.NO_CRIME)],
        )
