"""The referral's confirmation step and the overview, in headless Chromium: the coordinator
sees the document before it goes, nothing goes until "Skicka" is pressed, and the overview's
table filters and sorts through labelled controls and announced sort headers."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from avhopp.models import Agency, AuditAction, AuditEvent, User
from avhopp.storage import read_document
from cases.models import Case, Consent
from referrals import services
from referrals.models import Referral, ReferralStatus
from tests.conftest import PASSWORD
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ready(
    owned_case: Case,
    coordinator: User,
    police_agency: Agency,
    consent_to: Callable[..., Consent],
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Referral:
    """A referral whose document WeasyPrint has made, as the worker would."""
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    monkeypatch.setattr(services, "enqueue_generation", lambda referral_id: True)
    referral = services.referral_create(
        case=owned_case,
        by=coordinator,
        to_agency=police_agency,
        consent=consent_to(owned_case, police_agency),
        contact_person="Karin Berg, 08-123 456",
        reason="Behov av samordnat skydd inför flytt.",
    )
    services.referral_render(referral_id=referral.pk)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY
    return referral


@pytest.fixture
def police_page(new_page: Callable[[], Page]) -> Page:
    return new_page()


def test_the_coordinator_reviews_the_document_before_it_is_sent(
    page: Page,
    browser_login: Callable[[User], Page],
    police_page: Page,
    ready: Referral,
    coordinator: User,
    officer: User,
) -> None:
    browser_login(coordinator)

    # From the overview's table to the referral.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Remisser").click()
    page.get_by_label("Status").select_option(label="Klar")
    page.get_by_role("button", name="Visa").click()
    table = page.get_by_role("table", name="Remisser som er myndighet har skickat eller tagit emot")
    expect(table.locator("tbody tr")).to_have_count(1)
    table.get_by_role("link", name=str(ready)).click()
    page.wait_for_url(f"**{ready.get_absolute_url()}")
    expect(page.get_by_test_id("checksum")).to_have_text(ready.document_sha256)
    # No button sends from here: the way out is the review.
    expect(page.get_by_role("button", name=re.compile("Skicka"))).to_have_count(0)

    # The confirmation step: the document that will go, opened from it.
    page.get_by_role("link", name="Granska och skicka").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Skicka {ready}")
    link = page.get_by_role("link", name=f"Öppna dokumentet som skickas: {ready} (PDF, ny flik)")
    expect(link).to_be_visible()
    source = link.get_attribute("href")
    assert source is not None
    shown = page.request.get(source)
    assert shown.ok and shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"].startswith("inline")
    assert shown.body() == read_document(ready.document_path)
    assert AuditEvent.objects.filter(
        action=AuditAction.DOCUMENT_DOWNLOAD, object_id=str(ready.pk), reason="preview"
    ).exists()

    # Cancelling sends nothing.
    page.get_by_role("link", name="Avbryt").click()
    page.wait_for_url(f"**{ready.get_absolute_url()}")
    expect(page.get_by_test_id("referral-status")).to_have_text("Klar")
    ready.refresh_from_db()
    assert ready.status == ReferralStatus.READY

    # Review again, and send.
    page.get_by_role("link", name="Granska och skicka").click()
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.wait_for_url(f"**{ready.get_absolute_url()}")
    expect(page.get_by_role("status").filter(has_text="Remissen är skickad.")).to_be_visible()
    expect(page.get_by_test_id("referral-status")).to_have_text("Skickad")
    ready.refresh_from_db()
    assert ready.status == ReferralStatus.SENT and ready.sent_at is not None

    # The police find it among what they received, sorted by days waiting.
    sign_in(police_page, officer, PASSWORD)
    police_page.goto("/remisser/")
    police_page.get_by_label("Riktning").select_option(label="Inkomna till er")
    police_page.get_by_role("button", name="Visa").click()
    header = police_page.get_by_role("columnheader", name=re.compile(r"^Väntat \(dagar\)"))
    expect(header).not_to_have_attribute("aria-sort", re.compile("."))
    header.get_by_role("link").click()
    header = police_page.get_by_role("columnheader", name=re.compile(r"^Väntat \(dagar\)"))
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(header).to_contain_text("sorterad fallande")
    expect(police_page.get_by_label("Riktning")).to_have_value("received")
    row = police_page.get_by_role("row").filter(has_text=str(ready))
    expect(row).to_contain_text(f"Från {ready.from_agency.name}")
    expect(row.get_by_role("cell").last).to_have_text("0")
    row.get_by_role("link", name=str(ready)).click()
    expect(police_page.get_by_test_id("checksum")).to_have_text(ready.document_sha256)
