"""Sharing a case with another agency: on consent or legal basis, within scope, and revocable.

A share opens a case to a whole agency. It must rest on the person's current consent naming
that agency, or on a recorded legal basis with a citation; the recipient reads only what the
share's scope allows; withdrawal, expiry and unsharing take effect at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases import services
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    Consent,
    ConsentScope,
    LegalBasis,
)
from cases.policy import CaseAction
from cases.selectors import get_case_for_user, sharing_of_case
from cases.tasks import expire_consents
from tests.support import assess_threat

GOAL = "Målet är körkort och fast anställning på Hemköps lager"
PROVIDER = "Arbetsträning Kvarnholmen"
JOURNAL = "Samtal om flytt från Hovsjö, mamma orolig"
SUMMARY = "Hotbilden bedöms som förhöjd efter avhoppet"

NO_BASIS_MESSAGE = "Välj ett samtycke, eller ange en rättslig grund med hänvisning."
BAD_CONSENT_MESSAGE = "Samtycket gäller inte den mottagaren eller har upphört."


@pytest.fixture
def full_case(case: Case, worker: User, officer: User) -> Case:
    """The standard case with an intervention, a journal entry and a threat assessment."""
    services.intervention_create(
        case=case, by=worker, kind="work", provider_name=PROVIDER, goal=GOAL
    )
    services.journal_entry_create(case=case, by=worker, text=JOURNAL)
    assess_threat(
        case,
        officer,
        level="elevated",
        summary=SUMMARY,
        details="Endast för polis",
        next_review_date=timezone.localdate() + timedelta(days=60),
    )
    return case


@pytest.fixture
def prison_coordinator(make_user: Callable[..., User], prison_agency: Agency) -> User:
    return make_user(prison_agency, Role.COORDINATOR, username="kvvcoord")


def consent_for(
    case: Case,
    recipient: Agency,
    by: User,
    *,
    given_days_ago: int = 1,
    valid_days: int | None = 180,
    scopes: frozenset[ConsentScope] = frozenset(ConsentScope),
) -> Consent:
    today = timezone.localdate()
    return services.consent_create(
        individual=case.individual,
        case=case,
        by=by,
        recipient=recipient,
        given_on=today - timedelta(days=given_days_ago),
        valid_until=None if valid_days is None else today + timedelta(days=valid_days),
        document_reference="SAM-T",
        **{f"scope_{scope.value}": True for scope in scopes},
    )


def has_grant(case: Case, agency: Agency) -> bool:
    return CaseGroupObjectPermission.objects.filter(
        content_object=case,
        group=agency.group,
        permission__codename="view_case",
    ).exists()


def coordinator_client(coordinator: User, case: Case, login: Callable[[User], Client]) -> Client:
    """The owning coordinator is not the responsible worker: state a reason first."""
    client = login(coordinator)
    response = client.post(
        reverse("cases:outside_reason", args=[case.pk]), {"reason": "joint_meeting"}
    )
    assert response.status_code == 302
    return client


def share_url(case: Case) -> str:
    return reverse("cases:share_create", args=[case.pk])


def detail(client: Client, case: Case) -> Any:
    return client.get(reverse("cases:detail", args=[case.pk]))


# --- Consent or legal basis -----------------------------------------------------------------


def test_share_without_consent_or_legal_basis_is_refused_by_the_service(
    case: Case, coordinator: User, police_agency: Agency
) -> None:
    with pytest.raises(ValidationError):
        services.case_share(case=case, agency=police_agency, by=coordinator)
    with pytest.raises(ValidationError):
        services.case_share(
            case=case,
            agency=police_agency,
            by=coordinator,
            legal_basis=LegalBasis.SUSPECTED_CRIME,
            legal_basis_citation="   ",
        )
    assert not CaseShare.objects.exists()
    assert not has_grant(case, police_agency)


def test_share_form_without_consent_or_legal_basis_answers_400(
    case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    client = coordinator_client(coordinator, case, login)
    response = client.post(share_url(case), {"agency": police_agency.pk})
    assert response.status_code == 400
    assert NO_BASIS_MESSAGE in response.content.decode()
    response = client.post(
        share_url(case), {"agency": police_agency.pk, "legal_basis": LegalBasis.SUSPECTED_CRIME}
    )
    assert response.status_code == 400
    assert "Ange hänvisning och motivering." in response.content.decode()
    assert not CaseShare.objects.exists()
    assert not has_grant(case, police_agency)
    assert detail(login(officer), case).status_code == 404


@pytest.mark.parametrize(
    "problem", ["other_agency", "other_person", "withdrawn", "expired", "not_yet_given"]
)
def test_consent_that_does_not_cover_the_agency_is_refused(
    problem: str,
    case: Case,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    if problem == "other_agency":
        consent = consent_for(case, prison_agency, coordinator)
    elif problem == "other_person":
        consent = consent_for(make_case(worker), police_agency, coordinator)
    elif problem == "withdrawn":
        consent = consent_for(case, police_agency, coordinator)
        services.consent_withdraw(consent=consent, by=coordinator, case=case)
    elif problem == "expired":
        consent = consent_for(case, police_agency, coordinator, given_days_ago=30, valid_days=-1)
    else:
        consent = consent_for(case, police_agency, coordinator, given_days_ago=-3)
    consent.refresh_from_db()
    with pytest.raises(ValidationError):
        services.case_share(case=case, agency=police_agency, by=coordinator, consent=consent)

    client = coordinator_client(coordinator, case, login)
    response = client.post(share_url(case), {"agency": police_agency.pk, "consent": consent.pk})
    assert response.status_code == 400
    body = response.content.decode()
    # A withdrawn consent, or another person's, is not even offered by the form.
    if problem not in {"withdrawn", "other_person"}:
        assert BAD_CONSENT_MESSAGE in body
    assert not CaseShare.objects.exists()
    assert not has_grant(case, police_agency)
    assert detail(login(officer), case).status_code == 404


def test_share_on_current_consent_through_the_form(
    full_case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    consent = consent_for(full_case, police_agency, coordinator)
    client = coordinator_client(coordinator, full_case, login)
    response = client.post(
        share_url(full_case), {"agency": police_agency.pk, "consent": consent.pk}
    )
    assert response.status_code == 302
    share = CaseShare.objects.get(case=full_case, agency=police_agency)
    assert share.consent_id == consent.pk
    assert share.expires_on == consent.valid_until
    assert has_grant(full_case, police_agency)
    assert detail(login(officer), full_case).status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.CASE_SHARE)
    assert (event.case_id, event.reason) == (full_case.pk, "consent")


def test_share_on_legal_basis_is_logged_with_the_citation(
    case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    citation = "OSL 10 kap. 21 §: misstanke om grovt brott, ärende 5000-K123-26"
    client = coordinator_client(coordinator, case, login)
    response = client.post(
        share_url(case),
        {
            "agency": police_agency.pk,
            "legal_basis": LegalBasis.SUSPECTED_CRIME,
            "legal_basis_citation": citation,
            "scopes": ["threat_level"],
        },
    )
    assert response.status_code == 302
    share = CaseShare.objects.get(case=case, agency=police_agency)
    assert share.consent is None
    assert (share.legal_basis, share.legal_basis_citation) == (LegalBasis.SUSPECTED_CRIME, citation)
    assert share.expires_on is None
    events = AuditEvent.objects.filter(action=AuditAction.CASE_SHARE)
    assert events.count() == 1
    event = events.get()
    assert citation in event.reason
    assert LegalBasis.SUSPECTED_CRIME.value in event.reason
    assert (event.case_id, event.user_id) == (case.pk, coordinator.pk)
    assert detail(login(officer), case).status_code == 200


def test_consent_scope_is_the_ceiling_of_the_share(
    case: Case, coordinator: User, police_agency: Agency
) -> None:
    consent = consent_for(
        case, police_agency, coordinator, scopes=frozenset({ConsentScope.INTERVENTIONS})
    )
    share = services.case_share(
        case=case,
        agency=police_agency,
        by=coordinator,
        consent=consent,
        scopes=frozenset({ConsentScope.INTERVENTIONS, ConsentScope.JOURNAL}),
    )
    assert share.covers(ConsentScope.INTERVENTIONS)
    assert not share.covers(ConsentScope.JOURNAL)


# --- The recipient reads only the scope -----------------------------------------------------


def test_police_with_threat_level_scope_only_see_no_interventions_or_journal(
    full_case: Case,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share_with(full_case, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    response = detail(login(officer), full_case)
    assert response.status_code == 200
    body = response.content.decode()
    assert SUMMARY in body
    for hidden in (GOAL, PROVIDER, JOURNAL, 'id="interventions-h"', 'id="journal-h"'):
        assert hidden not in body, hidden


def test_prison_service_with_interventions_scope_sees_interventions_not_journal(
    full_case: Case,
    prison_coordinator: User,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share_with(full_case, prison_agency, frozenset({ConsentScope.INTERVENTIONS}))
    response = detail(login(prison_coordinator), full_case)
    assert response.status_code == 200  # no outside-assignment reason: not the owning agency
    body = response.content.decode()
    assert PROVIDER in body
    assert 'id="interventions-h"' in body
    for hidden in (JOURNAL, 'id="journal-h"', SUMMARY, 'id="threat-h"', "Endast för polis"):
        assert hidden not in body, hidden


# --- Withdrawal, expiry, unsharing ----------------------------------------------------------


def test_withdrawing_consent_removes_access_at_once(
    full_case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share = share_with(full_case, police_agency)
    officer_client = login(officer)
    assert detail(officer_client, full_case).status_code == 200
    assert has_grant(full_case, police_agency)

    client = coordinator_client(coordinator, full_case, login)
    url = reverse("cases:consent_withdraw", args=[full_case.pk, share.consent_id])
    assert client.post(url).status_code == 302

    assert detail(officer_client, full_case).status_code == 404
    assert full_case.reference not in officer_client.get(reverse("cases:list")).content.decode()
    assert not has_grant(full_case, police_agency)
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert share.revoked_reason == "consent_withdrawn"
    assert Consent.objects.get(pk=share.consent_id).withdrawn_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.CONSENT_WITHDRAW).count() == 1


def test_withdrawing_consent_is_for_coordinators_only(
    case: Case,
    worker: User,
    outsider: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share = share_with(case, police_agency)
    url = reverse("cases:consent_withdraw", args=[case.pk, share.consent_id])
    assert login(worker).post(url).status_code == 403
    assert login(officer).post(url).status_code == 403
    assert login(outsider).post(url).status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None
    assert Consent.objects.get(pk=share.consent_id).withdrawn_at is None
    assert has_grant(case, police_agency)


def _let_consent_run_out(share: CaseShare) -> None:
    """Simulate time passing: the consent's last valid day was yesterday."""
    yesterday = timezone.localdate() - timedelta(days=1)
    Consent.objects.filter(pk=share.consent_id).update(
        given_on=yesterday - timedelta(days=30), valid_until=yesterday
    )
    CaseShare.objects.filter(pk=share.pk).update(expires_on=yesterday)


