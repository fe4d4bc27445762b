"""Protected personal data: masked in lists and on the case page, found by number only by
those who may, revealed with a logged reason (the access matrix, tests/access_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, AuditAction, AuditEvent, User
from cases.identity import format_identity_number, mask_identity_number
from cases.models import Case, CaseShare, ProtectionLevel
from tests.access_support import REASON_ACTORS, give_outside_reason

# --- Protected identity ---------------------------------------------------------------------

PROTECTED_ADDRESS = "Skyddsvägen 9, 111 22 Hemlunda"


@pytest.fixture
def protected_case(
    make_case: Callable[..., Case],
    worker: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> Case:
    case = make_case(
        worker,
        first_name="Sigrid",
        last_name="Skyddad",
        born=date(1990, 6, 1),
        protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
        address=PROTECTED_ADDRESS,
    )
    share_with(case, police_agency)
    return case


@pytest.mark.parametrize("actor", ["worker", "colleague", "coordinator", "officer"])
def test_protected_identity_is_masked_in_list_and_detail(
    actor: str, protected_case: Case, request: pytest.FixtureRequest, login: Callable
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    number = protected_case.individual.personnummer
    assert number is not None
    masked = mask_identity_number(number)
    assert masked == f"{number[:8]}-****"
    listing = client.get(reverse("cases:list")).content.decode()
    detail = client.get(reverse("cases:detail", args=[protected_case.pk]))
    assert detail.status_code == 200
    detail_body = detail.content.decode()
    assert protected_case.reference in listing
    for body in (listing, detail_body):
        assert masked in body
        assert number not in body
        assert format_identity_number(number) not in body
        assert PROTECTED_ADDRESS not in body
        assert "Skyddsvägen" not in body
        assert protected_case.individual.phone not in body
    # The list has no address column at all; the detail page says the address is protected.
    assert "Skyddad adress" in detail_body


@pytest.mark.parametrize(
    ("actor", "finds"),
    [("worker", True), ("coordinator", True), ("colleague", False), ("officer", False)],
)
def test_search_by_protected_number(
    actor: str,
    finds: bool,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    number = protected_case.individual.personnummer
    assert number is not None
    for page in (reverse("cases:list"), reverse("cases:create")):
        for query in (number, format_identity_number(number)):
            response = client.get(page, {"q": query})
            if actor == "officer" and page == reverse("cases:create"):
                assert response.status_code == 403  # police do not register cases
                continue
            body = response.content.decode()
            assert (protected_case.reference in body) is finds, (page, query)


@pytest.mark.parametrize("actor", ["worker", "coordinator"])
def test_reveal_shows_full_identity_and_is_logged(
    actor: str,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    reveal = reverse("cases:reveal", args=[protected_case.pk])
    detail = reverse("cases:detail", args=[protected_case.pk])
    number = protected_case.individual.personnummer
    assert number is not None
    assert client.get(reveal).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).count() == 0
    response = client.post(reveal, {"reason": "other", "other": "Kontakt med Skatteverket"})
    assert response.status_code == 302
    events = AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL)
    assert events.count() == 1
    event = events.get()
    assert event.reason == "other: Kontakt med Skatteverket"
    assert event.case_id == protected_case.pk
    assert event.individual_id == protected_case.individual_id
    assert event.user_id == request.getfixturevalue(actor).pk
    body = client.get(detail).content.decode()
    assert format_identity_number(number) in body
    assert PROTECTED_ADDRESS in body
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).count() == 1


@pytest.mark.parametrize("actor", ["colleague", "officer"])
def test_reveal_is_forbidden(
    actor: str,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    reveal = reverse("cases:reveal", args=[protected_case.pk])
    assert client.get(reveal).status_code == 403
    assert client.post(reveal, {"reason": "urgent"}).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).exists()
    body = client.get(reverse("cases:detail", args=[protected_case.pk])).content.decode()
    number = protected_case.individual.personnummer
    assert number is not None
    assert format_identity_number(number) not in body
    assert PROTECTED_ADDRESS not in body


def test_person_form_hides_protected_fields_until_revealed(
    protected_case: Case, colleague: User, coordinator: User, login: Callable[[User], Client]
) -> None:
    url = reverse("cases:individual_edit", args=[protected_case.pk])
    for user in (colleague, coordinator):
        client = login(user)
        give_outside_reason(client, protected_case)
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert PROTECTED_ADDRESS not in body
        assert protected_case.individual.phone not in body


def test_protection_cannot_be_lifted_by_someone_who_may_not_reveal(
    protected_case: Case, colleague: User, login: Callable[[User], Client]
) -> None:
    """Downgrading protection would unmask the address to a reader the policy keeps it from."""
    client = login(colleague)
    give_outside_reason(client, protected_case)
    person = protected_case.individual
    client.post(
        reverse("cases:individual_edit", args=[protected_case.pk]),
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "gender": person.gender,
            "protection_level": ProtectionLevel.NONE,
        },
    )
    person.refresh_from_db()
    assert person.protection_level == ProtectionLevel.PROTECTED_REGISTRATION
    body = client.get(reverse("cases:detail", args=[protected_case.pk])).content.decode()
    assert PROTECTED_ADDRESS not in body
