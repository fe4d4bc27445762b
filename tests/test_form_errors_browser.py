"""In Chromium: the sign-in's fields have focus, the menu waits for the second factor, and a
form that comes back with errors puts focus on its error summary, whose links lead to the
fields; the focus outline is drawn in the colours the stylesheet's contrast was computed for."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from avhopp.models import User
from tests.conftest import PASSWORD
from tests.support import authenticator_of, current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BODY_FOCUS = "rgb(11, 47, 79)"  # --focus, #0b2f4f
HEADER_FOCUS = "rgb(255, 191, 71)"  # --focus-on-dark, #ffbf47


def focused(page: Page, what: str) -> str:
    return page.evaluate(f"document.activeElement.{what}")


def outline_colour(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.activeElement).outlineColor")


def test_focus_goes_to_the_code_field_then_to_the_error_summary(page: Page, worker: User) -> None:
    code = current_code(worker)
    page.goto("/logga-in/")
    assert focused(page, "name") == "username"
    page.get_by_label("Användarnamn").fill(worker.username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_url(re.compile(r"/tvafaktor/"))
    assert focused(page, "name") == "code"
    expect(page.get_by_role("navigation", name="Huvudmeny")).to_have_count(0)
    expect(page.get_by_test_id("whoami")).to_have_count(0)

    # A wrong code: the summary has focus and the title says "Fel".
    page.get_by_label("Engångskod").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="Fortsätt").click()
    expect(page.get_by_test_id("error-summary")).to_contain_text("Koden stämmer inte.")
    expect(page).to_have_title(re.compile(r"^Fel: Tvåfaktorsinloggning"))
    assert focused(page, "dataset.testid") == "error-summary"
    TOTPDevice.objects.filter(pk=authenticator_of(worker).pk).update(throttling_failure_count=0)
    page.get_by_label("Engångskod").fill(code)
    page.get_by_role("button", name="Fortsätt").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("navigation", name="Huvudmeny")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Start"))

    # Keyboard focus in the header: the skip link, then the site's name, outlined in yellow.
    page.keyboard.press("Tab")
    assert focused(page, "className") == "skip-link"
    assert outline_colour(page) == HEADER_FOCUS
    page.keyboard.press("Tab")
    assert focused(page, "className") == "brand"
    assert outline_colour(page) == HEADER_FOCUS

    # A case form sent empty: focus on the first summary, its links lead to the fields.
    page.goto("/arenden/nytt/")
    expect(page).to_have_title(re.compile(r"^Nytt ärende"))
    page.get_by_role("button", name="Skapa ärende").click()
    summary = page.get_by_test_id("error-summary").first
    expect(summary).to_contain_text("Förnamn: Ange förnamn")
    expect(page).to_have_title(re.compile(r"^Fel: Nytt ärende"))
    assert focused(page, "dataset.testid") == "error-summary"
    assert focused(page, "textContent").strip().startswith("Något behöver rättas")
    assert outline_colour(page) == BODY_FOCUS
    page.screenshot(path="/tmp/avhopp-error-summary.png")
    page.keyboard.press("Tab")
    assert focused(page, "textContent") == "Förnamn: Ange förnamn"
    page.keyboard.press("Enter")
    expect(page.locator("#id_person-first_name")).to_be_focused()
    assert outline_colour(page) == BODY_FOCUS
    expect(page.locator("#id_person-protection_level")).to_have_value("")
    expect(page.locator("#id_person-protection_level option").first).to_have_text("Välj …")
