"""Private document storage: files under DOCUMENT_ROOT, reachable only through a checked view."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import FileResponse

logger = logging.getLogger(__name__)


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


def delete_document(relative: str) -> None:
    document_path(relative).unlink(missing_ok=True)


def documents_recorded(
    rows: QuerySet, paths: Iterable[str], *, where: Q | None = None, **fields: Any
) -> bool:
    """Record documents just written on the rows that name them (`rows`, by key), setting
    `fields` on those of them that match `where`; or, when gallring deleted the rows while
    the documents were made, remove the documents (then False). No document may outlive the
    row that names it: gallring reads a batch's paths under the same row lock it deletes
    them under, so either it waits for this and finds the paths recorded, or this waits for
    it and finds the rows gone. A row that is there but in another state keeps its
    documents: a duplicate job writes the same names, and another worker may have recorded
    them."""
    paths = [relative for relative in paths if relative]
    with transaction.atomic():
        if not list(rows.select_for_update().values_list("pk", flat=True)):
            for relative in paths:
                delete_document(relative)
            logger.info(
                "%s gone while its documents were made: %s removed", rows.model._meta.label, paths
            )
            return False
        rows.filter(where or Q()).update(**fields)
    return True


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
