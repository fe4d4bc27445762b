"""The person's extracts: the register extract holds what the agency holds about them and
nothing of anyone else; the log extract says which agency and role read the file and when
(staff unnamed unless configured); both are made and handed over by the responsible worker
only, a protected person's too, and both are logged."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Retry
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from avhopp.models import AuditAction, AuditEvent, User
from avhopp.storage import read_document
from cases import services as case_services
from cases.models import Case, ProtectionLevel
from method.national import STEPS
from retention import documents
from retention.models import DocumentStatus, Extract, ExtractKind
from tests.followup_support import followed_up
from tests.method_support import method_work
from tests.support import assess_threat


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch: pytest.MonkeyPatch, doc_root: Path) -> None:
    monkeypatch.setattr(documents, "enqueue", lambda task_name, object_id: None)


def _made(case: Case, by: User, kind: str) -> Extract:
    extract = documents.extract_request(case=case, by=by, kind=kind, identity_checked="Pass")
    documents.extract_render(extract_id=extract.pk)
    extract.refresh_from_db()
    return extract


def _text(extract: Extract) -> str:
    reader = PdfReader(io.BytesIO(read_document(extract.document_path)))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def file_with_content(
    make_case: Callable[..., Case], worker: User, officer: User, coordinator: User
) -> Case:
    case = make_case(worker, first_name="Adam", last_name="Testsson")
    case_services.intervention_create(
        case=case, by=worker, kind="work", provider_name="Arbetsförmedlingen", goal="Jobb"
    )
    case_services.journal_entry_create(case=case, by=worker, text="Samtal om boende.")
    assess_threat(
        case,
        officer,
        level="elevated",
        summary="Förhöjd hotbild.",
        details="Hemlig källuppgift.",
        next_review_date=timezone.localdate() + timedelta(days=30),
    )
    return case


def test_the_register_extract_holds_the_file_and_nothing_of_anyone_else(
    file_with_content: Case, make_case: Callable[..., Case], worker: User
) -> None:
    make_case(worker, first_name="Bertil", last_name="Annansson")
    text = _made(file_with_content, worker, ExtractKind.REGISTER)
    content = _text(text)
    for expected in (
        "Registerutdrag",
        "Adam Testsson",
        "Arbetsförmedlingen",
        "Samtal om boende",
        "Förhöjd hotbild",
        file_with_content.reference,
    ):
        assert expected in content, expected
    assert "Annansson" not in content
    assert "Hemlig källuppgift" not in content  # the police's threat details never
    assert worker.last_name not in content and worker.username not in content


def test_the_register_extract_holds_the_method_work_but_not_the_checklists_guidance(
    file_with_content: Case, worker: User
) -> None:
    method_work(file_with_content, worker)
    followed_up(file_with_content, worker, 6, stable_housing="no")
    content = " ".join(_text(_made(file_with_content, worker, ExtractKind.REGISTER)).split())
    for expected in (
        "Checklista",
        "undantaget (skäl: Bara en aktör är inblandad.)",
        "Beslut enligt delegering",
        "Avslut av ärende, enligt Delegationsordning SN, punkt 4",
        "Överenskommelser",
        "Drogtester (var 14:e dag)",
        "Annat: Inte vistas i Norrort.",
        "Drogtest, positivt. Provet togs på mottagningen.",
        "konsekvens: varning. Sågs i Norrort.",
        "Resultat vid uppföljning",
        "6 månader efter avslut",
        "Stabilt boende nej; Arbete eller studier nej",
    ):
        assert expected in content, expected
    guidance = [guide for _phase, _title, _required, guide in STEPS]
    assert not [guide for guide in guidance if guide[:40] in content]
    assert "kunskapsguiden" not in content
    assert worker.last_name not in content and worker.username not in content


def test_the_log_extract_names_agency_role_and_time_not_staff(
    file_with_content: Case,
    worker: User,
    colleague: User,
    login: Callable[[User], Client],
    settings: Any,
) -> None:
    client = login(worker)
    assert client.get(reverse("cases:detail", args=[file_with_content.pk])).status_code == 200
    content = _text(_made(file_with_content, worker, ExtractKind.LOG))
    assert "Loggutdrag" in content and "Södertälje kommun" in content
    assert "Handläggare" in content and "Läst ärende" in content
    assert worker.username not in content
    settings.AVHOPP_LOG_EXTRACT_NAMES_STAFF = True
    assert worker.username in _text(_made(file_with_content, worker, ExtractKind.LOG))


def test_only_the_responsible_worker_makes_and_hands_over_a_protected_persons_extract(
    make_case: Callable[..., Case],
    worker: User,
    colleague: User,
    coordinator: User,
    login: Callable[[User], Client],
) -> None:
    case = make_case(worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION)
    for other in (colleague, coordinator):
        with pytest.raises(PermissionDenied):
            documents.extract_request(case=case, by=other, kind="register", identity_checked="x")
    with pytest.raises(ValidationError, match="identitet"):
        documents.extract_request(case=case, by=worker, kind="register", identity_checked=" ")
    extract = _made(case, worker, ExtractKind.REGISTER)
    assert extract.status == DocumentStatus.READY
    assert extract.document_path.startswith("extracts/")  # only in the document store
    url = reverse("retention:extract_download", args=[extract.pk])
    assert login(coordinator).get(url).status_code == 404
    response = login(worker).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    logged = set(AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True))
    assert {AuditAction.EXTRACT_REQUESTED, AuditAction.EXTRACT_DOWNLOAD} <= logged


def test_the_case_page_offers_extracts_to_the_responsible_worker_only(
    case: Case, worker: User, coordinator: User, login: Callable[[User], Client]
) -> None:
    url = reverse("cases:detail", args=[case.pk])
    assert "Utdrag för personen" in login(worker).get(url).content.decode()
    client = login(coordinator)
    client.post(reverse("cases:outside_reason", args=[case.pk]), {"reason": "Ledning"})
    assert "Utdrag för personen" not in client.get(url).content.decode()
    posted = login(worker).post(
        reverse("retention:extract_create", args=[case.pk]),
        {"kind": "log", "identity_checked": "Id-kort"},
    )
    assert posted.status_code == 302
    assert Extract.objects.get(case=case).kind == ExtractKind.LOG


def test_a_failed_render_marks_the_extract_failed_and_a_transient_error_is_retried_first(
    case: Case, worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention import tasks

    renders: list[str] = []

    def broken(html: str) -> None:
        renders.append(html)
        raise ValueError("trasig mall")

    monkeypatch.setattr(documents, "render_pdf", broken)
    extract = documents.extract_request(case=case, by=worker, kind="log", identity_checked="Pass")
    with pytest.raises(ValueError):
        tasks.render_extract.apply(args=[extract.pk])
    extract.refresh_from_db()
    assert len(renders) == 1  # not transient: failed at once, no retry
    assert extract.status == DocumentStatus.FAILED and not extract.document_path
    assert extract.error_message == "ValueError: utdraget kunde inte skapas."

    def unreachable(html: str) -> None:
        raise OSError("lagringen svarar inte")

    monkeypatch.setattr(documents, "render_pdf", unreachable)
    extract = documents.extract_request(case=case, by=worker, kind="log", identity_checked="Pass")
    with pytest.raises(Retry):
        tasks.render_extract.apply(args=[extract.pk])
    extract.refresh_from_db()
    assert extract.status == DocumentStatus.QUEUED  # transient: retried, not failed
    last = tasks.render_extract.max_retries
    with pytest.raises(OSError):
        tasks.render_extract.apply(args=[extract.pk], retries=last)
    extract.refresh_from_db()
    assert extract.status == DocumentStatus.FAILED
    assert extract.error_message == "Tillfälligt fel kvarstod efter flera försök."


def test_a_failed_archive_export_is_marked_failed(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retention import tasks

    def broken(html: str, **options: Any) -> None:
        raise ValueError("trasig mall")

    monkeypatch.setattr(documents, "render_pdf", broken)
    export = documents.archive_export_create(case=case)
    with pytest.raises(ValueError):
        tasks.render_archive_export.apply(args=[export.pk])
    export.refresh_from_db()
    assert export.status == DocumentStatus.FAILED and not export.document_path
    assert export.error_message == "ValueError: arkivexporten kunde inte skapas."
