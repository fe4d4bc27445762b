"""Gallring: what is due (the year boundary, the leap day, a new entry), the archive
officer's decision, the deletion of everything of a due file and nothing else, the research
sample and legal holds kept, no document left on disk, and the log kept under a pseudonym."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from avhopp.storage import write_document
from cases import services as case_services
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseStatusChange,
    Consent,
    Individual,
    Intervention,
    JournalEntry,
    ThreatAssessment,
)
from method import services as method_services
from method.models import (
    Agreement,
    AgreementCondition,
    AgreementEntry,
    CaseChecklist,
    CaseStep,
    DecisionRecord,
    FollowUpOutcome,
)
from referrals.models import Referral
from relocations.models import (
    Placement,
    PlacementAgreement,
    Relocation,
    RelocationStatus,
    RelocationStep,
)
from retention import services
from retention.dates import add_years, due_dates
from retention.documents import archive_export_render
from retention.models import (
    ArchiveExport,
    DocumentStatus,
    Extract,
    ExtractKind,
    GallringItem,
    GallringProposal,
    ItemAction,
    ItemOutcome,
    LegalHold,
    ProposalStatus,
)
from retention.tasks import execute_gallring
from tests.access_support import ready_referral
from tests.followup_support import ANSWERS, followed_up
from tests.method_support import method_work
from tests.relocation_support import Parties
from tests.relocation_support import advance as advance_relocation
from tests.support import assess_threat
from tests.worker_support import DEAD_BROKER, broker_at, take_queued

LONG_AGO = datetime(2015, 6, 10, 9, 0, tzinfo=UTC)


def age_file(case: Case, when: datetime) -> None:
    """Every entry of the file dated `when`, as if nothing had been written since."""
    Case.objects.filter(pk=case.pk).update(opened_at=when, updated_at=when)
    Case.objects.filter(pk=case.pk, closed_at__isnull=False).update(closed_at=when)
    CaseStatusChange.objects.filter(case=case).update(changed_at=when)
    JournalEntry.objects.filter(case=case).update(created_at=when)
    Intervention.objects.filter(case=case).update(updated_at=when)
    ThreatAssessment.objects.filter(case=case).update(assessed_at=when)
    CaseShare.objects.filter(case=case).update(created_at=when)
    Referral.objects.filter(case=case).update(created_at=when)
    Consent.objects.filter(individual_id=case.individual_id).update(created_at=when)
    Agreement.objects.filter(case=case).update(created_at=when)
    AgreementEntry.objects.filter(agreement__case=case).update(recorded_at=when)
    RelocationStep.objects.filter(relocation__case=case).update(entered_at=when)
    CaseStep.objects.filter(checklist__case=case).exclude(settled_at=None).update(settled_at=when)
    DecisionRecord.objects.filter(case=case).update(decided_at=when)
    FollowUpOutcome.objects.filter(case=case).update(recorded_at=when)


def close(case: Case, by: User) -> Case:
    case_services.case_change_status(case=case, to_status="dropped_out", by=by, reason="Avbröt.")
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def archive_officer(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(municipality, Role.ARCHIVE_OFFICER, username="arkiv")


@pytest.fixture
def old_closed(make_case: Callable[..., Case], worker: User) -> Callable[..., Case]:
    def make(when: datetime = LONG_AGO, **kwargs: Any) -> Case:
        case = close(make_case(worker, **kwargs), worker)
        age_file(case, when)
        return Case.objects.get(pk=case.pk)

    return make


def _approve_and_run(proposal: GallringProposal, by: User, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.gallring_approve(proposal=proposal, by=by)
    services.gallring_execute(proposal_id=proposal.pk, batch_size=2)
    proposal.refresh_from_db()
    return proposal


# --- Dates -------------------------------------------------------------------------------------


def test_due_five_years_on_and_gone_by_the_end_of_the_following_year() -> None:
    assert due_dates(date(2019, 12, 31), 5) == (date(2024, 12, 31), date(2025, 12, 31))
    assert due_dates(date(2020, 1, 1), 5) == (date(2025, 1, 1), date(2026, 12, 31))
    # From a leap day, the period ends on 28 February (lag 1930:173).
    assert add_years(date(2020, 2, 29), 5) == date(2025, 2, 28)
    assert due_dates(date(2020, 2, 29), 4) == (date(2024, 2, 29), date(2025, 12, 31))


def test_the_last_entry_is_dated_in_swedish_time_across_the_year_boundary(
    old_closed: Callable[..., Case], municipality: Agency
) -> None:
    # 23:30 UTC on New Year's Eve is already 1 January in Stockholm.
    case = old_closed(datetime(2019, 12, 31, 23, 30, tzinfo=UTC))
    assert not list(services.files_due(agency=municipality, as_of=date(2024, 12, 31)))
    [due] = services.files_due(agency=municipality, as_of=date(2025, 1, 1))
    assert (due.case.pk, due.last_entry_on, due.deadline) == (
        case.pk,
        date(2020, 1, 1),
        date(2026, 12, 31),
    )


def test_a_leap_day_entry_is_due_on_28_february(
    old_closed: Callable[..., Case], municipality: Agency
) -> None:
    old_closed(datetime(2020, 2, 29, 11, 0, tzinfo=UTC))
    assert not list(services.files_due(agency=municipality, as_of=date(2025, 2, 27)))
    assert len(list(services.files_due(agency=municipality, as_of=date(2025, 2, 28)))) == 1


def test_a_file_with_a_new_entry_is_no_longer_due(
    old_closed: Callable[..., Case],
    municipality: Agency,
    worker: User,
    archive_officer: User,
    django_capture_on_commit_callbacks,
) -> None:
    case = old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    assert [item.case_id for item in proposal.items.all()] == [case.pk]
    case_services.journal_entry_create(case=case, by=worker, text="Personen hörde av sig.")
    assert not list(services.files_due(agency=municipality, as_of=timezone.localdate()))
    proposal = _approve_and_run(proposal, archive_officer, django_capture_on_commit_callbacks)
    assert proposal.items.get().outcome == ItemOutcome.NO_LONGER_DUE
    assert Case.objects.filter(pk=case.pk).exists()


def test_an_edit_of_the_person_is_an_entry_too(
    old_closed: Callable[..., Case], municipality: Agency, worker: User
) -> None:
    case = old_closed()
    today = timezone.localdate()
    assert [due.case.pk for due in services.files_due(agency=municipality, as_of=today)] == [
        case.pk
    ]
    case_services.individual_update(
        individual=case.individual, by=worker, case=case, phone="070-111 22 33"
    )
    assert not list(services.files_due(agency=municipality, as_of=today))


LATER = datetime(2018, 1, 10, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("model", "timestamp"),
    [
        (Agreement, "created_at"),
        (AgreementEntry, "recorded_at"),
        (CaseStep, "settled_at"),
        (DecisionRecord, "decided_at"),
        (FollowUpOutcome, "recorded_at"),
    ],
)
def test_the_methods_entries_count_as_entries_of_the_file(
    old_closed: Callable[..., Case],
    worker: User,
    municipality: Agency,
    model: type,
    timestamp: str,
) -> None:
    case = old_closed()
    method_work(case, worker)
    case = followed_up(case, worker, 6)
    age_file(case, LONG_AGO)
    rows = model.objects.filter(**{f"{METHOD_ROWS[model]}_id": case.pk})
    rows.filter(pk=rows.exclude(**{timestamp: None}).first().pk).update(**{timestamp: LATER})
    [due] = services.files_due(agency=municipality, as_of=timezone.localdate())
    assert due.last_entry_on == date(2018, 1, 10)
    assert not list(services.files_due(agency=municipality, as_of=date(2023, 1, 9)))


def test_an_outcome_recorded_after_the_proposal_keeps_the_file(
    old_closed: Callable[..., Case],
    worker: User,
    municipality: Agency,
    archive_officer: User,
    django_capture_on_commit_callbacks,
) -> None:
    case = old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    # Closed in 2015: the 6-month point came long ago and is recorded only now.
    method_services.outcome_record(case=case, by=worker, months=6, **ANSWERS)
    proposal = _approve_and_run(proposal, archive_officer, django_capture_on_commit_callbacks)
    assert proposal.items.get().outcome == ItemOutcome.NO_LONGER_DUE
    assert FollowUpOutcome.objects.filter(case=case).exists()


def test_an_open_case_is_never_due(
    make_case: Callable[..., Case], worker: User, municipality: Agency
) -> None:
    age_file(make_case(worker), LONG_AGO)
    assert not list(services.files_due(agency=municipality, as_of=timezone.localdate()))


# --- The whole workflow ------------------------------------------------------------------------


@pytest.fixture
def full_file(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., Any],
    doc_root: Path,
) -> Case:
    """A closed, long-untouched case with something in every part of the file, and its
    documents on disk."""
    case = make_case(worker, first_name="Gallra", last_name="Gallrasson", born=date(1980, 4, 3))
    case_services.intervention_create(
        case=case, by=worker, kind="work", provider_name="Arbetsförmedlingen", goal="Arbete"
    )
    entry = case_services.journal_entry_create(case=case, by=worker, text="Första mötet.")
    case_services.journal_entry_create(case=case, by=worker, text="Rättelse.", corrects=entry)
    assess_threat(
        case,
        officer,
        level="low",
        summary="Låg.",
        details="Källa.",
        next_review_date=timezone.localdate() + timedelta(days=30),
    )
    share_with(case, police_agency)
    ready_referral(case, coordinator, prison_agency)
    extract = Extract.objects.create(
        kind=ExtractKind.REGISTER,
        case=case,
        individual_id=case.individual_id,
        requested_by=worker,
        identity_checked="Pass",
        status=DocumentStatus.READY,
        document_path="extracts/test.pdf",
        document_sha256="0" * 64,
    )
    write_document(extract.document_path, b"%PDF-1.4 extract")
    method_work(case, worker, documents=True)
    case = followed_up(case, worker, 6, 12)
    age_file(case, LONG_AGO)
    return Case.objects.get(pk=case.pk)


METHOD_ROWS = {
    CaseChecklist: "case",
    CaseStep: "checklist__case",
    DecisionRecord: "case",
    Agreement: "case",
    AgreementCondition: "agreement__case",
    AgreementEntry: "agreement__case",
    FollowUpOutcome: "case",
}


def _method_rows(case_id: int) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(**{f"{path}_id": case_id}).count()
        for model, path in METHOD_ROWS.items()
    }


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_gallring_deletes_the_due_file_whole_and_nothing_else(
    full_file: Case,
    old_closed: Callable[..., Case],
    make_case: Callable[..., Case],
    worker: User,
    archive_officer: User,
    municipality: Agency,
    doc_root: Path,
    django_capture_on_commit_callbacks,
) -> None:
    fresh = make_case(worker, first_name="Kvar", last_name="Kvarsson")
    research = old_closed(first_name="Forskning", last_name="Urval", born=date(1979, 8, 15))
    held = old_closed(first_name="Stopp", last_name="Stoppsson", born=date(1981, 9, 9))
    services.legal_hold_place(case=held, by=archive_officer, kind="appeal", reason="Överklagat.")
    doomed_individual = full_file.individual_id
    log_before = AuditEvent.objects.filter(case_id=full_file.pk).count()
    assert log_before > 0
    files_before = _files(doc_root)
    agreements = Agreement.objects.filter(case=full_file).order_by("pk")
    agreement_files = {agreement.document_path for agreement in agreements}
    assert agreement_files == {f"method/agreement-{agreement.pk}.pdf" for agreement in agreements}
    assert {"extracts/test.pdf", *agreement_files} < files_before
    assert len(files_before) == 4  # a referral, an extract and two agreements
    # The method's part of the file: a revised agreement with a breach, steps done and
    # waived, the decisions taken under delegation, outcomes at 6 and 12 months.
    assert all(n > 0 for n in _method_rows(full_file.pk).values()), _method_rows(full_file.pk)
    assert agreements.last().supersedes == agreements.first()
    assert AgreementEntry.objects.filter(agreement__case=full_file, kind="breach").exists()
    fresh_method = _method_rows(fresh.pk)
    assert fresh_method["CaseStep"] > 0

    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    actions = {item.case_id: item.action for item in proposal.items.all()}
    assert actions == {full_file.pk: ItemAction.DELETE, research.pk: ItemAction.ARCHIVE}
    proposal = _approve_and_run(proposal, archive_officer, django_capture_on_commit_callbacks)

    # The report: what, when, by whose decision, on what ground.
    assert proposal.status == ProposalStatus.DONE and proposal.decided_by == archive_officer
    assert proposal.completed_at is not None and proposal.legal_reference
    item = proposal.items.get(case_id=full_file.pk)
    assert item.outcome == ItemOutcome.DELETED and item.pseudonym.startswith("G-")
    assert item.case_reference == full_file.reference
    # Everything of the file is gone.
    assert not Case.objects.filter(pk=full_file.pk).exists()
    assert not Individual.objects.filter(pk=doomed_individual).exists()
    for model in (Intervention, JournalEntry, ThreatAssessment, CaseShare, Referral, Extract):
        assert not model.objects.filter(case_id=full_file.pk).exists(), model
    assert not Consent.objects.filter(individual_id=doomed_individual).exists()
    assert not CaseGroupObjectPermission.objects.filter(content_object_id=full_file.pk).exists()
    assert set(_method_rows(full_file.pk).values()) == {0}
    assert _files(doc_root) == set()
    # Nothing else is.
    for kept in (fresh, research, held):
        assert Case.objects.filter(pk=kept.pk).exists()
    assert _method_rows(fresh.pk) == fresh_method
    assert LegalHold.objects.filter(case=held, lifted_at__isnull=True).exists()
    # The log keeps its events; the item maps the ids to the pseudonym.
    assert AuditEvent.objects.filter(case_id=full_file.pk).count() == log_before + 1
    deleted = AuditEvent.objects.get(action=AuditAction.GALLRING_DELETED)
    assert (deleted.case_id, deleted.reason) == (full_file.pk, item.pseudonym)
    assert "Gallra" not in str(list(AuditEvent.objects.values_list(flat=True)))
    # The research sample went to the archive instead.
    research_item = proposal.items.get(case_id=research.pk)
    assert research_item.outcome == ItemOutcome.ARCHIVED
    export = ArchiveExport.objects.get(case_id=research.pk)
    assert export.item == research_item
    # Next month it is not proposed again.
    assert services.gallring_propose(agency=municipality, as_of=timezone.localdate()) is None
    del export


def test_deleting_one_case_keeps_a_person_with_another(
    old_closed: Callable[..., Case],
    worker: User,
    archive_officer: User,
    municipality: Agency,
    django_capture_on_commit_callbacks,
) -> None:
    first = old_closed()
    second = case_services.case_create(
        by=worker, individual=first.individual, referral_source="self"
    )
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    _approve_and_run(proposal, archive_officer, django_capture_on_commit_callbacks)
    assert not Case.objects.filter(pk=first.pk).exists()
    assert Individual.objects.filter(pk=second.individual_id).exists()


# --- Bad input and who decides -----------------------------------------------------------------


def test_approving_an_empty_proposal_or_twice_is_refused_with_a_message(
    old_closed: Callable[..., Case],
    archive_officer: User,
    municipality: Agency,
    django_capture_on_commit_callbacks,
) -> None:
    empty = GallringProposal.objects.create(
        agency=municipality, as_of=timezone.localdate(), legal_reference="x"
    )
    with pytest.raises(ValidationError, match="inga akter"):
        services.gallring_approve(proposal=empty, by=archive_officer)
    with pytest.raises(ValidationError, match="inga akter"):
        services.gallring_approve(proposal=empty, by=archive_officer)
    old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.gallring_approve(proposal=proposal, by=archive_officer)
    assert len(callbacks) == 1
    with pytest.raises(ValidationError, match="redan beslutat"):
        services.gallring_approve(proposal=proposal, by=archive_officer)


def test_a_hold_needs_a_reason_and_stops_the_proposal(
    old_closed: Callable[..., Case], archive_officer: User, municipality: Agency
) -> None:
    case = old_closed()
    with pytest.raises(ValidationError, match="skälet"):
        services.legal_hold_place(case=case, by=archive_officer, kind="ivo", reason="  ")
    hold = services.legal_hold_place(case=case, by=archive_officer, kind="ivo", reason="IVO.")
    assert services.gallring_propose(agency=municipality, as_of=timezone.localdate()) is None
    with pytest.raises(ValidationError, match="skälet"):
        services.legal_hold_lift(hold=hold, by=archive_officer, reason="")
    services.legal_hold_lift(hold=hold, by=archive_officer, reason="IVO avslutat.")
    with pytest.raises(ValidationError, match="redan hävt"):
        services.legal_hold_lift(hold=hold, by=archive_officer, reason="Igen.")
    assert services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    actions = AuditEvent.objects.filter(case_id=case.pk).values_list("action", flat=True)
    assert {AuditAction.LEGAL_HOLD_PLACED, AuditAction.LEGAL_HOLD_LIFTED} <= set(actions)


def test_only_the_agencys_archive_officer_decides(
    old_closed: Callable[..., Case],
    municipality: Agency,
    other_municipality: Agency,
    coordinator: User,
    log_reviewer: User,
    agency_admin: User,
    make_user: Callable[..., User],
) -> None:
    old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    stranger = make_user(other_municipality, Role.ARCHIVE_OFFICER)
    for user in (coordinator, log_reviewer, agency_admin, stranger):
        with pytest.raises(PermissionDenied):
            services.gallring_approve(proposal=proposal, by=user)


def test_the_archive_officers_pages(
    old_closed: Callable[..., Case],
    archive_officer: User,
    coordinator: User,
    municipality: Agency,
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from retention import documents

    monkeypatch.setattr(documents, "enqueue", lambda task_name, object_id: None)
    case = old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    officer = login(archive_officer)
    assert officer.get(reverse("retention:list")).status_code == 200
    page = officer.get(reverse("retention:proposal", args=[proposal.pk]))
    assert page.status_code == 200
    assert case.reference in page.content.decode()
    assert "Testsson" not in page.content.decode()  # references, never names
    shown = AuditEvent.objects.filter(
        action=AuditAction.GALLRING_VIEW, shown_cases__case_id=case.pk
    )
    assert shown.exists()
    approve = reverse("retention:approve", args=[proposal.pk])
    assert officer.post(approve).status_code == 302
    again = officer.post(approve, follow=True)
    assert "redan beslutat" in again.content.decode()
    holds = officer.post(reverse("retention:holds"), {"case_number": case.pk, "kind": "ivo"})
    assert holds.status_code == 400
    other = login(coordinator)
    assert other.get(reverse("retention:list")).status_code == 403
    assert other.get(reverse("retention:proposal", args=[proposal.pk])).status_code == 404


def test_the_dry_run_lists_references_and_changes_nothing(
    old_closed: Callable[..., Case], municipality: Agency
) -> None:
    case = old_closed()
    out = StringIO()
    call_command("gallring", "--dry-run", stdout=out)
    assert case.reference in out.getvalue() and "delete" in out.getvalue()
    assert "Testsson" not in out.getvalue()
    assert not GallringProposal.objects.exists()
    call_command("gallring", stdout=StringIO())
    assert GallringItem.objects.get().case_id == case.pk


@pytest.mark.django_db
def test_the_log_is_kept_as_long_as_the_longest_case_file(settings: Any) -> None:
    settings.AVHOPP_AUDIT_RETENTION_MONTHS = 0
    assert services.audit_retention_months() == 84
    settings.AVHOPP_AUDIT_RETENTION_MONTHS = 120
    assert services.audit_retention_months() == 120


def test_the_archive_export_is_pdf_a_with_a_manifest(
    old_closed: Callable[..., Case], doc_root: Path
) -> None:
    import hashlib
    import json

    from pypdf import PdfReader

    from avhopp.storage import read_document
    from retention.documents import archive_export_create

    case = old_closed(born=date(1979, 8, 25))
    export = archive_export_create(case=case)
    archive_export_render(export_id=export.pk)
    export.refresh_from_db()
    pdf = read_document(export.document_path)
    assert hashlib.sha256(pdf).hexdigest() == export.document_sha256
    reader = PdfReader(io.BytesIO(pdf))
    assert "Testsson" in "".join(page.extract_text() for page in reader.pages)
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in metadata and "pdfaid:conformance" in metadata
    manifest = json.loads(read_document(export.manifest_path))
    assert manifest["case_reference"] == case.reference
    assert manifest["files"][0]["sha256"] == export.document_sha256


def test_a_file_with_a_relocation_goes_whole_with_the_agreements_copies(
    relocation: Relocation,
    parties: Parties,
    worker: User,
    municipality: Agency,
    archive_officer: User,
    doc_root: Path,
    django_capture_on_commit_callbacks,
) -> None:
    """A relocation protects its case: gallring takes it, its steps and the placement
    agreement's two copies first, and leaves nothing half-deleted."""
    relocation = advance_relocation(relocation, parties, RelocationStatus.MOVED)
    copies = ("relocations/full.pdf", "relocations/sending.pdf")
    for relative in copies:
        write_document(relative, b"%PDF-1.4 agreement")
    PlacementAgreement.objects.update_or_create(
        relocation=relocation, defaults={"full_path": copies[0], "sending_path": copies[1]}
    )
    case = close(relocation.case, worker)
    age_file(case, LONG_AGO)
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    assert [item.case_id for item in proposal.items.all()] == [case.pk]
    proposal = _approve_and_run(proposal, archive_officer, django_capture_on_commit_callbacks)
    assert proposal.items.get().outcome == ItemOutcome.DELETED
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not Relocation.objects.filter(pk=relocation.pk).exists()
    assert not RelocationStep.objects.filter(relocation_id=relocation.pk).exists()
    assert not Placement.objects.filter(relocation_id=relocation.pk).exists()
    assert not PlacementAgreement.objects.filter(relocation_id=relocation.pk).exists()
    assert not any((doc_root / relative).exists() for relative in copies)


