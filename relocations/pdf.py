"""The placement agreement between the two municipalities, as two PDF copies through the
core's WeasyPrint renderer (avhopp.pdf): the receiving side's whole, the sending side's
without the new address, which nobody there may read (relocations.policy)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from avhopp.pdf import render_pdf
from avhopp.storage import documents_recorded, write_document
from relocations.models import AgreementCopy, PlacementAgreement, Relocation


def agreement_filename(relocation_id: int, copy: AgreementCopy) -> str:
    return f"relocations/{relocation_id}-{copy}.pdf"


def agreement_html(relocation: Relocation, copy: AgreementCopy) -> str:
    with translation.override("sv"):
        return render_to_string(
            "relocations/agreement_document.html",
            {
                "relocation": relocation,
                "placement": relocation.placement,
                # The sending side's copy never carries the address.
                "shows_address": copy == AgreementCopy.FULL,
                "today": timezone.localdate(),
            },
        )


def agreement_render(*, relocation_id: int) -> None:
    """Render both copies. Idempotent: a re-run writes the same two files."""
    relocation = (
        Relocation.objects.select_related(
            "sending_agency", "receiving_agency", "placement", "agreement"
        )
        .filter(pk=relocation_id, agreement__isnull=False)
        .first()
    )
    if relocation is None:
        return
    paths = {}
    for copy in AgreementCopy:
        relative = agreement_filename(relocation_id, copy)
        write_document(relative, render_pdf(agreement_html(relocation, copy)).content)
        paths[copy] = relative
    documents_recorded(
        PlacementAgreement.objects.filter(relocation_id=relocation_id),
        paths.values(),
        full_path=paths[AgreementCopy.FULL],
        sending_path=paths[AgreementCopy.SENDING],
        generated_at=timezone.now(),
    )
