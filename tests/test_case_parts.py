"""The parts of a case that grow with it: the case page shows the newest few, each part's
own page shows all of it, a page at a time. Who may open which part is in the access
matrix (tests/access_support.py, tests/test_access_get_matrix.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases import services
from cases.models import (
    Case,
    CaseShare,
    CaseStatusChange,
    ConsentScope,
    Intervention,
    InterventionKind,
    JournalEntry,
    ThreatAssessment,
    ThreatLevel,
)
from cases.parts import PAGE_SIZE, PARTS, PREVIEW_SIZE
from cases.policy import CaseAction
from cases.selectors import get_case_for_user
from devdata.factories import advance
from tests.access_support import count_queries, fill_case

pytestmark = pytest.mark.django_db


def add_journal(case: Case, author: User, count: int) -> list[JournalEntry]:
    """`count` entries a minute apart, oldest first; entry i reads "Anteckning i"."""
    start = timezone.now() - timedelta(days=30)
    return JournalEntry.objects.bulk_create(
        JournalEntry(
            case=case,
            author=author,
            created_at=start + timedelta(minutes=index),
            text=f"Anteckning {index}",
        )
        for index in range(count)
    )


def entry_texts(html: str) -> list[str]:
    return re.findall(r"<p>(Anteckning \d+)</p>", html)


def test_the_case_page_shows_the_newest_notes_and_links_to_the_whole_journal(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    add_journal(case, worker, PREVIEW_SIZE + 5)
    html = login(worker).get(case.get_absolute_url()).content.decode()
    newest = [f"Anteckning {index}" for index in range(PREVIEW_SIZE + 4, 4, -1)]
    assert entry_texts(html) == newest
    assert f'href="{reverse("cases:journal", args=[case.pk])}"' in html
    assert "Visa hela journalen" in html


def test_no_link_when_the_case_page_shows_everything(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    add_journal(case, worker, PREVIEW_SIZE)
    html = login(worker).get(case.get_absolute_url()).content.decode()
    assert len(entry_texts(html)) == PREVIEW_SIZE
    assert reverse("cases:journal", args=[case.pk]) not in html
    assert "Visa hela" not in html and "Visa alla" not in html


def test_the_journal_page_pages_through_every_note_newest_first_and_logs_the_read(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    add_journal(case, worker, PAGE_SIZE + 3)
    client = login(worker)
    url = reverse("cases:journal", args=[case.pk])
    first = client.get(url)
    assert first.status_code == 200
    texts = entry_texts(first.content.decode())
    assert texts[0] == f"Anteckning {PAGE_SIZE + 2}"
    assert len(texts) == PAGE_SIZE
    assert "Sida 1 av 2" in first.content.decode()
    second = entry_texts(client.get(url, {"page": 2}).content.decode())
    assert second == ["Anteckning 2", "Anteckning 1", "Anteckning 0"]
    reads = AuditEvent.objects.filter(action=AuditAction.CASE_VIEW, case_id=case.pk)
    assert reads.filter(user_id=worker.pk).count() == 2


def test_a_correction_links_to_the_page_that_shows_the_corrected_note(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    oldest = add_journal(case, worker, PAGE_SIZE + 5)[0]
    services.journal_entry_create(case=case, by=worker, text="Rättelse", corrects=oldest)
    client = login(worker)
    html = client.get(case.get_absolute_url()).content.decode()
    link = f"{reverse('cases:journal', args=[case.pk])}?visa={oldest.pk}#entry-{oldest.pk}"
    assert f'href="{link}"' in html
    landed = client.get(link.split("#")[0])
    assert landed.context["page"].number == 2
    assert f'id="entry-{oldest.pk}"' in landed.content.decode()


@pytest.mark.parametrize("wanted", ["abc", "-1", "0", "9" * 30, "", "1e3", "²", "١٢"])
def test_a_bad_page_or_note_number_shows_a_page_and_never_fails(
    login: Callable[[User], Client], worker: User, case: Case, wanted: str
) -> None:
    add_journal(case, worker, 3)
    client = login(worker)
    url = reverse("cases:journal", args=[case.pk])
    for query in ({"page": wanted}, {"visa": wanted}):
        response = client.get(url, query)
        assert response.status_code == 200
        assert len(entry_texts(response.content.decode())) == 3


def test_a_note_of_another_case_is_not_looked_up_through_this_one(
    login: Callable[[User], Client], worker: User, case: Case, make_case: Callable[..., Case]
) -> None:
    other = make_case(worker)
    (elsewhere,) = add_journal(other, worker, 1)
    add_journal(case, worker, PAGE_SIZE + 1)
    response = login(worker).get(
        reverse("cases:journal", args=[case.pk]), {"visa": elsewhere.pk, "page": 2}
    )
    assert response.context["page"].number == 2
    assert f'id="entry-{elsewhere.pk}"' not in response.content.decode()


def test_status_history_is_newest_first_everywhere(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    for status in ("initial_assessment", "investigation"):
        advance(case, worker, status, reason=status)
    client = login(worker)
    for url in (case.get_absolute_url(), reverse("cases:status_history", args=[case.pk])):
        html = client.get(url).content.decode()
        assert html.index("<td>investigation</td>") < html.index("<td>initial_assessment</td>")


def _assess(case: Case, officer: User, count: int) -> None:
    ThreatAssessment.objects.bulk_create(
        ThreatAssessment(
            case=case,
            level=ThreatLevel.LOW,
            summary=f"Sammanfattning {index}",
            details=f"Källuppgift {index}",
            assessed_by=officer,
            assessed_at=timezone.now() - timedelta(days=count - index),
            next_review_date=timezone.localdate() + timedelta(days=30),
        )
        for index in range(count)
    )


def test_threat_page_shows_details_to_police_only_and_logs_their_read(
    login: Callable[[User], Client],
    worker: User,
    officer: User,
    case: Case,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    share_with(case, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    _assess(case, officer, PREVIEW_SIZE + 2)
    url = reverse("cases:threat_assessments", args=[case.pk])
    police_html = login(officer).get(url).content.decode()
    worker_html = login(worker).get(url).content.decode()
    assert police_html.count("Källuppgift") == PREVIEW_SIZE + 2
    assert f"Sammanfattning {PREVIEW_SIZE + 1}" in worker_html
    assert "Källuppgift" not in worker_html
    details_reads = AuditEvent.objects.filter(
        action=AuditAction.THREAT_DETAILS_VIEW, case_id=case.pk
    )
    assert list(details_reads.values_list("user_id", flat=True)) == [officer.pk]
    # Only the newest is marked current, and only on the first page.
    assert worker_html.count("Aktuell</span>") == 1


def test_threat_details_are_not_even_loaded_for_readers_who_may_not_see_them(
    worker: User, officer: User, case: Case, police_agency: Agency, share_with: Callable[..., Any]
) -> None:
    share_with(case, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    _assess(case, officer, 2)
    part = PARTS["threat_assessments"]
    for reader, loaded in ((worker, False), (officer, True)):
        access = get_case_for_user(reader, case.pk, CaseAction.VIEW)
        assessments = list(part.read(access))
        assert len(assessments) == 2
        assert all(("details" not in a.get_deferred_fields()) is loaded for a in assessments)
        rows = part.preview(access).items
        assert len(rows) == 2
        assert all((row.details is not None) is loaded for row in rows)


def test_the_case_page_shows_the_newest_interventions(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    Intervention.objects.bulk_create(
        Intervention(
            case=case,
            kind=InterventionKind.WORK,
            provider_name=f"Utförare {index}",
            decision_date=timezone.localdate() - timedelta(days=100 - index),
            created_by=worker,
        )
        for index in range(PREVIEW_SIZE + 1)
    )
    client = login(worker)
    html = client.get(case.get_absolute_url()).content.decode()
    assert f"Utförare {PREVIEW_SIZE}" in html
    assert "<td>Utförare 0</td>" not in html
    assert f'href="{reverse("cases:interventions", args=[case.pk])}"' in html
    whole = client.get(reverse("cases:interventions", args=[case.pk])).content.decode()
    assert whole.count("<td>Utförare ") == PREVIEW_SIZE + 1


@pytest.mark.parametrize("part", sorted(PARTS))
def test_a_part_page_costs_the_same_queries_however_large_the_part(
    part: str,
    login: Callable[[User], Client],
    worker: User,
    officer: User,
    make_case: Callable[..., Case],
    prison_agency: Agency,
) -> None:
    small, big = make_case(worker), make_case(worker)
    for case, size in ((small, 1), (big, PAGE_SIZE + 5)):
        fill_case(case, size, worker, officer, prison_agency)
        CaseStatusChange.objects.bulk_create(
            CaseStatusChange(case=case, to_status="investigation", changed_by=worker)
            for _ in range(size)
        )
    client = login(worker)
    few = count_queries(client, reverse(f"cases:{part}", args=[small.pk]))
    many = count_queries(client, reverse(f"cases:{part}", args=[big.pk]))
    assert few == many
    # The case (with its grant check), the part's count and page, the session, user,
    # second factor, the header's unread count and the audit row.
    assert many == 8


def test_the_parts_are_translated(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    add_journal(case, worker, PREVIEW_SIZE + 1)
    client = login(worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(case.get_absolute_url()).content.decode()
    assert "Show the whole journal" in html
    page = client.get(reverse("cases:journal", args=[case.pk])).content.decode()
    assert "Back to the case" in page
