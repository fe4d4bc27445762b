"""The case page as a reader meets it: a summary bar, links to its sections (the police's
threat first), forms behind buttons that come back open with their errors; and the journal
as a PDF for the file, made by the document job for the reader who ordered it alone."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from avhopp.models import Agency, AuditAction, AuditEvent, User
from avhopp.storage import document_path
from cases import journal_pdf, services, tasks
from cases.identity import format_identity_number
from cases.models import Case, CaseShare, ConsentScope, JournalExtract, JournalExtractStatus
from tests.support import assess_threat

pytestmark = pytest.mark.django_db

REVIEW_IN_DAYS = 45


def _assessed(case: Case, officer: User) -> None:
    assess_threat(
        case,
        officer,
        level="high",
        summary="Hot från tidigare nätverk.",
        details="Källan uppger en plan.",
        next_review_date=timezone.localdate() + timedelta(days=REVIEW_IN_DAYS),
    )


def _section_ids(body: str) -> list[str]:
    """The ids of the page's sections, in page order (the nav's links in theirs)."""
    nav = re.search(r'<nav class="case-sections".*?</nav>', body, re.S)
    assert nav is not None
    return re.findall(r'href="#([a-z]+)"', nav.group(0))


def _events(since: int, **match: Any) -> list[tuple[str, int | None]]:
    rows = AuditEvent.objects.filter(pk__gt=since, **match).order_by("pk")
    return list(rows.values_list("action", "case_id"))


def _last_event() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


# --- The summary bar and the sections ------------------------------------------------------


def test_the_summary_bar_says_where_the_case_stands(
    case: Case,
    worker: User,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share_with(case, police_agency)
    withdrawn = share_with(case, prison_agency).consent
    services.consent_withdraw(consent=withdrawn, by=None, case=case)
    _assessed(case, officer)
    response = login(worker).get(case.get_absolute_url())
    summary = (
        response.content.decode().split('data-testid="case-summary"')[1].split("</section>")[0]
    )
    review = (timezone.localdate() + timedelta(days=REVIEW_IN_DAYS)).isoformat()
    assert 'data-testid="case-status">Aktualisering<' in summary
    assert "Hög" in summary and review in summary
    assert str(worker) in summary  # the responsible worker
    # The police's consent is in force; the withdrawn one to Kriminalvården is not.
    assert re.search(rf"1: {police_agency.name}\s*</dd>", summary)
    assert prison_agency.name not in summary
    assert 'data-testid="protection-level">Nej<' in summary
    # The details stay with the police.
    assert "Källan uppger" not in response.content.decode()


def test_the_summary_of_a_protected_person_shows_the_level_and_masks_the_number(
    make_case: Callable[..., Case], worker: User, login: Callable[[User], Client]
) -> None:
    protected = make_case(worker, protection_level="protected_registration", address="Hemlig 1")
    body = login(worker).get(protected.get_absolute_url()).content.decode()
    summary = body.split('data-testid="case-summary"')[1].split("</section>")[0]
    assert "Skyddad folkbokföring" in summary
    number = protected.individual.personnummer
    # Not its last four digits alone: a step's id in a link may hold those by chance.
    assert f"{number[:8]}-****" in body
    assert format_identity_number(number) not in body and number not in body
    assert "Hemlig 1" not in body


def test_the_police_read_the_threat_first_and_the_owner_the_overview(
    case: Case,
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share_with(case, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    _assessed(case, officer)
    police = login(officer).get(case.get_absolute_url()).content.decode()
    owner = login(worker).get(case.get_absolute_url()).content.decode()
    assert _section_ids(police) == ["threat", "overview", "team", "referrals"]
    assert _section_ids(owner) == [
        "overview",
        "interventions",
        "threat",
        "journal",
        "sharing",
        "team",
        "referrals",
        "extracts",
        "method",
    ]
    # The sections stand in the page in the order of the links.
    for body in (police, owner):
        ids = _section_ids(body)
        positions = [body.index(f'id="{anchor}"', body.index("</nav>")) for anchor in ids]
        assert positions == sorted(positions)
    # The summary: the police read the level and review date, not the owner's consents.
    assert 'data-testid="current-threat"' in police
    assert 'data-testid="consents-in-force"' not in police


def test_forms_wait_behind_buttons_and_come_back_open_with_their_errors(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    closed = client.get(case.get_absolute_url()).content.decode()
    assert len(re.findall(r'<details class="disclosure">', closed)) == 3  # status, note, extract
    assert '<details class="disclosure" open>' not in closed

    since = _last_event()
    sent_back = client.post(reverse("cases:journal_create", args=[case.pk]), {"text": ""})
    assert sent_back.status_code == 400
    assert sent_back.templates[0].name == "cases/case_detail.html"
    body = sent_back.content.decode()
    opened = re.findall(r'<details class="disclosure" open>(.*?)</details>', body, re.S)
    assert len(opened) == 1
    assert 'class="error-summary"' in opened[0] and 'name="text"' in opened[0]
    assert sent_back.context["journal_form"].has_error("text", "required")
    # The page shows the case: one read logged, as for any case page.
    assert _events(since) == [(AuditAction.CASE_VIEW, case.pk)]

    status = client.post(
        reverse("cases:status", args=[case.pk]), {"to_status": "dropped_out", "reason": ""}
    )
    assert status.status_code == 400
    opened = re.findall(
        r'<details class="disclosure" open>(.*?)</details>', status.content.decode(), re.S
    )
    assert len(opened) == 1 and "Ange ett skäl" in opened[0] and 'name="to_status"' in opened[0]
    case.refresh_from_db()
    assert case.status == "reported"


# --- The journal as a PDF ------------------------------------------------------------------


def _pdf_text(response: Any) -> str:
    pdf = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    return "".join(page.extract_text() for page in pdf.pages)


def _order(client: Client, case: Case, capture: Any) -> JournalExtract:
    with capture() as callbacks:
        response = client.post(reverse("cases:journal_extract_create", args=[case.pk]))
    extract = JournalExtract.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == extract.get_absolute_url()
    assert len(callbacks) == 1  # the job is published after the commit
    return extract


def test_a_journal_extract_is_ordered_made_and_downloaded_by_its_orderer(
    case: Case,
    worker: User,
    colleague: User,
    doc_root: Any,
    login: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    first = services.journal_entry_create(case=case, by=worker, text="Första mötet på kontoret.")
    services.journal_entry_create(
        case=case, by=worker, text="Rättat: mötet var hemma.", corrects=first
    )
    client = login(worker)
    since = _last_event()
    extract = _order(client, case, django_capture_on_commit_callbacks)
    assert _events(since, action=AuditAction.JOURNAL_EXTRACT) == [
        (AuditAction.JOURNAL_EXTRACT, case.pk)
    ]
    status_url = reverse("cases:journal_extract_status", args=[case.pk, extract.pk])
    since = _last_event()
    assert client.get(status_url).json() == {"label": "Skapas", "pending": True}
    assert _events(since) == []  # the poll shows nothing of the case and logs no read
    page = client.get(extract.get_absolute_url())
    assert page.status_code == 200 and 'data-poll-url="' in page.content.decode()

    # Written after the order: not in this extract.
    later = timezone.now() + timedelta(seconds=1)
    services.journal_entry_create(case=case, by=worker, text="Efter beställningen.")
    case.journal_entries.filter(text="Efter beställningen.").update(created_at=later)
    journal_pdf.journal_extract_render(extract_id=extract.pk)
    extract.refresh_from_db()
    assert (extract.status, extract.entry_count) == (JournalExtractStatus.READY, 2)
    assert client.get(status_url).json() == {"label": "Klart", "pending": False}
    assert "2 anteckningar" in client.get(extract.get_absolute_url()).content.decode()

    download_url = reverse("cases:journal_extract_download", args=[case.pk, extract.pk])
    since = _last_event()
    response = client.get(download_url)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    text = _pdf_text(response)
    assert "Journalutdrag" in text and case.reference in text and "Adam Testsson" in text
    assert text.index("Första mötet på kontoret.") < text.index("Rättat: mötet var hemma.")
    assert "rättar anteckningen från" in text
    assert "Efter beställningen." not in text
    assert "Storgatan" not in text  # no address in the file's copy
    # The download is the read this request makes, logged once.
    assert _events(since) == [(AuditAction.DOCUMENT_DOWNLOAD, case.pk)]

    # A colleague, past the outside-assignment reason, reads the journal but not this copy;
    # they order their own.
    other = login(colleague)
    other.post(reverse("cases:outside_reason", args=[case.pk]), {"reason": "joint_meeting"})
    assert other.get(download_url).status_code == 404
    assert other.get(extract.get_absolute_url()).status_code == 404
    theirs = _order(other, case, django_capture_on_commit_callbacks)
    assert theirs.requested_by == colleague
    assert client.get(theirs.get_absolute_url()).status_code == 404
    # The case page lists each reader's own.
    listed = client.get(case.get_absolute_url()).context["journal_extracts"]
    assert listed == [extract]


def test_a_protected_persons_journal_extract_is_masked(
    make_case: Callable[..., Case],
    worker: User,
    doc_root: Any,
    login: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    protected = make_case(worker, protection_level="fictitious_identity", address="Hemlig väg 9")
    services.journal_entry_create(case=protected, by=worker, text="Samtal om boende.")
    client = login(worker)
    extract = _order(client, protected, django_capture_on_commit_callbacks)
    journal_pdf.journal_extract_render(extract_id=extract.pk)
    number = protected.individual.personnummer
    text = _pdf_text(
        client.get(reverse("cases:journal_extract_download", args=[protected.pk, extract.pk]))
    )
    assert "Samtal om boende." in text
    assert f"{number[:8]}-****" in text
    assert format_identity_number(number) not in text and number not in text
    assert "Hemlig väg" not in text
    assert "Skyddade personuppgifter" in text


def test_the_journal_extract_is_for_readers_of_the_journal_only(
    case: Case,
    worker: User,
    officer: User,
    outsider: User,
    police_agency: Agency,
    doc_root: Any,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
    django_capture_on_commit_callbacks: Any,
) -> None:
    share = share_with(case, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    order_url = reverse("cases:journal_extract_create", args=[case.pk])
    police = login(officer)
    assert police.post(order_url).status_code == 403
    assert 'action="' + order_url not in police.get(case.get_absolute_url()).content.decode()
    assert login(outsider).post(order_url).status_code == 404
    assert not JournalExtract.objects.exists()

    # A share that covers the journal lets the police order one, made while it lasts.
    services.case_unshare(share=share, by=share.created_by)
    share = share_with(case, police_agency)
    extract = _order(police, case, django_capture_on_commit_callbacks)
    services.case_unshare(share=share, by=share.created_by)
    # Unshared before the job ran: the job refuses, and marks the extract failed.
    with pytest.raises(Http404):
        tasks.render_journal_extract.apply(args=[extract.pk])
    extract.refresh_from_db()
    assert extract.status == JournalExtractStatus.FAILED and not extract.document_path
    assert extract.error_message.startswith("Http404")


def test_the_task_makes_the_extract_and_the_requeuer_republishes_stale_ones(
    case: Case, worker: User, doc_root: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.journal_entry_create(case=case, by=worker, text="En anteckning.")
    extract = JournalExtract.objects.create(case=case, requested_by=worker)
    tasks.render_journal_extract.apply(args=[extract.pk])
    extract.refresh_from_db()
    assert extract.is_ready and document_path(extract.document_path).exists()
    tasks.render_journal_extract.apply(args=[extract.pk])  # a redelivery leaves it alone

    stale = JournalExtract.objects.create(
        case=case, requested_by=worker, queued_at=timezone.now() - timedelta(minutes=5)
    )
    JournalExtract.objects.create(case=case, requested_by=worker)  # just queued: left alone
    published: list[int] = []
    monkeypatch.setattr(tasks.render_journal_extract, "delay", published.append)
    assert services.journal_extracts_requeue_stale() == 1
    assert published == [stale.pk]


def test_gallring_deletes_the_journal_extracts_and_their_documents(
    case: Case, worker: User, doc_root: Any
) -> None:
    from retention.services import case_file_delete

    services.journal_entry_create(case=case, by=worker, text="En anteckning.")
    extract = JournalExtract.objects.create(case=case, requested_by=worker)
    journal_pdf.journal_extract_render(extract_id=extract.pk)
    extract.refresh_from_db()
    stored = document_path(extract.document_path)
    assert stored.exists()
    case_file_delete(case_id=case.pk, individual_id=case.individual_id)
    assert not JournalExtract.objects.exists()
    assert not stored.exists()
