"""The case team and the list's export in headless Chromium: the responsible worker adds a
colleague through the case page, the colleague opens the case without being asked why, and
the worker downloads the list."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from avhopp.models import AuditAction, AuditEvent, User
from cases.models import Case
from tests.conftest import PASSWORD
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_colleague_in_the_team_opens_the_case_without_a_reason(
    page: Page,
    browser_login: Callable[[User], Page],
    new_page: Callable[[], Page],
    case: Case,
    worker: User,
    colleague: User,
) -> None:
    browser_login(worker)
    page.goto(case.get_absolute_url())
    team = page.get_by_test_id("case-team")
    expect(team).to_contain_text("Ingen utöver ansvarig handläggare.")
    team.get_by_role("link", name="Lägg till i teamet").click()
    page.get_by_label("Vem").select_option(label=f"{colleague} (Handläggare, {worker.agency})")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text(f"{colleague} är med i ärendets team.")).to_be_visible()
    expect(team.get_by_test_id("team-member")).to_have_text(
        f"{colleague} (Handläggare, {worker.agency}) Ta bort {colleague}"
    )

    other = new_page()
    sign_in(other, colleague, PASSWORD)
    other.goto("/arenden/")
    other.get_by_role("link", name=case.reference).click()
    expect(other.get_by_role("heading", level=1)).to_contain_text(case.reference)
    assert other.url.endswith(case.get_absolute_url())
    assert AuditEvent.objects.filter(
        action=AuditAction.CASE_VIEW, case_id=case.pk, username=colleague.username
    ).exists()

    page.goto("/arenden/")
    with page.expect_download() as download:
        page.get_by_test_id("case-export").get_by_role("link", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Ärende"
    assert [row[0] for row in rows[1:]] == [case.reference]