def test_expired_consent_hides_the_case_at_read_time_then_the_job_revokes(
    case: Case,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share = share_with(case, police_agency)
    client = login(officer)
    assert detail(client, case).status_code == 200
    assert case.reference in client.get(reverse("cases:list")).content.decode()

    _let_consent_run_out(share)
    # The grant is still there, but the expired share no longer opens the case.
    assert has_grant(case, police_agency)
    assert detail(client, case).status_code == 404
    assert case.reference not in client.get(reverse("cases:list")).content.decode()
    assert case.reference not in client.get(reverse("home")).content.decode()

    assert services.consents_expire() == 1
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert share.revoked_reason == "consent_expired"
    assert not has_grant(case, police_agency)
    assert detail(client, case).status_code == 404
    assert services.consents_expire() == 0  # idempotent


def test_consent_expiry_task_runs_the_service(
    case: Case,
    make_case: Callable[..., Case],
    worker: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    expiring = share_with(case, police_agency)
    current_case = make_case(worker)
    current = share_with(current_case, police_agency)
    _let_consent_run_out(expiring)

    result = expire_consents.apply()
    assert result.successful()
    assert result.get() == 1
    expiring.refresh_from_db()
    current.refresh_from_db()
    assert expiring.revoked_at is not None
    assert current.revoked_at is None
    assert not has_grant(case, police_agency)
    assert has_grant(current_case, police_agency)


def test_unshare_by_coordinator_removes_access(
    case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    share = share_with(case, police_agency)
    officer_client = login(officer)
    assert detail(officer_client, case).status_code == 200
    url = reverse("cases:share_revoke", args=[case.pk, share.pk])
    response = coordinator_client(coordinator, case, login).post(url)
    assert response.status_code == 302
    share.refresh_from_db()
    assert (share.revoked_at is not None, share.revoked_reason) == (True, "unshared")
    assert not has_grant(case, police_agency)
    assert detail(officer_client, case).status_code == 404
    event = AuditEvent.objects.get(action=AuditAction.CASE_UNSHARE)
    assert (event.case_id, event.user_id) == (case.pk, coordinator.pk)


@pytest.mark.parametrize(("actor", "status"), [("worker", 403), ("outsider", 404)])
def test_unshare_by_others_is_refused(
    actor: str,
    status: int,
    case: Case,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    share = share_with(case, police_agency)
    url = reverse("cases:share_revoke", args=[case.pk, share.pk])
    assert login(request.getfixturevalue(actor)).post(url).status_code == status
    share.refresh_from_db()
    assert share.revoked_at is None
    assert has_grant(case, police_agency)


def test_police_cannot_unshare_themselves_or_others(
    case: Case,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    own = share_with(case, police_agency)
    other = share_with(case, prison_agency)
    client = login(officer)
    for share in (own, other):
        url = reverse("cases:share_revoke", args=[case.pk, share.pk])
        assert client.post(url).status_code == 403
    assert CaseShare.objects.filter(revoked_at__isnull=True).count() == 2


# --- Who may share --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("worker", 403),
        ("colleague", 403),
        ("log_reviewer", 403),
        ("agency_admin", 403),
        ("officer", 403),
        ("prison_coordinator", 403),
        ("outsider", 404),
    ],
)
def test_only_owning_coordinators_may_share(
    actor: str,
    status: int,
    case: Case,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    share_with(case, police_agency)  # so the officer can see the case
    share_with(case, prison_agency)  # and so can the prison service's coordinator
    target = request.getfixturevalue("other_municipality")
    data = {
        "agency": target.pk,
        "legal_basis": LegalBasis.NECESSARY_FOR_DUTY,
        "legal_basis_citation": "OSL 10 kap. 2 §",
    }
    client = login(request.getfixturevalue(actor))
    assert client.get(share_url(case)).status_code == status
    assert client.post(share_url(case), data).status_code == status
    assert not CaseShare.objects.filter(agency=target).exists()
    assert not has_grant(case, target)

    coordinator_session = coordinator_client(coordinator, case, login)
    assert coordinator_session.get(share_url(case)).status_code == 200
    assert coordinator_session.post(share_url(case), data).status_code == 302
    assert has_grant(case, target)


def test_only_the_owning_agency_sees_the_consents_and_shares(
    login: Callable[[User], Client],
    worker: User,
    officer: User,
    case: Case,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> None:
    share_with(case, police_agency)
    owner_html = login(worker).get(case.get_absolute_url()).content.decode()
    police_html = login(officer).get(case.get_absolute_url()).content.decode()
    assert "SAM-1" in owner_html and 'data-testid="share"' in owner_html
    assert "SAM-1" not in police_html and 'data-testid="share"' not in police_html
    police_access = get_case_for_user(officer, case.pk, CaseAction.VIEW)
    assert sharing_of_case(police_access) == ([], [])
    consents, shares = sharing_of_case(get_case_for_user(worker, case.pk, CaseAction.VIEW))
    assert [c.document_reference for c in consents] == ["SAM-1"]
    assert [str(s.agency) for s in shares] == [police_agency.name]
