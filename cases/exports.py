"""The case list as a file: the rows the list shows (cases.presentation), masked as the list
masks them, in the reader's language, read a chunk of cases at a time."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from avhopp.models import User
from cases.presentation import CaseRow, case_rows
from cases.selectors import cases_for_rows

# Cases loaded per query while the file is written.
CHUNK = 500


def _header() -> list[str]:
    return [
        _("Ärende"),
        _("Namn"),
        _("Skyddade personuppgifter"),
        _("Personnummer"),
        _("Status"),
        _("Hotnivå"),
        _("Omprövning"),
        _("Ansvarig"),
        _("Ansvarig kommun"),
        _("Aktualiserad"),
    ]


def _cells(row: CaseRow) -> list[str]:
    return [
        row.reference,
        row.name,
        _("Ja") if row.protected else "",
        row.identity_number,
        str(row.status),
        str(row.threat_label),
        row.review_due,
        row.responsible,
        row.agency,
        row.opened,
    ]


def case_table(user: User, ids: list[int], *, language: str) -> Iterator[list[str]]:
    """The header, then a row for each case of `ids` (read from the user's visible cases,
    cases.selectors.case_export_ids) in that order. Lazy: a streamed response writes it
    after the view has returned, so the language is set here, not left to the request."""
    with translation.override(language):
        yield _header()
        today = timezone.localdate()
        for start in range(0, len(ids), CHUNK):
            for row in case_rows(cases_for_rows(user, ids[start : start + CHUNK]), today=today):
                yield _cells(row)


def export_filename(extension: str) -> str:
    return f"avhopp-arenden-{timezone.localdate():%Y-%m-%d}.{extension}"
