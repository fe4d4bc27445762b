"""Private document storage: files under DOCUMENT_ROOT, reachable only through a checked view."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import FileResponse


def document_path(relative: str) -> Path:
    root = Path(settings.DOCUMENT_ROOT).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise ValueError("document path escapes the document root")
    return path


def write_document(relative: str, content: bytes) -> None:
    """Write atomically, so a crash mid-write never leaves a half document under the name."""
    target = document_path(relative)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(handle.name, 0o600)
    os.replace(handle.name, target)


def read_document(relative: str) -> bytes:
    return document_path(relative).read_bytes()


def document_response(
    relative: str,
    *,
    filename: str,
    content_type: str = "application/pdf",
    as_attachment: bool = True,
) -> FileResponse:
    """A stored document as the answer to a request its view has checked and logged. Marked
    no-store here as well as by the session middleware: of all answers, a document is the
    copy most worth keeping out of a browser's cache."""
    response = FileResponse(
        io.BytesIO(read_document(relative)),
        as_attachment=as_attachment,
        filename=filename,
        content_type=content_type,
    )
    response["Cache-Control"] = "no-store"
    return response
