"""HTML to PDF with WeasyPrint, never touching the network."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
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
    with collector_paused():
        document = HTML(string=html, url_fetcher=local_url_fetcher()).render()
        return RenderedPdf(content=document.write_pdf(), page_count=len(document.pages))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for the duration.

    WeasyPrint builds a tree of layout objects that all live until the document is written,
    and the collector scans them again and again as the tree grows: a sixth of a referral's
    render time (bench/run.py). Reference counting frees them afterwards, so the peak memory
    stayed the same (a 90-page document: +121 MB with the collector, +125 MB without). A
    worker process renders one document at a time; where threads render at once, whichever
    render found the collector on turns it back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
