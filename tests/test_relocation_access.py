"""Who reads a relocation, and the secrecy of its destination: the national coordinator, the
receiving municipality and the clearing police on every relocation URL, and a leak test that
plants the destination and looks for it in everything the sending municipality's other staff
and unrelated agencies are served."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases.models import Case, CaseShare, Consent
from referrals import services as referral_services
from referrals.models import DocumentKind
from relocations.models import Relocation, RelocationStatus
from relocations.pdf import agreement_render
from tests.access_support import RELOCATION_STEPS, body_of, give_outside_reason
from tests.relocation_support import (
    DESTINATION_ADDRESS,
    DESTINATION_NAME,
    Parties,
    advance,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def arranged(relocation: Relocation, parties: Parties, doc_root: object) -> Relocation:
    """Placed: the destination and its address are recorded, the agreement made."""
    relocation = advance(relocation, parties, RelocationStatus.ARRANGED)
    agreement_render(relocation_id=relocation.pk)
    return relocation


def _urls(relocation: Relocation) -> dict[str, str]:
    urls = {
        name: reverse(f"relocations:{name}", args=[relocation.pk])
        for name in ("detail", "agreement", *RELOCATION_STEPS)
    }
    urls["list"] = reverse("relocations:list")
    urls["home"] = reverse("home")
    return urls


def test_national_coordinator_reads_blind_and_sees_the_destination(
    arranged: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    client = login(parties.national)
    person = arranged.case.individual
    statuses = {name: client.get(url).status_code for name, url in _urls(arranged).items()}
    assert statuses == {
        "detail": 200,
        "agreement": 200,
        "list": 200,
        "home": 200,
        **dict.fromkeys(RELOCATION_STEPS, 405),
    }
    page = body_of(client.get(_urls(arranged)["detail"]))
    assert DESTINATION_NAME in page and DESTINATION_ADDRESS in page
    # Blind: no name, identity number, address or journal of the person.
    for secret in (person.first_name, person.last_name, person.personnummer, person.address):
        assert secret not in page
    assert "Behöver lägenhet" in page  # the needs are what matching reads
    assert client.get(reverse("cases:detail", args=[arranged.case_id])).status_code == 404
    assert client.get(reverse("cases:journal", args=[arranged.case_id])).status_code == 404


def test_receiving_coordinator_and_clearing_police_see_the_destination(
    arranged: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    for user in (parties.receiving_coordinator, parties.clearing_officer):
        page = body_of(login(user).get(_urls(arranged)["detail"]))
        assert DESTINATION_NAME in page and DESTINATION_ADDRESS in page, user


def test_a_blind_offer_names_nobody(
    relocation: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    page = body_of(login(parties.receiving_coordinator).get(_urls(relocation)["detail"]))
    person = relocation.case.individual
    for secret in (person.first_name, person.last_name, person.personnummer, person.address):
        assert secret not in page
    assert "Besvara erbjudandet" in page


def _fetch_everything(client: Client, relocation: Relocation, case: Case) -> list[str]:
    """Every page the leak test reads, GET, as this client is served it."""
    urls = [
        *_urls(relocation).values(),
        reverse("cases:detail", args=[case.pk]),
        reverse("cases:list"),
        reverse("cases:list") + "?q=Adam",
        reverse("audit:case_readers", args=[case.pk]),
        reverse("audit:search"),
        reverse("audit:export"),
        reverse("referrals:dashboard"),
    ]
    give_outside_reason_if_needed(client, case)
    return [body_of(client.get(url)) for url in urls]


def give_outside_reason_if_needed(client: Client, case: Case) -> None:
    if client.get(reverse("cases:outside_reason", args=[case.pk])).status_code == 200:
        give_outside_reason(client, case)


@pytest.mark.parametrize(
    "actor",
    ["colleague", "log_reviewer", "agency_admin", "officer", "outsider", "other_officer"],
)
def test_the_destination_never_leaks(
    actor: str,
    arranged: Relocation,
    parties: Parties,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
    coordinator: User,
) -> None:
    # Reads of the destination by those allowed are in the log the reviewer reads.
    login(coordinator).get(_urls(arranged)["detail"])
    login(parties.receiving_coordinator).get(_urls(arranged)["detail"])
    client = login(request.getfixturevalue(actor))
    for body in _fetch_everything(client, arranged, arranged.case):
        assert DESTINATION_NAME not in body
        assert "Kvarnbyholm" not in body
        assert "Hemliga Lindvägen" not in body


def test_the_leak_check_would_notice(
    arranged: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    bodies = _fetch_everything(login(parties.national), arranged, arranged.case)
    assert any(DESTINATION_ADDRESS in body for body in bodies)


@pytest.mark.parametrize("actor", ["worker", "coordinator"])
def test_sending_side_deciders_see_the_name_never_the_address(
    actor: str,
    arranged: Relocation,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    user = request.getfixturevalue(actor)
    client = login(user)
    give_outside_reason_if_needed(client, arranged.case)
    bodies = _fetch_everything(client, arranged, arranged.case)
    assert any(DESTINATION_NAME in body for body in bodies)
    assert not any("Hemliga Lindvägen" in body for body in bodies)
    # Not in lists: the list and the start page name no destination.
    assert DESTINATION_NAME not in body_of(client.get(reverse("relocations:list")))
    assert DESTINATION_NAME not in body_of(client.get(reverse("home")))
    agreement = client.get(_urls(arranged)["agreement"])
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(body_of_bytes(agreement))).pages
    )
    assert "Placeringsavtal" in text and "Skyddad" in text
    assert "Hemliga" not in text
    names = {e.user_id for e in AuditEvent.objects.filter(action=AuditAction.DESTINATION_VIEW)}
    assert user.pk in names


def body_of_bytes(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_the_receiving_sides_agreement_holds_the_address(
    arranged: Relocation, parties: Parties, login: Callable[[User], Client]
) -> None:
    response = login(parties.receiving_coordinator).get(_urls(arranged)["agreement"])
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body_of_bytes(response))).pages)
    assert DESTINATION_ADDRESS.split(",")[0] in text
    assert DESTINATION_NAME in text


def test_who_has_read_the_case_shows_destination_reads(
    arranged: Relocation, parties: Parties, log_reviewer: User, login: Callable[[User], Client]
) -> None:
    login(parties.national).get(_urls(arranged)["detail"])
    page = body_of(login(log_reviewer).get(reverse("audit:case_readers", args=[arranged.case_id])))
    assert "Läst omplaceringens destination" in page


@pytest.mark.parametrize(
    "actor",
    ["colleague", "log_reviewer", "agency_admin", "officer", "outsider", "other_officer"],
)
def test_the_destination_never_leaks_once_handed_over(
    actor: str,
    arranged: Relocation,
    parties: Parties,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
    share_with: Callable[..., object],
    police_agency: Agency,
) -> None:
    """The case's transfer and the shares it revokes are written by the receiving
    municipality's coordinator: the sending side's log must not name them."""
    share_with(arranged.case, police_agency)
    relocation = advance(arranged, parties, RelocationStatus.HANDED_OVER)
    assert CaseShare.objects.get(case=relocation.case).revoked_reason == "case_transferred"
    client = login(request.getfixturevalue(actor))
    for body in _fetch_everything(client, relocation, relocation.case):
        assert "Kvarnbyholm" not in body
        assert "Hemliga Lindvägen" not in body


@pytest.mark.parametrize("kind", [DocumentKind.REFERRAL, DocumentKind.SIP])
def test_documents_the_sending_side_makes_after_the_move_name_no_destination(
    kind: str,
    arranged: Relocation,
    parties: Parties,
    coordinator: User,
    police_agency: Agency,
    consent_to: Callable[..., Consent],
) -> None:
    relocation = advance(arranged, parties, RelocationStatus.MOVED)
    consent = consent_to(relocation.case, police_agency, journal=True)
    referral = referral_services.referral_create(
        case=relocation.case,
        by=coordinator,
        kind=kind,
        to_agency=police_agency,
        contact_person="Karin Kontakt",
        reason="Uppföljning efter flytten.",
        summary="Personen har flyttat.",
        include_interventions=True,
        include_threat_level=True,
        include_journal=True,
        overall_responsibility="Socialtjänsten",
        next_follow_up=timezone.localdate(),
        consent=consent,
    )
    html = referral_services.referral_html(referral_id=referral.pk)
    assert relocation.case.reference in html
    assert "Kvarnbyholm" not in html and "Hemliga Lindvägen" not in html
