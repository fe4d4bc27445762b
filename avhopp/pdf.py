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


def render_pdf(html: str) -> RenderedPdf:
    document = HTML(string=html, url_fetcher=local_url_fetcher()).render()
    return RenderedPdf(content=document.write_pdf(), page_count=len(document.pages))
