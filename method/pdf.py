"""The agreement for signature, as a PDF through the core's WeasyPrint renderer (avhopp.pdf)
into private document storage (avhopp.storage)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from avhopp.pdf import render_pdf
from avhopp.storage import documents_recorded, write_document
from cases.masking import shown_identity
from method.models import Agreement


def agreement_filename(agreement_id: int) -> str:
    return f"method/agreement-{agreement_id}.pdf"


def agreement_html(agreement: Agreement) -> str:
    """The person signs it, so it names them; a protected identity number stays masked."""
    with translation.override("sv"):
        return render_to_string(
            "method/agreement_document.html",
            {
                "agreement": agreement,
                "case": agreement.case,
                "conditions": list(agreement.conditions.all()),
                "identity": shown_identity(agreement.case.individual),
            },
        )


def agreement_render(*, agreement_id: int) -> None:
    """Idempotent: a re-run writes the same file."""
    agreement = (
        Agreement.objects.select_related(
            "case__individual", "case__owning_agency", "police_party", "supersedes"
        )
        .filter(pk=agreement_id)
        .first()
    )
    if agreement is None:
        return
    relative = agreement_filename(agreement_id)
    write_document(relative, render_pdf(agreement_html(agreement)).content)
    documents_recorded(
        Agreement.objects.filter(pk=agreement_id),
        [relative],
        document_path=relative,
        generated_at=timezone.now(),
    )
