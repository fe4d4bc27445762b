"""The journal extract: the case's journal as a PDF for the file, through the core's
WeasyPrint renderer (avhopp.pdf) into private document storage (avhopp.storage), made by a
Celery job (cases.tasks)."""

from __future__ import annotations

from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation

from avhopp.pdf import render_pdf
from avhopp.storage import documents_recorded, write_document
from cases.masking import shown_identity
from cases.models import JournalExtract, JournalExtractStatus
from cases.parts import JOURNAL
from cases.policy import CaseAccess, CaseAction
from cases.selectors import get_case_for_user


def journal_extract_filename(extract_id: int) -> str:
    return f"journal/{extract_id}.pdf"


def journal_extract_html(access: CaseAccess, extract: JournalExtract) -> tuple[str, int]:
    """The document and how many entries it holds: every entry up to the order, oldest first,
    as the reader reads them on the case page. The identity number of a protected person is
    masked and no address is printed: the PDF is a copy that may be printed and filed."""
    entries = JOURNAL.read(access).filter(created_at__lte=extract.requested_at)
    rows = JOURNAL.rows(entries.order_by("created_at", "pk"))
    case = access.case
    with translation.override("sv"):
        html = render_to_string(
            "cases/journal_document.html",
            {
                "case": case,
                "person": case.individual,
                "identity": shown_identity(case.individual),
                "entries": rows,
                "extract": extract,
                "made_at": timezone.localtime(),
            },
        )
    return html, len(rows)


def journal_extract_render(*, extract_id: int) -> None:
    """Idempotent: a done extract is left alone, an interrupted one is made again under the
    same name."""
    extract = JournalExtract.objects.select_related("requested_by").filter(pk=extract_id).first()
    if extract is None or extract.status != JournalExtractStatus.QUEUED:
        return
    # The orderer's access as it is now: who may no longer read the journal gets no extract
    # (the checkpoint's refusal marks it failed).
    access = get_case_for_user(extract.requested_by, extract.case_id, CaseAction.READ_JOURNAL)
    html, entry_count = journal_extract_html(access, extract)
    pdf = render_pdf(html)
    relative = journal_extract_filename(extract_id)
    write_document(relative, pdf.content)
    documents_recorded(
        JournalExtract.objects.filter(pk=extract_id),
        [relative],
        where=Q(status=JournalExtractStatus.QUEUED),
        status=JournalExtractStatus.READY,
        document_path=relative,
        page_count=pdf.page_count,
        entry_count=entry_count,
        generated_at=timezone.now(),
        error_message="",
    )
