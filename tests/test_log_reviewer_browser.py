"""The log reviewer's journey in headless Chromium: from the start page to the log search by
a case's reference, and from a row to "who has read this case"; in words and Swedish time."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from avhopp.models import User
from cases.models import Case
from tests.test_browser_journeys import field

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_log_reviewer_searches_by_reference_and_follows_a_row_to_the_readers(
    page: Page,
    browser_login: Callable[[User], Page],
    login: Callable[[User], Client],
    worker: User,
    log_reviewer: User,
    case: Case,
) -> None:
    # The worker reads the case; the log reviewer then looks into who has read it.
    assert login(worker).get(case.get_absolute_url()).status_code == 200

    browser_login(log_reviewer)
    panel = page.get_by_role("region", name="Loggkontroll")
    expect(panel.get_by_role("heading", name="Månadens stickprov")).to_be_visible()
    panel.get_by_role("link", name="Sök i loggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Åtkomstlogg")

    field(page, "Ärende").fill(case.reference)
    page.get_by_role("button", name="Sök", exact=True).click()
    rows = page.get_by_test_id("log-rows").locator("tbody tr")
    read = rows.filter(has_text="Läst ärende").filter(has_text=worker.username).first
    expect(read).to_contain_text("Handläggare")
    expect(read).to_contain_text(f"Ärende {case.reference}")
    expect(read).not_to_contain_text("social_worker")
    expect(read.locator("td").first).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))

    read.get_by_role("link", name=f"Vem har läst {case.reference}?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vem har läst ärendet?")
    expect(page.get_by_test_id("case-reference")).to_contain_text(case.reference)
    readers = page.get_by_test_id("log-rows").locator("tbody tr")
    expect(readers.filter(has_text=worker.username).first).to_contain_text("Läst ärende")
    # The way back is to the log search by the case, not to the case, which the reviewer
    # may not read.
    expect(page.get_by_role("link", name=case.reference)).to_have_count(0)
    page.get_by_role("link", name="Ärendet i loggsökningen").click()
    expect(field(page, "Ärende")).to_have_value(case.reference)
