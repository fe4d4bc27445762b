"""HTML to PDF with WeasyPrint, never touching the network."""

from __future__ import annotations

from dataclasses import dataclass

from weasyprint import HTML
from weasyprint.urls import URLFetcher


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
    """`pdf_variant`: one of WeasyPrint's profiles, e.g. "pdf/a-3b" for the archive."""
    document = HTML(string=html, url_fetcher=local_url_fetcher()).render()
    return RenderedPdf(
        content=document.write_pdf(pdf_variant=pdf_variant), page_count=len(document.pages)
    )