def test_a_relocation_step_is_an_entry_of_the_file(
    relocation: Relocation, worker: User, municipality: Agency
) -> None:
    case = close(relocation.case, worker)
    age_file(case, LONG_AGO)
    [due] = services.files_due(agency=municipality, as_of=timezone.localdate())
    assert due.case.pk == case.pk
    RelocationStep.objects.filter(relocation=relocation).update(entered_at=LATER)
    [due] = services.files_due(agency=municipality, as_of=timezone.localdate())
    assert due.last_entry_on == date(2018, 1, 10)


# --- Carried out again: a run cut short, a job the broker missed -------------------------------


class WorkerLost(Exception):
    """The run stops here, as when its worker is killed: what it committed stays."""


@pytest.mark.parametrize("lost_at", ["JournalEntry", "Consent", "the log row"])
def test_a_run_cut_short_is_finished_by_the_next_under_one_pseudonym_and_logged_once(
    lost_at: str,
    full_file: Case,
    archive_officer: User,
    municipality: Agency,
    doc_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    """Lost among the file's rows, after the case row (the person left), or just before the
    outcome and its log row: the next run deletes the rest and logs the deletion once."""
    person = full_file.individual_id
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=False):
        services.gallring_approve(proposal=proposal, by=archive_officer)
    real_delete, real_audit = services.delete_in_batches, services.audit_record

    def delete_until_lost(queryset: Any, batch_size: int) -> None:
        if queryset.model.__name__ == lost_at:
            raise WorkerLost
        real_delete(queryset, batch_size)

    def log_until_lost(**event: Any) -> None:
        if lost_at == "the log row":
            raise WorkerLost
        real_audit(**event)

    monkeypatch.setattr(services, "delete_in_batches", delete_until_lost)
    monkeypatch.setattr(services, "audit_record", log_until_lost)
    with pytest.raises(WorkerLost):
        services.gallring_execute(proposal_id=proposal.pk, batch_size=2)
    item = proposal.items.get()
    assert item.outcome == ItemOutcome.PENDING and item.pseudonym.startswith("G-")
    assert Case.objects.filter(pk=full_file.pk).exists() == (lost_at == "JournalEntry")
    assert Individual.objects.filter(pk=person).exists() == (lost_at != "the log row")
    assert _files(doc_root) == set()  # each document went with its row, none left behind
    assert not AuditEvent.objects.filter(action=AuditAction.GALLRING_DELETED).exists()

    monkeypatch.setattr(services, "delete_in_batches", real_delete)
    monkeypatch.setattr(services, "audit_record", real_audit)
    services.gallring_execute(proposal_id=proposal.pk, batch_size=2)
    services.gallring_execute(proposal_id=proposal.pk, batch_size=2)  # done: changes nothing
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DONE
    begun_as = item.pseudonym
    item.refresh_from_db()
    assert (item.outcome, item.pseudonym) == (ItemOutcome.DELETED, begun_as)
    assert not Case.objects.filter(pk=full_file.pk).exists()
    assert not Individual.objects.filter(pk=person).exists()
    assert not Consent.objects.filter(individual_id=person).exists()
    assert set(_method_rows(full_file.pk).values()) == {0}
    [logged] = AuditEvent.objects.filter(action=AuditAction.GALLRING_DELETED)
    assert (logged.case_id, logged.individual_id, logged.reason) == (full_file.pk, person, begun_as)


