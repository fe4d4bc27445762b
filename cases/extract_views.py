"""The journal extract's pages: ordered from the case page, followed while the job makes it,
downloaded by the reader who ordered it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from avhopp.audit import audit_event
from avhopp.models import AuditAction
from avhopp.storage import document_response
from cases import services
from cases.checkpoint import audit_case_page, case_view
from cases.policy import CaseAccess, CaseAction
from cases.selectors import get_journal_extract


@case_view(CaseAction.READ_JOURNAL)
@require_POST
def journal_extract_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    return redirect(services.journal_extract_order(access=access))


@never_cache
@case_view(CaseAction.READ_JOURNAL)
@require_safe
def journal_extract_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    extract = get_journal_extract(access, pk)
    return render(request, "cases/journal_extract.html", {"case": access.case, "extract": extract})


@never_cache
@case_view(CaseAction.READ_JOURNAL)
@require_safe
def journal_extract_status_view(request: HttpRequest, access: CaseAccess, pk: int) -> JsonResponse:
    """Polled by static/js/job-status.js while the PDF is made. It carries nothing of the
    case, so it logs no read (the page that polls has logged one)."""
    extract = get_journal_extract(access, pk)
    audit_case_page(request, [])
    return JsonResponse({"label": extract.status_label, "pending": extract.is_pending})


@never_cache
@case_view(CaseAction.READ_JOURNAL)
@require_safe
def journal_extract_download_view(
    request: HttpRequest, access: CaseAccess, pk: int
) -> HttpResponse:
    extract = get_journal_extract(access, pk)
    if not extract.is_ready:
        return HttpResponse(_("Journalutdraget är inte klart."), status=409)
    # The download is the read of the case this request makes: logged as that, once.
    audit_case_page(
        request,
        [
            audit_event(
                actor=request.user,
                action=AuditAction.DOCUMENT_DOWNLOAD,
                obj=extract,
                case_id=access.case.pk,
                individual_id=access.case.individual_id,
            )
        ],
    )
    return document_response(
        extract.document_path, filename=f"{access.case.reference}-journal-{extract.pk}.pdf"
    )
