"""The documents of a case file: the person's register and log extracts, and the archive's
PDF/A copy of a research-sample file with its manifest. Each is made by a Celery task and kept
only in the private document store."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import AuditAction, AuditEvent, User
from avhopp.pdf import render_pdf
from avhopp.storage import documents_recorded, read_document, write_document
from cases.audit_selectors import touching_case
from cases.models import Case, Individual
from cases.policy import CaseAction, CasePolicy
from method.models import OUTCOME_ANSWERS, AgreementEntry, CaseStep, FollowUpOutcome, StepState
from retention.models import ArchiveExport, DocumentStatus, Extract, ExtractKind, GallringItem
from retention.policy import ExtractAction, ExtractPolicy

if TYPE_CHECKING:
    from retention.models import DocumentFields


# PDF/A-3b: the archival profile WeasyPrint writes (fonts embedded, colour profile included).
ARCHIVE_PDF_VARIANT = "pdf/a-3b"


def _answers(outcome: FollowUpOutcome) -> list[tuple[str, str]]:
    return [
        (
            capfirst(FollowUpOutcome._meta.get_field(name).verbose_name),
            getattr(outcome, f"get_{name}_display")(),
        )
        for name in OUTCOME_ANSWERS
    ]


def _method_parts(case: Case) -> dict[str, Any]:
    """The method's part of the file: the checklist's steps done or waived (not the
    checklist's guidance, which is about the work, not the person), the decisions and under
    which delegation, the agreements with their conditions and entries, and the outcomes."""
    entries = AgreementEntry.objects.select_related("condition").order_by("occurred_on", "pk")
    return {
        "steps": list(
            CaseStep.objects.filter(checklist__case=case)
            .exclude(state=StepState.OPEN)
            .select_related("step")
            .order_by("settled_at", "pk")
        ),
        "decisions": list(case.decisions.order_by("decided_at", "pk")),
        "agreements": list(
            case.agreements.select_related("police_party")
            .prefetch_related("conditions", Prefetch("entries", entries))
            .order_by("created_at", "pk")
        ),
        "outcomes": [(outcome, _answers(outcome)) for outcome in case.outcomes.order_by("months")],
    }


def _file_sections(cases: QuerySet[Case]) -> list[dict[str, Any]]:
    """Everything of each case. Staff appear by agency, never by name: the document is the
    person's, and names of staff are other people's data. Threat details never appear (they
    are the police's, under secrecy); the level, summary and measures do."""
    sections = []
    for case in cases.select_related("owning_agency").order_by("opened_at", "pk"):
        sections.append(
            {
                "case": case,
                "status_changes": list(case.status_changes.all()),
                "interventions": list(case.interventions.select_related("provider_agency")),
                "threats": list(case.threat_assessments.defer("details")),
                "journal": list(case.journal_entries.order_by("created_at", "pk")),
                "shares": list(case.shares.select_related("agency").order_by("created_at")),
                "referrals": list(
                    case.referrals.select_related("to_agency").order_by("created_at")
                ),
                **_method_parts(case),
            }
        )
    return sections


def file_html(
    *, individual: Individual, cases: QuerySet[Case], title: str, agency_name: str
) -> str:
    context = {
        "title": title,
        "agency_name": agency_name,
        "individual": individual,
        "consents": list(individual.consents.select_related("recipient").order_by("given_on")),
        "sections": _file_sections(cases),
        "made_at": timezone.localtime(),
    }
    with translation.override("sv"):
        return render_to_string("retention/file_document.html", context)


def log_rows(*, individual: Individual, cases: QuerySet[Case]) -> list[dict[str, Any]]:
    """Every logged access to the person's file at this agency: the events about their cases
    (the lists that showed them included) and about the person, oldest first."""
    touching = Q(individual_id=individual.pk)
    for case_id in cases.values_list("pk", flat=True):
        touching |= touching_case(case_id)
    role_labels = dict(User._meta.get_field("role").flatchoices)
    name_staff = settings.AVHOPP_LOG_EXTRACT_NAMES_STAFF
    return [
        {
            "occurred_at": timezone.localtime(event.occurred_at),
            "agency": event.agency_name,
            "role": role_labels.get(event.role, event.role),
            "action": event.action_label,
            "username": event.username if name_staff else "",
        }
        for event in AuditEvent.objects.filter(touching).order_by("occurred_at", "id")
    ]


def log_html(*, individual: Individual, cases: QuerySet[Case], agency_name: str) -> str:
    context = {
        "title": _("Loggutdrag"),
        "agency_name": agency_name,
        "individual": individual,
        "rows": log_rows(individual=individual, cases=cases),
        "names_staff": settings.AVHOPP_LOG_EXTRACT_NAMES_STAFF,
        "made_at": timezone.localtime(),
    }
    with translation.override("sv"):
        return render_to_string("retention/log_document.html", context)


def _store(document: DocumentFields, relative: str, content: bytes) -> dict[str, Any]:
    """Write the document and set its fields on `document`; those fields, for the caller to
    record."""
    write_document(relative, content)
    fields = {
        "document_path": relative,
        "document_sha256": hashlib.sha256(content).hexdigest(),
        "generated_at": timezone.now(),
        "status": DocumentStatus.READY,
    }
    for name, value in fields.items():
        setattr(document, name, value)
    return fields


@transaction.atomic
def extract_request(*, case: Case, by: User, kind: str, identity_checked: str) -> Extract:
    """At the person's own request, after the responsible worker checked who they are."""
    CasePolicy.require(by, CaseAction.VIEW, case)
    ExtractPolicy.check(by, ExtractAction.REQUEST, case)
    if kind not in ExtractKind.values:
        raise ValidationError(_("Välj typ av utdrag."))
    if not identity_checked.strip():
        raise ValidationError(_("Ange hur personens identitet kontrollerades."))
    extract = Extract.objects.create(
        kind=kind,
        case=case,
        individual_id=case.individual_id,
        requested_by=by,
        identity_checked=identity_checked.strip()[:200],
    )
    audit_record(
        actor=by,
        action=AuditAction.EXTRACT_REQUESTED,
        obj=extract,
        case_id=case.pk,
        individual_id=case.individual_id,
        reason=kind,
    )
    transaction.on_commit(lambda: enqueue("render_extract", extract.pk))
    return extract


def enqueue(task_name: str, object_id: int) -> bool:
    """Publish a retention task by name (after commit, by the caller)."""
    from retention import tasks  # the tasks import this module

    return jobs.publish(getattr(tasks, task_name), object_id)


def documents_requeue_stale(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Publish again the extracts and archive exports left queued (the broker was down, a
    worker vanished)."""
    from retention import tasks

    return sum(
        jobs.requeue_stale(
            model.objects.filter(status=DocumentStatus.QUEUED),
            task=task,
            older_than=older_than,
            limit=100,
        )
        for model, task in (
            (Extract, tasks.render_extract),
            (ArchiveExport, tasks.render_archive_export),
        )
    )


def extract_render(*, extract_id: int) -> None:
    extract = (
        Extract.objects.select_related("case__owning_agency", "individual")
        .filter(pk=extract_id)
        .first()
    )
    if extract is None or extract.status == DocumentStatus.READY:
        return  # deleted by gallring meanwhile, or a duplicate job
    agency = extract.case.owning_agency
    # What this agency holds: the person's cases that it owns.
    cases = Case.objects.filter(individual=extract.individual, owning_agency=agency)
    if extract.kind == ExtractKind.REGISTER:
        html = file_html(
            individual=extract.individual,
            cases=cases,
            title=_("Registerutdrag"),
            agency_name=agency.name,
        )
    else:
        html = log_html(individual=extract.individual, cases=cases, agency_name=agency.name)
    relative = f"extracts/{extract.pk}.pdf"
    fields = _store(extract, relative, render_pdf(html).content)
    documents_recorded(Extract.objects.filter(pk=extract.pk), [relative], **fields)


def extract_hand_over(*, extract: Extract, by: User) -> bytes:
    """The document, for the responsible worker to hand to the person; logged."""
    ExtractPolicy.check(by, ExtractAction.HAND_OVER, extract)
    if extract.status != DocumentStatus.READY:
        raise ValidationError(_("Utdraget är inte klart."))
    audit_record(
        actor=by,
        action=AuditAction.EXTRACT_DOWNLOAD,
        obj=extract,
        case_id=extract.case_id,
        individual_id=extract.individual_id,
        reason=extract.kind,
    )
    return read_document(extract.document_path)


@transaction.atomic
def archive_export_create(*, case: Case, item: GallringItem | None = None) -> ArchiveExport:
    export = ArchiveExport.objects.create(case_id=case.pk, case_reference=case.reference, item=item)
    audit_record(
        actor=None,
        action=AuditAction.ARCHIVE_EXPORT,
        obj=export,
        case_id=case.pk,
        individual_id=case.individual_id,
    )
    transaction.on_commit(lambda: enqueue("render_archive_export", export.pk))
    return export


def archive_export_render(*, export_id: int) -> None:
    """The whole file as PDF/A, and a manifest naming it with its checksum, side by side
    under archive/<case id>/ in the document store, for delivery to the archive."""
    export = ArchiveExport.objects.get(pk=export_id)
    if export.status == DocumentStatus.READY:
        return
    case = Case.objects.select_related("individual", "owning_agency").get(pk=export.case_id)
    html = file_html(
        individual=case.individual,
        cases=Case.objects.filter(pk=case.pk),
        title=_("Arkivexemplar"),
        agency_name=case.owning_agency.name,
    )
    pdf = render_pdf(html, pdf_variant=ARCHIVE_PDF_VARIANT)
    folder = f"archive/{case.pk}"
    _store(export, f"{folder}/{export.pk}.pdf", pdf.content)
    manifest = {
        "case_reference": export.case_reference,
        "agency": case.owning_agency.name,
        "exported_at": export.generated_at.isoformat(),
        "reason": "research_sample",
        "legal_reference": export.item.proposal.legal_reference if export.item_id else "",
        "files": [
            {
                "name": f"{export.pk}.pdf",
                "format": "PDF/A-3b",
                "bytes": len(pdf.content),
                "pages": pdf.page_count,
                "sha256": export.document_sha256,
            }
        ],
    }
    export.manifest_path = f"{folder}/{export.pk}-manifest.json"
    write_document(
        export.manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False).encode()
    )
    export.save(
        update_fields=[
            "document_path",
            "document_sha256",
            "generated_at",
            "status",
            "manifest_path",
        ]
    )


def document_failed(*, model: type[Extract | ArchiveExport], object_id: int, error: str) -> None:
    model.objects.filter(pk=object_id, status=DocumentStatus.QUEUED).update(
        status=DocumentStatus.FAILED, error_message=error[:300]
    )
