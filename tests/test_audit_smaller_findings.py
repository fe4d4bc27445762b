"""The audit's smaller findings: private caching, text limits, log date ranges, login lockout,
and fields a user may not change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, User
from cases.models import Case, InterventionKind
from referrals import services as referral_services
from referrals.models import DocumentKind
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


# --- Finding 1: signed-in pages are private and never stored ---------------------------------


def test_signed_in_pages_are_private_and_not_stored(
    login: Callable[[User], Client], worker: User, log_reviewer: User, case: Case
) -> None:
    client = login(worker)
    for url in (reverse("home"), case.get_absolute_url(), reverse("cases:list")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert {"no-store", "private"} <= _directives(response), url
    export = login(log_reviewer).get(reverse("audit:export"))
    assert export.status_code == 200
    assert {"no-store", "private"} <= _directives(export)


def test_pdf_download_is_private_and_not_stored(
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    monkeypatch.setattr(referral_services, "enqueue_generation", lambda referral_id: True)
    case = make_case(worker, responsible=coordinator)
    referral = referral_services.referral_create(
        case=case,
        by=coordinator,
        kind=DocumentKind.REFERRAL,
        to_agency=police_agency,
        intervention_kind=InterventionKind.PROTECTION,
        reason="Behöver skydd efter avhopp.",
        summary="Personen har lämnat nätverket.",
        contact_person="Karin Kontakt",
    )
    referral_services.referral_render(referral_id=referral.pk)
    response = login(coordinator).get(reverse("referrals:download", args=[referral.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert {"no-store", "private"} <= _directives(response)


def test_anonymous_login_page_is_not_stored_either(client: Client) -> None:
    # Django's login view marks itself never-cached; the page holds a CSRF token.
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "no-store" in _directives(response)


def test_the_answer_that_signs_in_is_private(client: Client, worker: User) -> None:
    response = client.post(reverse("login"), {"username": worker.username, "password": PASSWORD})
    assert response.status_code == 302
    assert {"no-store", "private"} <= _directives(response)
