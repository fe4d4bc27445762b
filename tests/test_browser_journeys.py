"""End-to-end journeys through the real pages, driven in headless Chromium.

Each test walks one user story the way staff would: through links, labelled form fields
and buttons. Assertions look at what is on screen, plus the few database facts (such as
the referral's stored status) that a browser cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from avhopp.models import Agency, User
from cases.models import Case, CaseStatus, Consent
from tests.conftest import PASSWORD, make_personnummer
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CASE_URL = re.compile(r"/arenden/(\d+)/$")
REFERRAL_URL = re.compile(r"/remisser/(\d+)/$")
SCREENSHOT = Path("/tmp/avhopp-case.png")


def _iso(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def field(page: Page | Locator, label: str) -> Locator:
    """A form control by its label's text. Labels of required fields end in an aria-hidden
    " *", which Playwright's label matching still counts, so match with or without it."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


def _log_in(page: Page, user: User) -> Page:
    """The same steps as conftest's `browser_login`, for any page (any browser context)."""
    sign_in(page, user, PASSWORD)
    expect(page.get_by_test_id("whoami")).to_contain_text(user.agency.name)
    return page


def open_form(page: Page | Locator, button: str) -> None:
    """Open a form that waits behind its button on the case page (a <details> disclosure)."""
    page.locator("summary").filter(has_text=re.compile(rf"^\s*{re.escape(button)}\s*$")).click()


def change_status(page: Page, status: str, *, reason: str = "", end_reason: str = "") -> None:
    """Through the case page's status form: opened, filled and sent."""
    open_form(page, "Ändra status")
    field(page, "Ny status").select_option(label=status)
    if reason:
        field(page, "Skäl").fill(reason)
    if end_reason:
        field(page, "Orsak").select_option(label=end_reason)
    page.get_by_role("button", name="Spara ny status").click()


def settle_required_steps(page: Page, *, waive: str = "") -> None:
    """Mark the required open steps of the case's current phase done through their pages
    (the first of them waived with `waive` as the reason, if given), back on the case page."""
    case_url = page.url.split("#")[0]
    current = page.locator("li.phase.current li[data-state='open']").filter(
        has_text="obligatoriskt"
    )
    while current.count():
        current.first.get_by_test_id("step-link").click()
        if waive:
            page.get_by_label("Undantas").check()
            field(page, "Skäl till undantag").fill(waive)
            waive = ""
        else:
            page.get_by_label("Gjort").check()
        page.get_by_role("button", name="Spara", exact=True).click()
        page.wait_for_url(re.compile(re.escape(case_url) + "#method$"))


# --- 1. Social worker registers a person and works the case ---------------------------------