def test_the_archive_export_is_ordered_once_whatever_stops_the_run(
    old_closed: Callable[..., Case],
    archive_officer: User,
    municipality: Agency,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,
) -> None:
    research = old_closed(born=date(1979, 8, 15))
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=False):
        services.gallring_approve(proposal=proposal, by=archive_officer)
    real_create = services.archive_export_create

    def create_then_lost(**order: Any) -> ArchiveExport:
        real_create(**order)
        raise WorkerLost

    monkeypatch.setattr(services, "archive_export_create", create_then_lost)
    with (
        django_capture_on_commit_callbacks(execute=False) as published,
        pytest.raises(WorkerLost),
    ):
        services.gallring_execute(proposal_id=proposal.pk)
    # The export and the item's outcome are one transaction: undone together.
    assert not ArchiveExport.objects.exists() and published == []
    assert proposal.items.get().outcome == ItemOutcome.PENDING

    monkeypatch.setattr(services, "archive_export_create", real_create)
    with django_capture_on_commit_callbacks(execute=False) as published:
        services.gallring_execute(proposal_id=proposal.pk)
        services.gallring_execute(proposal_id=proposal.pk)
    item = proposal.items.get()
    [export] = ArchiveExport.objects.all()
    assert (export.case_id, export.item, item.outcome) == (
        research.pk,
        item,
        ItemOutcome.ARCHIVED,
    )
    assert len(published) == 1  # its render published once
    assert AuditEvent.objects.filter(action=AuditAction.ARCHIVE_EXPORT).count() == 1
    assert Case.objects.filter(pk=research.pk).exists()


