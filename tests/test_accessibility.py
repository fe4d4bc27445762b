"""axe-core in the browser tests (tests/axe_support.py): it reports what an inaccessible page
gets wrong, no browser test opens a page around it, and each demo role's main pages pass it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from avhopp.models import User
from devdata.demo import DEMO_PASSWORD, USERS, load_demo
from tests.axe_support import AxeChecker
from tests.conftest import PASSWORD
from tests.support import sign_in

# A page that gets the usual things wrong: no language, no title, no landmarks or heading, an
# image without a text, a field without a label, an empty button, faint text, a repeated id.
INACCESSIBLE = """<!doctype html><html><head><style>.faint{color:#bbb}</style></head><body>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<form><input name="q"><button></button></form>
<p class="faint">Svag text</p><p id="twice">Ett</p><p id="twice">Två</p>
</body></html>"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_page_left_behind_is_reported_with_rule_impact_element_and_url(
    page: Page, axe: AxeChecker, live_server: Any
) -> None:
    page.route(
        "**/otillganglig/",
        lambda route: route.fulfill(body=INACCESSIBLE, content_type="text/html"),
    )
    page.goto("/otillganglig/")
    page.goto("/logga-in/")  # the test only moves on: leaving the page is what checks it
    axe.check(page)  # and the sign-in page it went on to, which is clean

    report = axe.report()
    found = axe.take()  # expected here: not held against this test
    url = f"{live_server.url}/otillganglig/"
    rules = {violation.rule for violation in found if violation.url == url}
    assert {
        "html-has-lang",
        "document-title",
        "image-alt",
        "label",
        "button-name",
        "color-contrast",
        "landmark-one-main",
        "page-has-heading-one",
    } <= rules
    assert "image-alt (critical) at img:" in report
    assert f"on {url}" in report
    assert all(violation.url == url for violation in found)


# Clean as loaded; the field in the disclosure has no label, which counts once it is shown.
DISCLOSURE = """<!doctype html><html lang="sv"><head><title>Prov</title></head><body><main>
<h1>Prov</h1><details><summary>Visa</summary><input name="hidden-until-opened"></details>
</main></body></html>"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_disclosure_opened_in_place_is_checked_before_leaving(
    page: Page, axe: AxeChecker, live_server: Any
) -> None:
    page.route(
        "**/utfallbar/", lambda route: route.fulfill(body=DISCLOSURE, content_type="text/html")
    )
    page.goto("/utfallbar/")
    page.get_by_text("Visa").click()
    page.goto("/logga-in/")

    found = axe.take()
    assert [(violation.rule, violation.target, violation.url) for violation in found] == [
        ("label", "input", f"{live_server.url}/utfallbar/")
    ]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_change_in_place_is_checked_on_request(page: Page, axe: AxeChecker) -> None:
    page.goto("/logga-in/")
    assert axe.check(page) == []
    page.evaluate(
        "() => document.querySelector('main').insertAdjacentHTML('beforeend', "
        "'<input name=\"unlabelled\">')"
    )
    found = axe.check(page)
    assert [(violation.rule, violation.target) for violation in found] == [
        ("label", 'input[name="unlabelled"]')
    ]
    assert axe.take() == found
    page.reload()  # as loaded, the page is clean again: the end of the test finds nothing


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_signing_in_the_first_time_with_mistakes_then_in_english(
    page: Page, axe: AxeChecker, worker: User
) -> None:
    """The pages around signing in that no journey shows: wrong password, enrolling the first
    authenticator with a wrong code first, the recovery codes; the English pages."""
    page.goto("/logga-in/")
    page.get_by_label("Användarnamn").fill(worker.username)
    page.get_by_label("Lösenord").fill("inte-lösenordet")
    page.get_by_role("button", name="Logga in").click()
    expect(page.locator(".error-summary")).to_be_visible()
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aktivera tvåfaktorsinloggning")
    page.get_by_label("Engångskod").fill("000000")
    page.get_by_role("button", name="Aktivera").click()
    expect(page.locator(".error-summary")).to_be_visible()
    device = TOTPDevice.objects.get(user=worker, confirmed=False)
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    page.get_by_label("Engångskod").fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name="Aktivera").click()
    expect(page.get_by_test_id("recovery-codes").get_by_role("listitem")).to_have_count(10)
    page.get_by_role("link", name="Fortsätt").click()

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    axe.check(page)
    assert len(axe.checked) >= 9  # every page above, each as loaded


def test_no_browser_test_opens_a_page_around_the_check() -> None:
    """Pages come from conftest's `new_page` (or `page`), which has axe watch them; a
    context or page opened straight from the browser would go unchecked."""
    bypass = re.compile(r"\.new_context\(|\bbrowser\.new_page\(")
    offenders = [
        f"{path.name}:{number}"
        for path in sorted(Path(__file__).parent.glob("*.py"))
        if path.name != "conftest.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if bypass.search(line)
    ]
    assert offenders == []


# --- Each demo role's main pages ---------------------------------------------------------------

# Links not to follow: downloads (files by name too, as export.csv), JSON status answers, the
# language switch, Django's admin.
NOT_PAGES = re.compile(r"/(dokument|ladda-ned|avtal|utdrag|status|i18n|admin|logga-ut)/|\.\w+$")
TOUR_DEPTH = 2  # the start page, what it and the menu link to, and one step further


def _links(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "header a[href], main a[href]",
        "links => links.filter(a => a.origin === location.origin && !a.download)"
        ".map(a => a.pathname + a.search)",
    )


def _past_the_reason(page: Page) -> None:
    """Reading a case outside one's assignment first asks why: give a reason, go on."""
    if "/skal/" in page.url:
        page.get_by_role("radio").first.check()
        page.get_by_role("button", name="Fortsätt").click()
        page.wait_for_url(lambda url: "/skal/" not in url)


def _tour(page: Page) -> list[str]:
    """One page of each kind (its path with numbers taken out) within TOUR_DEPTH links of
    the start page, as the user's own menu and pages offer them."""
    kinds = {"/"}
    queue = [("/", 0)]
    visited = []
    while queue:
        path, depth = queue.pop(0)
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        _past_the_reason(page)
        visited.append(page.url)
        if depth == TOUR_DEPTH:
            continue
        for link in _links(page):
            # A page of a kind is its path; the query string goes along (a page may need it).
            kind = re.sub(r"\d+", "N", link.split("?")[0])
            if kind not in kinds and not NOT_PAGES.search(link.split("?")[0]):
                kinds.add(kind)
                queue.append((link, depth + 1))
    return visited


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, databases=["default", "register"])
@pytest.mark.parametrize("username", [row[0] for row in USERS])
def test_each_demo_role_main_pages(page: Page, axe: AxeChecker, username: str) -> None:
    load_demo()
    user = User.objects.get(username=username)
    sign_in(page, user, DEMO_PASSWORD)
    visited = _tour(page)
    axe.check(page)  # the last page, which nothing leaves
    assert len(visited) > 2, visited  # more than the start page and the passkeys page
    assert set(visited) <= set(axe.checked)