def test_social_worker_registers_person_and_works_case(
    page: Page, browser_login: Callable[[User], Page], worker: User
) -> None:
    personnummer = make_personnummer(date(1990, 5, 17), 123)
    typed_number = f"{personnummer[:8]}-{personnummer[8:]}"
    follow_up = timezone.localdate() + timedelta(days=30)
    note = "Första samtal genomfört. Personen vill lämna gänget och behöver boende."

    browser_login(worker)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Nytt ärende").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nytt ärende")

    # Search first: nobody by that name is registered yet.
    field(page, "Namn eller personnummer").fill("Sara Lindqvist")
    page.get_by_role("button", name="Sök", exact=True).click()
    expect(page.get_by_test_id("no-match")).to_be_visible()

    # Register person and case.
    field(page, "Förnamn").fill("Sara")
    field(page, "Efternamn").fill("Lindqvist")
    field(page, "Personnummer eller samordningsnummer").fill(typed_number)
    field(page, "Skyddade personuppgifter").select_option(label="Ingen")
    field(page, "Aktualiserad av").select_option(label="Polisen")
    page.get_by_role("button", name="Skapa ärende").click()
    page.wait_for_url(CASE_URL)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sara Lindqvist")
    expect(page.get_by_test_id("case-status")).to_have_text("Aktualisering")
    case_url = page.url

    # An intervention with an external provider and a follow-up date.
    page.get_by_role("link", name="Ny insats").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny insats")
    field(page, "Typ av insats").select_option(label="Akut boende")
    field(page, "Status").select_option(label="Planerad")
    field(page, "Utförare (extern, namn)").fill("Stiftelsen Skyddat Hem")
    field(page, "Uppföljningsdatum").fill(_iso(follow_up))
    page.get_by_role("button", name="Spara", exact=True).click()
    page.wait_for_url(case_url)

    # A journal note, behind its button.
    open_form(page, "Ny anteckning")
    field(page, "Anteckning").fill(note)
    page.get_by_role("button", name="Spara anteckning").click()
    page.wait_for_url(re.compile(r"/arenden/\d+/#journal$"))

    # Status, one step at a time, through the status form, each phase's required checklist
    # steps done first (the method app's journey below walks the checklist itself).
    for step in ("Initial bedömning", "Utredning", "Insatser"):
        settle_required_steps(page)
        change_status(page, step)
        expect(page.get_by_test_id("case-status")).to_have_text(step)

    expect(page.get_by_test_id("case-status")).to_have_text("Insatser")
    rows = page.get_by_test_id("interventions").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Akut boende")
    expect(rows.first).to_contain_text("Stiftelsen Skyddat Hem")
    expect(rows.first).to_contain_text(_iso(follow_up))
    expect(page.locator("#journal .journal-entry")).to_contain_text(note)
    history = page.get_by_role("region", name="Status och historik").locator("tbody tr")
    expect(history).to_have_count(4)  # opened, plus three changes

    # Correct the note: the correction links to the note it corrects, in the whole journal.
    original = page.locator("#journal .journal-entry").filter(has_text=note)
    original.get_by_text("Rätta", exact=True).click()
    original.get_by_label("Rättelse").fill("Rättelse: boende behövs i en annan kommun.")
    original.get_by_role("button", name="Spara rättelse").click()
    page.wait_for_url(re.compile(r"/arenden/\d+/#journal$"))
    correction = page.locator("#journal .journal-entry").first
    expect(correction).to_contain_text("Rättelse: boende behövs i en annan kommun.")
    correction.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journal: Sara Lindqvist")
    expect(page.locator(".journal-entry").filter(has_text=note)).to_be_visible()
    page.get_by_role("link", name="Till ärendet").click()
    page.wait_for_url(case_url)

    case = Case.objects.get(pk=int(CASE_URL.search(page.url.split("#")[0]).group(1)))
    assert case.status == CaseStatus.INTERVENTIONS
    assert case.individual.personnummer == personnummer
    assert case.responsible == worker

    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SCREENSHOT), full_page=True)


# --- 2. Police record a threat assessment; social services see level, not details -----------


