"""HTML to PDF with WeasyPrint, never touching the network.

Every document is tagged (a structure tree of headings, paragraphs, lists and tables that a
screen reader follows) and carries its language and title: PDF/UA-1 unless the caller asks for
another profile, such as PDF/A for the archive, which is then tagged all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from weasyprint import HTML
from weasyprint.urls import URLFetcher

# The accessible profile: tagged, /Lang and /Title set, the title shown by the viewer.
ACCESSIBLE_PDF_VARIANT = "pdf/ua-1"


def local_url_fetcher() -> URLFetcher:
    """Only inline data: URLs; a document must never call out over the network.

    Fonts come from the machine's fontconfig (DejaVu), not from any URL.
    """
    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    page_count: int


def render_pdf(html: str, *, pdf_variant: str | None = None) -> RenderedPdf:
    """`pdf_variant`: one of WeasyPrint's profiles, e.g. "pdf/a-3b" for the archive; PDF/UA-1
    by default. The HTML must have `<html lang>` and a `<title>`: without them a reader is
    read in the wrong voice and named by its file, so such a document is refused."""
    document = HTML(string=html, url_fetcher=local_url_fetcher()).render()
    if not (document.metadata.lang and (document.metadata.title or "").strip()):
        raise ValueError("a document needs <html lang> and a <title> to be accessible")
    content = document.write_pdf(
        pdf_variant=pdf_variant or ACCESSIBLE_PDF_VARIANT,
        # Tagged whatever the profile: PDF/A-3b itself does not ask for tags.
        pdf_tags=True,
    )
    return RenderedPdf(content=content, page_count=len(document.pages))