@pytest.mark.services
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs the Redis broker")
def test_an_approval_the_broker_missed_is_published_again_and_carried_out(
    old_closed: Callable[..., Case],
    archive_officer: User,
    municipality: Agency,
    django_capture_on_commit_callbacks,
) -> None:
    due = old_closed()
    proposal = services.gallring_propose(agency=municipality, as_of=timezone.localdate())
    with broker_at(DEAD_BROKER), django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.gallring_approve(proposal=proposal, by=archive_officer)
    assert len(callbacks) == 1  # published, and refused: the decision stands all the same
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert take_queued(execute_gallring.name, {proposal.pk}) == 0

    # Just approved: not published again yet (its job may be on the way).
    assert services.gallring_requeue_stale() == 0
    assert take_queued(execute_gallring.name, {proposal.pk}) == 0
    GallringProposal.objects.filter(pk=proposal.pk).update(
        queued_at=timezone.now() - timedelta(minutes=20)
    )
    try:
        assert services.gallring_requeue_stale() == 1
    finally:
        published = take_queued(execute_gallring.name, {proposal.pk})
    assert published == 1
    execute_gallring.apply(args=[proposal.pk])
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DONE
    assert proposal.items.get().outcome == ItemOutcome.DELETED
    assert not Case.objects.filter(pk=due.pk).exists()
    assert services.gallring_requeue_stale(older_than=timedelta(0)) == 0  # done: owed no more