def test_police_assessment_details_stay_with_police(
    page: Page,
    browser_login: Callable[[User], Page],
    new_page: Callable[[], Page],
    case: Case,
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> None:
    share_with(case, police_agency)
    summary = "Förhöjd risk för repressalier från tidigare nätverk."
    details = "Källa X uppger att gruppen planerar att söka upp personen vid bostaden."
    review = timezone.localdate() + timedelta(days=60)

    browser_login(officer)
    page.goto(case.get_absolute_url())
    expect(page.get_by_test_id("current-threat")).to_contain_text("Ingen hotbedömning gjord")
    page.get_by_role("link", name="Ny hotbedömning").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny hotbedömning")
    field(page, "Hotnivå").select_option(label="Hög")
    field(page, "Sammanfattning för ärendegruppen").fill(summary)
    field(page, "Detaljer (endast polis)").fill(details)
    field(page, "Nästa omprövning").fill(_iso(review))
    page.get_by_role("button", name="Spara", exact=True).click()
    page.wait_for_url(f"**{case.get_absolute_url()}")

    expect(page.get_by_test_id("current-threat")).to_contain_text("Hög")
    expect(page.get_by_test_id("threat-summary").first).to_have_text(summary)
    expect(page.get_by_test_id("threat-details").first).to_contain_text(details)

    # The responsible social worker, in a browser of their own.
    social = _log_in(new_page(), worker)
    social.goto(case.get_absolute_url())
    expect(social.get_by_test_id("current-threat")).to_contain_text("Hög")
    expect(social.get_by_test_id("threat-summary").first).to_have_text(summary)
    expect(social.get_by_test_id("threat-details")).to_have_count(0)
    assert details not in social.content()


# --- 3. Referral: coordinator creates, downloads and sends; police answer --------------------


def test_referral_from_consent_to_answer(
    page: Page,
    browser_login: Callable[[User], Page],
    new_page: Callable[[], Page],
    case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    from avhopp.celery import app as celery_app

    # No worker runs here: publishing runs the task in-process, in the live server thread.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    given_on = timezone.localdate() - timedelta(days=2)

    browser_login(coordinator)
    page.goto(case.get_absolute_url())

    # Not the responsible worker: a logged reason first, then on to the case.
    page.wait_for_url(re.compile(r"/arenden/\d+/skal/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Läsning utanför ditt uppdrag")
    page.get_by_role("radio", name="Gemensamt möte eller samråd").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url(f"**{case.get_absolute_url()}")

    # Consent to the police agency.
    page.get_by_role("link", name="Registrera samtycke").click()
    field(page, "Mottagare").select_option(label=police_agency.name)
    field(page, "Insatser").check()
    field(page, "Hotnivå och sammanfattning").check()
    field(page, "Lämnat").fill(_iso(given_on))
    field(page, "Dokumentreferens").fill("SAM-2024-17")
    page.get_by_role("button", name="Spara", exact=True).click()
    page.wait_for_url(f"**{case.get_absolute_url()}")
    expect(page.get_by_role("region", name="Samtycken och delning")).to_contain_text("SAM-2024-17")

    # The referral.
    page.get_by_role("link", name="Ny remiss").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ny remiss")
    field(page, "Mottagande myndighet").select_option(label=police_agency.name)
    consent = Consent.objects.get(recipient=police_agency)
    field(page, "Samtycke som remissen vilar på").select_option(label=str(consent))
    field(page, "Kontaktperson").fill("Karin Berg, 08-123 456")
    field(page, "Skäl").fill("Behov av samordnat skydd inför flytt.")
    page.get_by_role("button", name="Spara", exact=True).click()
    page.wait_for_url(REFERRAL_URL)
    referral_url = page.url

    status = page.get_by_test_id("referral-status")
    expect(status).to_have_text("Klar", timeout=30_000)

    # Checked on the response first, so a missing header fails with a clear message rather
    # than a download timeout: the browser only downloads what is sent as an attachment.
    href = page.get_by_test_id("download").get_attribute("href")
    assert href is not None
    document = page.request.get(href)
    assert document.ok
    assert document.body().startswith(b"%PDF")
    disposition = document.headers.get("content-disposition", "")
    assert disposition.startswith("attachment") and ".pdf" in disposition, (
        f"document is not sent as a PDF attachment (Content-Disposition: {disposition!r})"
    )
    with page.expect_download() as download_info:
        page.get_by_test_id("download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    # Sending goes through a review of the document that will go out.
    page.get_by_role("link", name="Granska och skicka").click()
    expect(
        page.get_by_role("link", name=re.compile(r"^Öppna dokumentet som skickas: "))
    ).to_be_visible()
    page.get_by_role("button", name="Skicka", exact=True).click()
    page.wait_for_url(referral_url)
    expect(status).to_have_text("Skickad")

    # The receiving agency answers.
    police = _log_in(new_page(), officer)
    police.goto("/remisser/")
    field(police, "Riktning").select_option(label="Inkomna till er")
    police.get_by_role("button", name="Visa").click()
    police.get_by_test_id("referrals").get_by_role("link", name=re.compile(r"^Remiss ")).click()
    police.wait_for_url(referral_url)
    expect(police.get_by_test_id("referral-status")).to_have_text("Skickad")
    police.get_by_role("radio", name="Acceptera").check()
    field(police, "Kommentar").fill("Vi tar kontakt inom en vecka.")
    police.get_by_role("button", name="Skicka svar").click()
    expect(police.get_by_test_id("answer")).to_contain_text("Accepterad")
    expect(police.get_by_test_id("referral-status")).to_have_text("Accepterad")

    # And the sender sees it.
    page.reload()
    expect(page.get_by_test_id("answer")).to_contain_text("Accepterad")
    expect(page.get_by_text("Vi tar kontakt inom en vecka.")).to_be_visible()


# --- 4. Another municipality sees nothing -----------------------------------------------------


def test_outsider_gets_not_found_and_no_listing(
    page: Page, browser_login: Callable[[User], Page], case: Case, outsider: User
) -> None:
    name = str(case.individual)

    browser_login(outsider)
    response = page.goto(case.get_absolute_url())
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Sidan finns inte")
    assert name not in page.content()

    page.goto("/arenden/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ärenden")
    assert name not in page.content()

    page.goto(f"/arenden/?q={case.individual.last_name}")
    expect(page.get_by_text("Inga ärenden matchar.")).to_be_visible()
    assert name not in page.content()


# --- 5. Relocation: five users through every step; the destination stays secret -------------

RELOCATION_URL = re.compile(r"/omplaceringar/(\d+)/$")


def _step_form(page: Page, title: str) -> Locator:
    """The relocation page's card holding the step titled `title` (its form and button)."""
    return page.locator("section.card").filter(
        has=page.get_by_role("heading", level=2, name=title, exact=True)
    )


def _open_waiting(page: Page, what: str, reference: str, days: int | None = None) -> None:
    """From the start page, open the relocation waiting for this user to do `what`."""
    page.goto("/")
    row = page.get_by_test_id("relocations-waiting").locator("tbody tr").filter(has_text=what)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(reference)
    if days is not None:
        expect(row.locator("td").nth(2)).to_have_text(str(days))
    row.get_by_role("link", name=reference).click()
    page.wait_for_url(RELOCATION_URL)


def test_relocation_through_every_step_keeps_the_destination_from_the_sending_side(
    page: Page,
    browser_login: Callable[[User], Page],
    new_page: Callable[[], Page],
    case: Case,
    worker: User,
    coordinator: User,
    officer: User,
    municipality: Agency,
    other_municipality: Agency,
    police_agency: Agency,
    national: User,
    national_agency: Agency,
    clearing_officer: User,
    receiving_coordinator: User,
    receiving: Agency,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Path,
) -> None:
    from avhopp.celery import app as celery_app
    from relocations.models import Relocation, RelocationStatus, RelocationStep
    from tests.relocation_support import (
        DESTINATION_ADDRESS,
        DESTINATION_NAME,
        assessed,
        relocation_consent,
    )

    # No worker runs here: the placement agreement is rendered in the live server thread.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    # What the request rests on, given before it: the sending region's police assessed the
    # threat, and the person consented to a relocation matched by the national coordination.
    municipality.police_region = police_agency
    municipality.save(update_fields=["police_region"])
    assessed(case, officer)
    consent = relocation_consent(case, coordinator, national_agency)
    person = case.individual
    today = _iso(timezone.localdate())
    street = DESTINATION_ADDRESS.split(",")[0]

    # 1. The sending coordinator requests, from the case page.
    browser_login(coordinator)
    page.goto(case.get_absolute_url())
    page.wait_for_url(re.compile(r"/arenden/\d+/skal/"))
    page.get_by_role("radio", name="Gemensamt möte eller samråd").check()
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url(f"**{case.get_absolute_url()}")
    page.get_by_role("link", name="Begär omplacering").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Begär omplacering")
    field(page, "Samtycke som omfattar omplacering").select_option(label=str(consent))
    field(page, "Brådska").select_option(label="Planerad")
    field(page, "Boendebehov").select_option(label="Långsiktigt boende")
    field(page, "Antal personer som flyttar").fill("2")
    field(page, "Varav barn").fill("1")
    field(page, "Kort behovsbeskrivning").fill("Lägenhet med två rum, stöd i vardagen.")
    field(page, "Kommuner att undvika").select_option(label=[other_municipality.name])
    field(page, "Regioner att undvika").fill("Skåne")
    field(page, "Skäl att undvika").fill("Tidigare nätverk")
    page.get_by_role("button", name="Spara", exact=True).click()
    page.wait_for_url(RELOCATION_URL)
    expect(page.get_by_test_id("relocation-status")).to_have_text("Matchning")
    relocation = Relocation.objects.get(case=case)
    reference = relocation.reference
    relocation_url = page.url
    # Waiting two days already, as the start page will say.
    RelocationStep.objects.filter(relocation=relocation).update(
        entered_at=timezone.now() - timedelta(days=2)
    )

    # 2. The national coordinator matches the blind request.
    national_page = _log_in(new_page(), national)
    _open_waiting(national_page, "Matcha förfrågan", reference, days=2)
    blind = national_page.get_by_test_id("blind-request")
    expect(blind).to_contain_text("Lägenhet med två rum")
    expect(blind).to_contain_text("Planerad")
    expect(national_page.get_by_test_id("avoided")).to_contain_text(other_municipality.name)
    for secret in (person.first_name, person.last_name, person.personnummer, person.address):
        assert secret not in national_page.content()
    # Bad input first: nothing chosen gets a message, and the step stays.
    propose = _step_form(national_page, "Föreslå kommuner")
    propose.get_by_role("button", name="Föreslå kommuner").click()
    expect(national_page.locator(".error-summary")).to_contain_text("Välj föreslagna kommuner")
    propose = _step_form(national_page, "Föreslå kommuner")
    field(propose, "Föreslagna kommuner (en till tre)").select_option(label=[DESTINATION_NAME])
    propose.get_by_role("button", name="Föreslå kommuner").click()
    national_page.wait_for_url(relocation_url)
    expect(national_page.get_by_test_id("relocation-status")).to_have_text("Polisens klarering")

    # 3. The candidate's police region clears it.
    police = _log_in(new_page(), clearing_officer)
    _open_waiting(police, "Klarera kommun", reference)
    clearance = _step_form(police, "Polisens klarering")
    field(clearance, "Kommun").select_option(label=DESTINATION_NAME)
    clearance.get_by_role("radio", name="Klarerad").check()
    field(clearance, "Skäl (läses bara av polisen)").fill("Inga kända kopplingar på orten.")
    clearance.get_by_role("button", name="Polisens klarering").click()
    police.wait_for_url(relocation_url)
    expect(police.get_by_test_id("candidates")).to_contain_text("Klarerad")

    # The national coordinator sends the offer to the cleared municipality.
    _open_waiting(national_page, "Skicka erbjudande", reference)
    offer = _step_form(national_page, "Skicka erbjudande")
    field(offer, "Kommun").select_option(label=DESTINATION_NAME)
    offer.get_by_role("button", name="Skicka erbjudande").click()
    national_page.wait_for_url(relocation_url)
    expect(national_page.get_by_test_id("relocation-status")).to_have_text("Erbjuden")

    # 4. The receiving coordinator answers the blind offer, then arranges and confirms.
    receiver = _log_in(new_page(), receiving_coordinator)
    _open_waiting(receiver, "Besvara erbjudande", reference)
    for secret in (person.first_name, person.last_name, person.personnummer):
        assert secret not in receiver.content()
    answer = _step_form(receiver, "Besvara erbjudandet")
    answer.get_by_role("radio", name="Acceptera").check()
    answer.get_by_role("button", name="Besvara erbjudandet").click()
    expect(receiver.locator(".error-summary")).to_contain_text("Ange en kontakt för mottagandet.")
    answer = _step_form(receiver, "Besvara erbjudandet")
    answer.get_by_role("radio", name="Acceptera").check()
    field(answer, "Kontakt för mottagandet").fill("Mona Mottagare, 090-12 34 56")
    answer.get_by_role("button", name="Besvara erbjudandet").click()
    receiver.wait_for_url(relocation_url)
    expect(receiver.get_by_test_id("relocation-status")).to_have_text("Accepterad")
    # Accepted: the receiving municipality now reads whom it receives.
    expect(receiver.locator("dl.facts").first).to_contain_text(str(person))

    _open_waiting(receiver, "Ordna placeringen", reference)
    placement = _step_form(receiver, "Ordna placeringen")
    field(placement, "Boende").select_option(label="Långsiktigt boende")
    field(placement, "Ny adress").fill(DESTINATION_ADDRESS)
    field(placement, "Flyttdatum").fill(today)
    placement.get_by_role("button", name="Ordna placeringen").click()
    receiver.wait_for_url(relocation_url)
    expect(receiver.get_by_test_id("relocation-status")).to_have_text("Placering ordnad")
    expect(receiver.get_by_test_id("destination-address")).to_have_text(DESTINATION_ADDRESS)

    _open_waiting(receiver, "Bekräfta flytten", reference)
    moved = _step_form(receiver, "Bekräfta flytten")
    field(moved, "Flyttade den").fill(today)
    moved.get_by_role("button", name="Bekräfta flytten").click()
    receiver.wait_for_url(relocation_url)
    expect(receiver.get_by_test_id("relocation-status")).to_have_text("Flyttad")

    # 5. The sending social worker, responsible for the case: the receiving municipality's
    # name where the case and relocation are read, the address nowhere.
    social = _log_in(new_page(), worker)
    social.goto(case.get_absolute_url())
    expect(social.get_by_test_id("destination-name")).to_have_text(DESTINATION_NAME)
    social.get_by_test_id("case-relocations").get_by_role("link", name=reference).click()
    social.wait_for_url(relocation_url)
    expect(social.get_by_test_id("relocation-status")).to_have_text("Flyttad")
    expect(social.get_by_test_id("destination-name")).to_have_text(DESTINATION_NAME)
    expect(social.get_by_test_id("destination-address")).to_have_count(0)
    social_pages = {
        "case": case.get_absolute_url(),
        "relocation": relocation_url,
        "start": "/",
        "cases": "/arenden/",
        "search": f"/arenden/?q={person.last_name}",
        "relocations": "/omplaceringar/",
    }
    for name, url in social_pages.items():
        social.goto(url)
        text = social.locator("body").inner_text()
        assert street not in text and "999 99" not in text, name
        # Lists and search results name no destination at all.
        if name in {"start", "cases", "search", "relocations"}:
            assert DESTINATION_NAME not in text, name

    # The sending coordinator downloads the sending side's agreement, then asks the
    # receiving municipality to take the case over.
    page.goto(relocation_url)
    expect(page.get_by_test_id("destination-name")).to_have_text(DESTINATION_NAME)
    expect(page.get_by_test_id("destination-address")).to_have_count(0)
    href = page.get_by_role("link", name="Ladda ned placeringsavtalet").get_attribute("href")
    assert href is not None
    agreement = page.request.get(href)
    assert agreement.ok and agreement.body().startswith(b"%PDF")
    assert street.encode() not in agreement.body()
    _open_waiting(page, "Begär överlämning", reference)
    handover = _step_form(page, "Begär överlämning av ärendet")
    field(handover, "Avslutande sammanfattning (utan ort eller adress)").fill(
        "Flytten genomförd enligt plan. Stödet här avslutas."
    )
    handover.get_by_role("button", name="Begär överlämning av ärendet").click()
    page.wait_for_url(relocation_url)
    expect(page.get_by_test_id("relocation-status")).to_have_text("Överlämning begärd")

    # 6. The receiving coordinator takes the case over.
    _open_waiting(receiver, "Ta över ärendet", reference)
    taking = _step_form(receiver, "Besvara överlämningen")
    taking.get_by_role("radio", name="Ta över ärendet").check()
    taking.get_by_role("button", name="Besvara överlämningen").click()
    receiver.wait_for_url(relocation_url)
    expect(receiver.get_by_test_id("relocation-status")).to_have_text("Överlämnad")
    case.refresh_from_db()
    assert case.owning_agency_id == receiving.pk
    assert Relocation.objects.get(pk=relocation.pk).status == RelocationStatus.HANDED_OVER

    # At the end the social worker still reads where the case went, never the address; the
    # case itself is the receiving municipality's now.
    social.goto(relocation_url)
    expect(social.get_by_test_id("relocation-status")).to_have_text("Överlämnad")
    expect(social.get_by_test_id("destination-name")).to_have_text(DESTINATION_NAME)
    expect(social.get_by_text("Flytten genomförd enligt plan.")).to_be_visible()
    for name, url in social_pages.items():
        response = social.goto(url)
        assert response is not None
        assert response.status == (404 if name == "case" else 200), name
        text = social.locator("body").inner_text()
        assert street not in text and "999 99" not in text, name
        if name != "relocation":
            assert DESTINATION_NAME not in text, name


# --- Method support: from aktualisering to follow-up through the checklist ------------------


def test_worker_walks_a_case_through_its_checklist_to_the_outcomes_at_follow_up(
    page: Page, browser_login: Callable[[User], Page], worker: User, case: Case
) -> None:
    browser_login(worker)
    page.goto(case.get_absolute_url())
    checklist = page.get_by_test_id("checklist")
    expect(checklist.locator("li.phase.current h3")).to_contain_text("Aktualisering")

    change_status(page, "Initial bedömning")
    expect(page.get_by_test_id("case-status")).to_have_text("Initial bedömning")
    expect(checklist.locator("li.phase.current h3")).to_contain_text("4 obligatoriska steg kvar")

    # Held until the required steps are done or waived.
    change_status(page, "Utredning")
    expect(page.get_by_role("alert")).to_contain_text("Gemensamt möte med polisen")
    page.goto(case.get_absolute_url())
    settle_required_steps(page, waive="Polisen deltog per telefon")
    expect(page.get_by_text("Polisen deltog per telefon")).to_be_visible()

    for status in ("Utredning", "Insatser", "Uppföljning"):
        settle_required_steps(page)
        change_status(page, status)
        expect(page.get_by_test_id("case-status")).to_have_text(status)
    expect(page.get_by_test_id("decisions")).to_contain_text("Beslut om insatser")

    settle_required_steps(page)
    change_status(page, "Avslutad", reason="Målen är nådda.", end_reason="Målen uppnådda")
    expect(page.get_by_test_id("case-status")).to_have_text("Avslutad")
    expect(page.get_by_test_id("decisions")).to_contain_text("Avslut av ärende")

    # Seven months on, the six-month outcomes are due on the start page.
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=213))
    page.goto("/")
    due = page.get_by_test_id("outcomes-due")
    expect(due).to_contain_text("6 månader efter avslut")
    due.get_by_role("link", name=case.reference).click()
    for question, answer in (
        ("Stabilt boende", "Ja"),
        ("Arbete eller studier", "Ja"),
        ("Känd ny brottslighet", "Nej"),
        ("Missbruk", "Nej"),
        ("Fortfarande i kontakt med verksamheten", "Ja"),
    ):
        page.get_by_role("group", name=re.compile(question, re.I)).get_by_label(answer).check()
    page.get_by_role("button", name="Spara", exact=True).click()
    expect(page.get_by_test_id("case-outcomes")).to_contain_text("6")
    page.goto("/")
    expect(page.get_by_test_id("outcomes-due")).to_have_count(0)
