"""Every PDF avhopp.pdf makes is tagged, with its language and title: PDF/UA-1 by default, and
the archive's PDF/A tagged as well. Read back with pypdf, not taken on WeasyPrint's word."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, BooleanObject, DictionaryObject

from avhopp.models import Agency, User
from avhopp.pdf import render_pdf
from avhopp.storage import read_document
from cases import services as case_services
from cases.models import Case, Consent, InterventionKind
from referrals import services
from referrals.models import DocumentKind, Referral

pytestmark = pytest.mark.usefixtures("doc_root")


def structure(reader: PdfReader) -> Counter[str]:
    """How many of each structure element the document's tag tree holds."""
    found: Counter[str] = Counter()

    def walk(node: Any) -> None:
        node = node.get_object()
        if isinstance(node, ArrayObject):
            for kid in node:
                walk(kid)
        elif isinstance(node, DictionaryObject) and node.get("/Type") == "/StructElem":
            found[str(node["/S"])[1:]] += 1
            if "/K" in node:
                walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"]["/K"])
    return found


def xmp(reader: PdfReader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def assert_accessible(content: bytes, title: str) -> tuple[PdfReader, Counter[str]]:
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert root["/MarkInfo"]["/Marked"] == BooleanObject(True)
    assert root["/Lang"] == "sv"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == BooleanObject(True)
    assert reader.metadata.title == title
    assert reader.xmp_metadata.dc_title == {"x-default": title}
    tags = structure(reader)
    assert tags["Document"] == 1
    # Every page's text is in the tree: one page's worth of paragraphs at the least.
    assert tags["P"] > 0
    return reader, tags


@pytest.mark.django_db
def test_a_referral_is_tagged_pdf_ua(
    owned_case: Case,
    coordinator: User,
    worker: User,
    police_agency: Agency,
    consent_to: Callable[..., Consent],
) -> None:
    case_services.intervention_create(
        case=owned_case, by=worker, kind=InterventionKind.WORK, provider_name="Arbetsförmedlingen"
    )
    referral = services.referral_create(
        case=owned_case,
        by=coordinator,
        to_agency=police_agency,
        consent=consent_to(owned_case, police_agency),
        contact_person="Karin Kontakt",
        reason="Behöver skydd.",
        include_interventions=True,
    )
    services.referral_render(referral_id=referral.pk)
    referral.refresh_from_db()
    reader, tags = assert_accessible(
        read_document(referral.document_path), f"Remiss {referral.reference}"
    )
    assert 'pdfuaid:part="1"' in xmp(reader)
    assert tags["H1"] == 1 and tags["H2"] >= 3
    # The facts table (row headers) and the interventions (column headers).
    assert tags["Table"] == 3 and tags["TH"] >= 10 and tags["TD"] >= 10
    assert tags["THead"] == 1


@pytest.mark.django_db
def test_a_sip_is_tagged_pdf_ua(
    owned_case: Case,
    coordinator: User,
    prison_agency: Agency,
    consent_to: Callable[..., Consent],
) -> None:
    sip = services.referral_create(
        case=owned_case,
        by=coordinator,
        kind=DocumentKind.SIP,
        consent=consent_to(owned_case, prison_agency),
        contact_person="Karin Kontakt",
        overall_responsibility="Socialtjänsten",
        next_follow_up=None,
    )
    services.referral_render(referral_id=sip.pk)
    sip = Referral.objects.get(pk=sip.pk)
    reader, tags = assert_accessible(
        read_document(sip.document_path), f"SIP (samordnad individuell plan) {sip.reference}"
    )
    assert 'pdfuaid:part="1"' in xmp(reader)
    assert tags["L"] == 1 and tags["LI"] >= 1  # the participants


HTML = (
    '<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>Arkivexemplar</title>'
    "</head><body><h1>Arkivexemplar</h1><p>Akten i sin helhet.</p></body></html>"
)


def test_the_archive_stays_pdf_a_and_is_tagged_too() -> None:
    reader, tags = assert_accessible(
        render_pdf(HTML, pdf_variant="pdf/a-3b").content, "Arkivexemplar"
    )
    metadata = xmp(reader)
    assert 'pdfaid:part="3"' in metadata and 'pdfaid:conformance="B"' in metadata
    assert "pdfuaid" not in metadata  # one profile is claimed: the archive's
    assert tags["H1"] == 1


@pytest.mark.parametrize(
    "html",
    [
        HTML.replace(' lang="sv"', ""),
        HTML.replace("<title>Arkivexemplar</title>", ""),
        HTML.replace("<title>Arkivexemplar</title>", "<title> </title>"),
    ],
    ids=["no language", "no title", "blank title"],
)
def test_a_document_without_language_or_title_is_refused(html: str) -> None:
    with pytest.raises(ValueError, match=r"lang.*title"):
        render_pdf(html)
