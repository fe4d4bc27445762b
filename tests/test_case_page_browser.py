"""The case page in headless Chromium: on a phone's 390 px without sideways scrolling, its
forms behind buttons (sent, and sent back open with their errors), printed whole without
navigation or forms, the police's threat section first, and the journal ordered as a PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from avhopp.models import Agency, User
from cases import services
from cases.models import Case, CaseShare, JournalExtract
from tests.support import assess_threat
from tests.test_browser_journeys import field, open_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_WORD = "Kontaktpersonsuppföljningsdokumentationsunderlag" * 2


def _scroll_width(page: Page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


@pytest.fixture
def full_case(
    case: Case,
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> Case:
    """A case with something in every section, long words and wide tables included."""
    share_with(case, police_agency)
    services.case_update(case=case, by=worker, motivation_notes=f"Vill bort. {LONG_WORD}")
    for kind, provider in (("emergency_housing", "Stiftelsen Skyddat Hem"), ("work", LONG_WORD)):
        services.intervention_create(
            case=case,
            by=worker,
            kind=kind,
            provider_name=provider,
            goal="Mål",
            follow_up_date=timezone.localdate() + timedelta(days=30),
        )
    for number in range(3):
        services.journal_entry_create(case=case, by=worker, text=f"Anteckning {number} {LONG_WORD}")
    assess_threat(
        case,
        officer,
        level="high",
        summary="Hot från tidigare nätverk.",
        details="Källan uppger en plan.",
        next_review_date=timezone.localdate() + timedelta(days=45),
    )
    return case


def _section_order(page: Page) -> list[str]:
    """The ids of the sections the page's section links point at, in the links' order."""
    return (
        page.get_by_test_id("case-sections")
        .locator("a")
        .evaluate_all("links => links.map(link => link.getAttribute('href').slice(1))")
    )


def test_the_case_page_on_a_phone_with_its_forms_behind_buttons(
    page: Page,
    browser_login: Callable[[User], Page],
    full_case: Case,
    worker: User,
    police_agency: Agency,
) -> None:
    case = full_case
    page.set_viewport_size(PHONE)
    browser_login(worker)
    page.goto(case.get_absolute_url())
    assert _scroll_width(page) <= PHONE["width"]

    summary = page.get_by_test_id("case-summary")
    expect(summary.get_by_test_id("case-status")).to_have_text("Aktualisering")
    expect(summary.get_by_test_id("current-threat")).to_have_text("Hög")
    expect(summary.get_by_test_id("consents-in-force")).to_have_text(f"1: {police_agency.name}")
    expect(summary).to_contain_text(str(worker))

    # The section links lead to their sections.
    sections = page.get_by_test_id("case-sections")
    sections.get_by_role("link", name="Journal").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#journal")
    expect(page.locator("#journal")).to_be_in_viewport()

    # The note's form waits behind its button; sent empty, it comes back open, its error
    # summary focused.
    note = field(page, "Anteckning")
    expect(note).to_be_hidden()
    open_form(page, "Ny anteckning")
    expect(note).to_be_visible()
    page.get_by_role("button", name="Spara anteckning").click()
    error = page.locator("#journal .error-summary")
    expect(error).to_be_focused()
    expect(field(page, "Anteckning")).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"]
    field(page, "Anteckning").fill("Samtal om boende i en annan kommun.")
    page.get_by_role("button", name="Spara anteckning").click()
    page.wait_for_url(f"**{case.get_absolute_url()}#journal")
    expect(page.locator("#journal .journal-entry").first).to_contain_text("Samtal om boende")
    expect(field(page, "Anteckning")).to_be_hidden()

    # The status form: an error opens it again, with the error summary focused.
    expect(field(page, "Ny status")).to_be_hidden()
    open_form(page, "Ändra status")
    field(page, "Ny status").select_option(label="Avbruten")
    page.get_by_role("button", name="Spara ny status").click()
    expect(page.locator("#overview .error-summary")).to_be_focused()
    expect(page.locator("#overview .error-summary")).to_contain_text("Ange ett skäl")
    expect(field(page, "Ny status")).to_be_visible()
    expect(page.get_by_test_id("case-status")).to_have_text("Aktualisering")


def test_the_printed_case_has_every_section_and_no_navigation_or_forms(
    page: Page,
    browser_login: Callable[[User], Page],
    full_case: Case,
    worker: User,
) -> None:
    case = full_case
    browser_login(worker)
    page.goto(case.get_absolute_url())
    anchors = _section_order(page)
    assert {"overview", "interventions", "threat", "journal", "sharing", "method"} <= set(anchors)
    open_form(page, "Ny anteckning")  # even an open one is left off the paper

    page.emulate_media(media="print")
    for anchor in anchors:
        expect(page.locator(f"#{anchor}")).to_be_visible()
    expect(page.get_by_test_id("case-summary")).to_be_visible()
    expect(page.get_by_text("Anteckning 2", exact=False).first).to_be_visible()
    for hidden in ("header.site-header", "footer", "[data-testid=case-sections]"):
        expect(page.locator(hidden)).to_be_hidden()
    visible_controls = page.locator(
        "main form, main button, main summary, main a.button"
    ).evaluate_all("nodes => nodes.filter(node => node.getClientRects().length > 0).length")
    assert visible_controls == 0
    colours = page.evaluate(
        "[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.querySelector('#journal')).backgroundColor]"
    )
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)", "rgb(255, 255, 255)"]

    page.emulate_media(media="screen")
    expect(page.get_by_test_id("case-sections")).to_be_visible()


def test_the_police_see_the_threat_section_first(
    page: Page,
    browser_login: Callable[[User], Page],
    full_case: Case,
    officer: User,
) -> None:
    case = full_case
    page.set_viewport_size(PHONE)
    browser_login(officer)
    page.goto(case.get_absolute_url())
    assert _section_order(page)[0] == "threat"
    threat, overview = page.locator("#threat"), page.locator("#overview")
    threat_box, overview_box = threat.bounding_box(), overview.bounding_box()
    assert threat_box is not None and overview_box is not None
    assert threat_box["y"] < overview_box["y"]
    expect(threat.get_by_test_id("threat-details").first).to_contain_text("Källan uppger")
    summary = page.get_by_test_id("case-summary")
    expect(summary.get_by_test_id("current-threat")).to_have_text("Hög")
    expect(summary.get_by_test_id("threat-review")).to_contain_text(
        (timezone.localdate() + timedelta(days=45)).isoformat()
    )
    expect(summary.get_by_test_id("consents-in-force")).to_have_count(0)
    assert _scroll_width(page) <= PHONE["width"]


def test_the_journal_is_ordered_as_a_pdf_from_the_case_page(
    page: Page,
    browser_login: Callable[[User], Page],
    case: Case,
    worker: User,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    from avhopp.celery import app as celery_app

    # No worker runs here: the job runs in-process, in the live server thread.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    services.journal_entry_create(case=case, by=worker, text="Första samtalet.")
    browser_login(worker)
    page.goto(case.get_absolute_url())
    page.get_by_role("button", name="Journalutdrag som PDF").click()
    extract = JournalExtract.objects.get()
    page.wait_for_url(f"**{extract.get_absolute_url()}")
    expect(page.get_by_test_id("journal-extract-status")).to_have_text("Klart", timeout=30_000)
    with page.expect_download() as download_info:
        page.get_by_test_id("download-journal-extract").click()
    assert Path(download_info.value.path()).read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="Till ärendet").click()
    expect(page.get_by_test_id("journal-extracts")).to_contain_text("Klart")
