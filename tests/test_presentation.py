"""The rows of cases.presentation (case list, journal, status history) and the select widget
the list is filtered with."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from django.utils import translation

from avhopp.models import User
from cases.forms import CaseFilterForm
from cases.identity import format_identity_number, mask_identity_number
from cases.models import Case, CaseStatusChange, JournalEntry, ProtectionLevel, ThreatLevel
from cases.presentation import (
    JOURNAL_COLUMNS,
    STATUS_CHANGE_COLUMNS,
    case_rows,
    journal_rows,
    status_change_rows,
)
from cases.selectors import cases_for_rows


def test_rows_show_labels_dates_and_the_masked_number(
    make_case: Callable[..., Case], worker: User
) -> None:
    open_case = make_case(worker, first_name="Ali", last_name="Berg")
    hidden = make_case(worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION)
    today = date(2026, 11, 22)
    Case.objects.filter(pk=open_case.pk).update(
        threat_level=ThreatLevel.HIGH, threat_review_due=today - timedelta(days=1)
    )
    Case.objects.filter(pk=hidden.pk).update(threat_review_due=today)
    cases = cases_for_rows(worker, [open_case.pk, hidden.pk])
    with translation.override("sv"):
        shown, masked = case_rows(cases, today=today)
    assert (shown.url, shown.reference) == (open_case.get_absolute_url(), open_case.reference)
    assert (shown.name, shown.protected) == ("Ali Berg", False)
    assert shown.identity_number == format_identity_number(open_case.individual.personnummer)
    assert (shown.status, shown.threat_level, shown.threat_label) == (
        "Aktualisering",
        "high",
        "Hög",
    )
    assert (shown.review_due, shown.review_overdue) == ("2026-11-21", True)
    assert (shown.responsible, shown.agency) == (str(worker), str(worker.agency))
    assert masked.protected
    assert masked.identity_number == mask_identity_number(hidden.individual.personnummer)
    assert hidden.individual.personnummer[-4:] not in masked.identity_number
    assert (masked.threat_label, masked.review_due, masked.review_overdue) == (
        "",
        "2026-11-22",
        False,
    )


def test_journal_rows_show_local_minutes_and_escaped_text(case: Case, worker: User) -> None:
    # 23:30 UTC on 31 December is already the new year in Stockholm.
    first = JournalEntry.objects.create(
        case=case,
        author=worker,
        created_at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
        text="<b>Hot</b> & oro\nnästa rad",
    )
    JournalEntry.objects.create(
        case=case,
        author=worker,
        created_at=datetime(2026, 6, 1, 10, 5, tzinfo=UTC),
        text="Rättelse",
        corrects=first,
    )
    entries = case.journal_entries.select_related("author", "corrects").only(*JOURNAL_COLUMNS)
    correction, original = journal_rows(entries)
    assert (original.created, original.author) == ("2026-01-01 00:30", str(worker))
    assert original.text == "&lt;b&gt;Hot&lt;/b&gt; &amp; oro<br>nästa rad"
    assert (original.corrects_id, original.corrects_created) == (None, "")
    assert correction.created == "2026-06-01 12:05"  # summer time
    assert (correction.corrects_id, correction.corrects_created) == (first.pk, "2026-01-01 00:30")


def test_status_change_rows_show_local_minutes_labels_and_who(case: Case, worker: User) -> None:
    case.status_changes.all().delete()
    CaseStatusChange.objects.create(
        case=case,
        from_status="",
        to_status="reported",
        changed_by=worker,
        changed_at=datetime(2026, 7, 1, 22, 15, tzinfo=UTC),
        reason="Ny",
    )
    changes = case.status_changes.select_related("changed_by").only(*STATUS_CHANGE_COLUMNS)
    with translation.override("sv"):
        (row,) = status_change_rows(changes)
    assert row.changed == "2026-07-02 00:15"  # Stockholm, summer time
    assert (row.from_status, row.to_status) == ("", "Aktualisering")
    assert (row.changed_by, row.reason) == (str(worker), "Ny")


def test_the_select_widget_marks_the_chosen_option_only() -> None:
    with translation.override("sv"):
        html = str(CaseFilterForm({"threat_level": "high"})["threat_level"])
    assert '<select name="threat_level" id="id_threat_level">' in html
    assert '<option value="high" selected>Hög</option>' in html
    assert html.count("<option") == len(ThreatLevel.choices) + 1
    assert html.count(" selected") == 1
