"""A document job and gallring at the same time: no document outlives the row that names it.
A job whose row gallring deletes while it renders removes what it wrote; gallring, deleting
rows while a job records a document on them, waits for it and removes that document too. A
duplicate job for a row another worker has finished keeps the file."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from avhopp.models import Agency, User
from cases import journal_pdf
from cases import services as case_services
from cases.models import Case, JournalExtract, LegalBasis
from cases.policy import CaseAction
from cases.selectors import get_case_for_user
from method import pdf as method_pdf
from method import services as method_services
from method.models import Agreement
from method.services import ConditionSpec
from referrals import services as referral_services
from referrals.models import DocumentKind, Referral
from relocations import pdf as relocation_pdf
from relocations.models import PlacementAgreement, RelocationStatus
from retention import documents, services
from retention.models import Extract
from tests.relocation_support import advance

SITES = ["referral", "journal extract", "method agreement", "placement agreement", "extract"]
WAIT = 30  # seconds: far beyond what any step here takes


def _referral(case: Case, coordinator: User, to_agency: Agency) -> Referral:
    return referral_services.referral_create(
        case=case,
        by=coordinator,
        kind=DocumentKind.REFERRAL,
        to_agency=to_agency,
        contact_person="Kontakt Kontaktsson",
        legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
        legal_basis_citation="OSL 10 kap. 2 §, beslut i ärendet",
        reason="Behöver stöd",
    )


def _job(
    site: str, request: pytest.FixtureRequest, case: Case
) -> tuple[ModuleType, Callable[[], None], Any]:
    """The site's row, made through the services; the module the job writes through, the
    job, and the row (by key) it records its document on."""
    worker: User = request.getfixturevalue("worker")
    if site == "referral":
        referral = _referral(
            case, request.getfixturevalue("coordinator"), request.getfixturevalue("police_agency")
        )
        return (
            referral_services,
            lambda: referral_services.referral_render(referral_id=referral.pk),
            Referral.objects.filter(pk=referral.pk),
        )
    if site == "journal extract":
        access = get_case_for_user(worker, case.pk, CaseAction.READ_JOURNAL)
        extract = case_services.journal_extract_order(access=access)
        return (
            journal_pdf,
            lambda: journal_pdf.journal_extract_render(extract_id=extract.pk),
            JournalExtract.objects.filter(pk=extract.pk),
        )
    if site == "method agreement":
        agreement = method_services.agreement_create(
            case=case,
            by=worker,
            start_date=timezone.localdate(),
            review_date=timezone.localdate() + timedelta(days=90),
            conditions=[ConditionSpec("drug_tests", interval_days=14)],
        )
        return (
            method_pdf,
            lambda: method_pdf.agreement_render(agreement_id=agreement.pk),
            Agreement.objects.filter(pk=agreement.pk),
        )
    if site == "placement agreement":
        relocation = advance(
            request.getfixturevalue("relocation"),
            request.getfixturevalue("parties"),
            RelocationStatus.ARRANGED,
        )
        return (
            relocation_pdf,
            lambda: relocation_pdf.agreement_render(relocation_id=relocation.pk),
            PlacementAgreement.objects.filter(relocation_id=relocation.pk),
        )
    extract = documents.extract_request(
        case=case, by=worker, kind="register", identity_checked="Pass"
    )
    return (
        documents,
        lambda: documents.extract_render(extract_id=extract.pk),
        Extract.objects.filter(pk=extract.pk),
    )


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("site", SITES)
def test_a_row_deleted_by_gallring_while_its_document_is_made_leaves_no_document(
    site: str,
    request: pytest.FixtureRequest,
    case: Case,
    doc_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module, render, rows = _job(site, request, case)
    real_write = module.write_document
    deleted: list[bool] = []

    def write_then_gallring(relative: str, content: bytes) -> None:
        real_write(relative, content)
        if not deleted:  # the file is deleted while its PDF lies written, not yet recorded
            services.case_file_delete(case_id=case.pk, individual_id=case.individual_id)
            deleted.append(True)

    monkeypatch.setattr(module, "write_document", write_then_gallring)
    render()  # ends without an error: there is nothing left to record the document on
    assert deleted
    assert not Case.objects.filter(pk=case.pk).exists() and not rows.exists()
    assert _files(doc_root) == set()


@pytest.mark.parametrize("site", SITES)
def test_a_duplicate_job_for_a_row_another_worker_finished_keeps_the_file(
    site: str,
    request: pytest.FixtureRequest,
    case: Case,
    doc_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The other job renders, writes and records the same name while this one renders; this
    one then finds the row done (not queued) and still there: the file is the row's."""
    module, render, rows = _job(site, request, case)
    real_write = module.write_document
    other_done: list[bool] = []

    def other_job_first(relative: str, content: bytes) -> None:
        if not other_done:
            other_done.append(True)
            render()
        real_write(relative, content)

    monkeypatch.setattr(module, "write_document", other_job_first)
    render()
    assert other_done
    [row] = rows.values()
    recorded = {row[name] for name in ("document_path", "full_path", "sending_path") if name in row}
    if "status" in row:
        assert row["status"] == "ready"
    assert recorded and _files(doc_root) == recorded
    assert all((doc_root / relative).read_bytes().startswith(b"%PDF") for relative in recorded)


