"""Shared by the relocation tests (tests/test_relocation_*.py) and the access matrix: the
national coordination, a receiving municipality with its police region, and a relocation
driven through the real services to any step. Registered for the whole suite through
`pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from avhopp.models import Agency, AgencyKind, Role, User
from cases import services as case_services
from cases.models import Case, Consent
from relocations import services
from relocations.models import Relocation, RelocationStatus
from tests.conftest import AgencyFactory

# Planted in the destination, to be looked for in everything the sending side's other staff
# and unrelated agencies get.
DESTINATION_NAME = "Kvarnbyholms kommun"
DESTINATION_ADDRESS = "Hemliga Lindvägen 42, 999 99 Kvarnbyholm"


@pytest.fixture
def national_agency(db: None) -> Agency:
    return AgencyFactory(
        name="Nationell samordning avhopp",
        kind=AgencyKind.NATIONAL_COORDINATION,
        municipality_code="",
        region="",
    )


@pytest.fixture
def national(make_user: Callable[..., User], national_agency: Agency) -> User:
    return make_user(national_agency, Role.NATIONAL_COORDINATOR, username="national")


@pytest.fixture
def receiving_police(db: None) -> Agency:
    return AgencyFactory(
        name="Polisregion Nord", kind=AgencyKind.POLICE, municipality_code="", region="Norr"
    )


@pytest.fixture
def receiving(receiving_police: Agency) -> Agency:
    return AgencyFactory(
        name=DESTINATION_NAME,
        municipality_code="2480",
        region="Västerbotten",
        police_region=receiving_police,
    )


@pytest.fixture
def receiving_coordinator(make_user: Callable[..., User], receiving: Agency) -> User:
    return make_user(receiving, Role.COORDINATOR, username="rcoord")


@pytest.fixture
def clearing_officer(make_user: Callable[..., User], receiving_police: Agency) -> User:
    return make_user(receiving_police, Role.POLICE_OFFICER, username="nordpolis")


def relocation_consent(case: Case, by: User, national_agency: Agency) -> Consent:
    today = timezone.localdate()
    return case_services.consent_create(
        individual=case.individual,
        case=case,
        by=by,
        recipient=national_agency,
        given_on=today - timedelta(days=2),
        valid_until=today + timedelta(days=365),
        document_reference="OMP-SAMTYCKE-1",
        relocation=True,
    )


def assessed(case: Case, officer: User, *, review_in: int = 30) -> None:
    from tests.support import assess_threat

    assess_threat(
        case,
        officer,
        level="high",
        summary="Hög hotbild.",
        details="Polisens egna uppgifter.",
        relocation=True,
        next_review_date=timezone.localdate() + timedelta(days=review_in),
    )


def request(case: Case, coordinator: User, consent: Consent, **overrides: Any) -> Relocation:
    fields: dict[str, Any] = {
        "urgency": "planned",
        "housing_need": "long_term",
        "needs_summary": "Behöver lägenhet och stöd i vardagen.",
        "people_moving": 2,
        "children_moving": 1,
        "avoided_regions": ["Skåne"],
        "avoid_reason": "Tidigare nätverk",
    }
    fields.update(overrides)
    return services.relocation_request(case=case, by=coordinator, consent=consent, **fields)


@dataclass
class Parties:
    """Everyone a relocation needs, from the sending coordinator to the receiving one."""

    sending_coordinator: User
    national: User
    clearing_officer: User
    receiving_coordinator: User
    receiving: Agency


def advance(relocation: Relocation, parties: Parties, to: RelocationStatus) -> Relocation:
    """Take the relocation, step by step through the services, to `to`."""
    order = [
        RelocationStatus.MATCHING,
        RelocationStatus.CLEARANCE,
        RelocationStatus.OFFERED,
        RelocationStatus.ACCEPTED,
        RelocationStatus.ARRANGED,
        RelocationStatus.MOVED,
        RelocationStatus.HANDOVER,
        RelocationStatus.HANDED_OVER,
    ]
    if relocation.status == to:
        return relocation
    today = timezone.localdate()
    steps: dict[str, Callable[[], Any]] = {
        RelocationStatus.CLEARANCE: lambda: services.candidates_propose(
            relocation=relocation, by=parties.national, municipalities=[parties.receiving]
        ),
        RelocationStatus.OFFERED: lambda: (
            services.clearance_answer(
                candidate=relocation.candidates.get(), by=parties.clearing_officer, cleared=True
            ),
            services.offer_send(candidate=relocation.candidates.get(), by=parties.national),
        ),
        RelocationStatus.ACCEPTED: lambda: services.offer_answer(
            candidate=relocation.candidates.get(),
            by=parties.receiving_coordinator,
            accepted=True,
            intake_contact="Mottagare Mottagarsson 090-12 34 56",
        ),
        RelocationStatus.ARRANGED: lambda: services.placement_record(
            relocation=relocation,
            by=parties.receiving_coordinator,
            housing="long_term",
            address=DESTINATION_ADDRESS,
            move_date=today,
        ),
        RelocationStatus.MOVED: lambda: services.move_confirm(
            relocation=relocation, by=parties.receiving_coordinator, moved_on=today
        ),
        RelocationStatus.HANDOVER: lambda: services.handover_request(
            relocation=relocation,
            by=parties.sending_coordinator,
            closing_summary="Personen har flyttat enligt plan. Stödet avslutas här.",
        ),
        RelocationStatus.HANDED_OVER: lambda: services.handover_answer(
            relocation=relocation, by=parties.receiving_coordinator, accepted=True
        ),
    }
    for status in order[order.index(RelocationStatus(relocation.status)) + 1 :]:
        steps[status]()
        relocation.refresh_from_db()
        assert relocation.status == status
        if status == to:
            break
    return relocation


@pytest.fixture
def parties(
    coordinator: User,
    national: User,
    clearing_officer: User,
    receiving_coordinator: User,
    receiving: Agency,
) -> Parties:
    return Parties(coordinator, national, clearing_officer, receiving_coordinator, receiving)


@pytest.fixture
def relocation(
    case: Case,
    coordinator: User,
    officer: User,
    national_agency: Agency,
    municipality: Agency,
    police_agency: Agency,
) -> Relocation:
    """A requested relocation of `case` (sending: `municipality`, whose police region is the
    `officer`'s)."""
    municipality.police_region = police_agency
    municipality.save(update_fields=["police_region"])
    assessed(case, officer)
    return request(case, coordinator, relocation_consent(case, coordinator, national_agency))
