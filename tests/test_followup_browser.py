"""Browser journey of the national follow-up: the national coordinator reads the statistics
and approves a researcher's extract, which the researcher downloads; a municipality's
coordinator sees only its own statistics."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from avhopp.models import Agency, AgencyKind, Role, User
from tests.conftest import PASSWORD, AgencyFactory
from tests.followup_support import cases_in, seed_register
from tests.support import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "register"]),
]


@pytest.fixture
def fresh_page(new_page: Callable[[], Page]) -> Callable[[User], Page]:
    """A page of its own, signed in as the user."""

    def signed_in(user: User) -> Page:
        page = new_page()
        sign_in(page, user, PASSWORD)
        expect(page.get_by_test_id("whoami")).to_contain_text(user.agency.name)
        return page

    return signed_in


def test_statistics_and_an_extract_from_request_to_download(
    fresh_page: Callable[[User], Page],
    make_case: Callable[..., Any],
    make_user: Callable[..., User],
    worker: User,
    coordinator: User,
    national: User,
    other_municipality: Agency,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Any,
) -> None:
    from avhopp.celery import app as celery_app

    # No worker runs here: publishing runs the build in-process, in the live server thread.
    monkeypatch.setitem(celery_app.conf, "task_always_eager", True)
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    cases_in(make_case, worker, 6)
    cases_in(make_case, make_user(other_municipality, Role.SOCIAL_WORKER), 2)
    seed_register(300)
    research = AgencyFactory(
        name="Lunds universitet", kind=AgencyKind.RESEARCH, municipality_code=""
    )
    researcher = make_user(research, Role.RESEARCHER, username="forskaren")

    # The national coordinator reads the whole country, small counts hidden.
    nationally = fresh_page(national)
    nationally.get_by_role("link", name="Statistik").click()
    expect(nationally.get_by_role("heading", level=1)).to_have_text("Statistik för hela landet")
    active = nationally.get_by_role("table", name=re.compile("Aktiva ärenden vid periodens slut"))
    expect(active.get_by_role("row", name=re.compile("Botkyrka kommun"))).to_contain_text("..")
    expect(nationally.get_by_test_id("chart").first).to_be_visible()

    # A researcher asks for an extract.
    studying = fresh_page(researcher)
    studying.get_by_role("link", name="Forskningsuttag").click()
    studying.get_by_test_id("new-extract").click()
    studying.get_by_label("Syfte").fill("Hur hänger insatser ihop med fullföljda program?")
    for variable in ("Åldersgrupp vid aktualisering", "Kön", "Län", "Typer av insatser"):
        studying.get_by_label(variable, exact=True).check()
    studying.get_by_label("Etikprövningsmyndighetens diarienummer").fill("2024-01234-01")
    studying.get_by_role("button", name="Skicka begäran").click()
    expect(studying.get_by_test_id("extract-status")).to_have_text("Väntar på beslut")
    extract_url = studying.url

    # The national coordinator approves it; the build runs.
    nationally.goto(extract_url)
    nationally.get_by_role("radio", name="Godkänn").check()
    nationally.get_by_role("button", name="Registrera beslut").click()
    expect(nationally.get_by_test_id("extract-status")).to_have_text("Klar", timeout=30_000)
    expect(nationally.get_by_test_id("download-csv")).to_have_count(0)  # the requester's alone

    # The researcher downloads it.
    studying.reload()
    expect(studying.get_by_test_id("extract-status")).to_have_text("Klar")
    with studying.expect_download() as download_info:
        studying.get_by_test_id("download-csv").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows and set(rows[0]) == {"id", "age_band", "gender", "region", "intervention_kinds"}

    # A municipality's coordinator reads its own statistics only.
    locally = fresh_page(coordinator)
    locally.get_by_role("link", name="Statistik").click()
    expect(locally.get_by_role("heading", level=1)).to_have_text("Statistik för Södertälje kommun")
    expect(locally.get_by_text("Botkyrka kommun")).to_have_count(0)
    expect(locally.get_by_role("link", name="Forskningsuttag")).to_have_count(0)