# --- On two connections: gallring's batch and a job recording its document ------------------


def _in_threads(*calls: Callable[[], Any]) -> tuple[list[threading.Thread], list[str]]:
    """Start the calls in threads, each on its own connection; the errors they end with."""
    errors: list[str] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            call()
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    return threads, errors


def _someone_waits_for_a_row_lock() -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def _paused_after(
    matches: Callable[[str], bool], reached: threading.Event, go: threading.Event
) -> Callable[..., Any]:
    """An execute wrapper that, once a statement `matches` ran, holds its transaction (and
    the locks it took) until `go`."""

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        if matches(sql) and not reached.is_set():
            reached.set()
            assert go.wait(WAIT)
        return result

    return wrapper


@pytest.fixture
def committed_referral(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    doc_root: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Referral:
    monkeypatch.setattr(referral_services, "enqueue_generation", lambda referral_id: True)
    return _referral(make_case(worker), coordinator, police_agency)


def _gallring(referral: Referral) -> None:
    """Gallring's deletion of the referral's case's referrals: one batch."""
    services.delete_in_batches(Referral.objects.filter(case_id=referral.case_id), 500)


@pytest.mark.django_db(transaction=True)
def test_a_job_recording_under_gallrings_batch_lock_waits_and_removes_its_document(
    committed_referral: Referral, doc_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gallring has read the batch's paths (none yet) and holds its rows; the job, its PDF
    written, waits for the batch, then finds its row gone and removes the PDF."""
    written, locked, go = threading.Event(), threading.Event(), threading.Event()
    real_write = referral_services.write_document

    def write_then_wait_for_gallring(relative: str, content: bytes) -> None:
        real_write(relative, content)
        written.set()
        assert locked.wait(WAIT)

    def gallring() -> None:
        assert written.wait(WAIT)
        holding = _paused_after(lambda sql: "FOR UPDATE" in sql, locked, go)
        with connection.execute_wrapper(holding):
            _gallring(committed_referral)

    monkeypatch.setattr(referral_services, "write_document", write_then_wait_for_gallring)
    threads, errors = _in_threads(
        lambda: referral_services.referral_render(referral_id=committed_referral.pk), gallring
    )
    try:
        assert locked.wait(WAIT), "gallring read the batch's paths without FOR UPDATE"
        assert _someone_waits_for_a_row_lock(), "the job did not wait for gallring's lock"
    finally:
        go.set()
        for thread in threads:
            thread.join(WAIT)
    assert errors == []
    assert not Referral.objects.filter(pk=committed_referral.pk).exists()
    assert _files(doc_root) == set()


@pytest.mark.django_db(transaction=True)
def test_gallring_reading_a_batch_while_a_job_records_its_document_removes_it(
    committed_referral: Referral, doc_root: Path
) -> None:
    """The job has recorded its PDF on the row but not committed; gallring's read of the
    batch's paths waits for it and so finds the path, and removes the PDF with the row."""
    recorded, go = threading.Event(), threading.Event()

    def render() -> None:
        holding = _paused_after(
            lambda sql: sql.startswith('UPDATE "referrals_referral"') and "document_path" in sql,
            recorded,
            go,
        )
        with connection.execute_wrapper(holding):
            referral_services.referral_render(referral_id=committed_referral.pk)

    def gallring() -> None:
        assert recorded.wait(WAIT)
        _gallring(committed_referral)

    threads, errors = _in_threads(render, gallring)
    try:
        assert recorded.wait(WAIT)
        assert _someone_waits_for_a_row_lock(), "gallring did not wait for the job's lock"
    finally:
        go.set()
        for thread in threads:
            thread.join(WAIT)
    assert errors == []
    assert not Referral.objects.filter(pk=committed_referral.pk).exists()
    assert _files(doc_root) == set()
