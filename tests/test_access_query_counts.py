"""Query counts of the case list, case page and referral overview, and the permission
querysets behind them (the access matrix, tests/access_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms

from avhopp.models import Agency, AgencyKind, User
from cases import services
from cases.models import Case, CaseShare, Consent, JournalExtract, ProtectionLevel
from cases.selectors import cases_visible_to, visible_case_ids
from referrals.models import Referral, ReferralStatus
from tests.access_support import count_queries, fill_case, ready_referral
from tests.conftest import AgencyFactory
from tests.support import send_referral

# --- Query counts ---------------------------------------------------------------------------


def _shared_cases(
    number: int, make_case: Callable[..., Case], worker: User, police: Agency, share_with: Any
) -> None:
    for _ in range(number):
        share_with(make_case(worker), police)


@pytest.mark.parametrize("viewer", ["officer", "worker"])
def test_case_list_queries_do_not_grow_with_cases(
    viewer: str,
    request: pytest.FixtureRequest,
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(viewer))
    url = reverse("cases:list")
    _shared_cases(2, make_case, worker, police_agency, share_with)
    few = count_queries(client, url)
    _shared_cases(28, make_case, worker, police_agency, share_with)
    many = count_queries(client, url)
    assert Case.objects.count() == 30
    assert few == many
    # 3 for the list (count and page on the grant index, then the page's rows), 6 for the
    # session, user, second factor, the header's unread count, audit row and the cases it
    # showed.
    assert many == 9


@pytest.mark.parametrize(
    ("viewer", "queries"),
    [
        pytest.param("officer", 15, id="officer"),
        pytest.param("worker", 21, id="worker"),
        pytest.param("colleague", 21, id="team-member"),
    ],
)
def test_case_detail_queries_do_not_grow_with_content(
    viewer: str,
    queries: int,
    request: pytest.FixtureRequest,
    settings: Any,
    tmp_path: Any,
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    small, big = make_case(worker), make_case(worker)
    for case, size in ((small, 1), (big, 20)):
        share_with(case, police_agency)
        fill_case(case, size, worker, officer, prison_agency)
    share_with(big, prison_agency)  # more grants and consents on the big one
    for index in range(3):
        extra = AgencyFactory(name=f"Extra myndighet {index}", kind=AgencyKind.OTHER)
        share_with(big, extra)
    ready_referral(big, coordinator, prison_agency)
    for member in (coordinator, officer):  # a team on the big one
        services.case_team_add(case=big, member=member, by=worker)
    for case in (small, big):  # the colleague reads both as a member, without a reason
        services.case_team_add(case=case, member=request.getfixturevalue("colleague"), by=worker)
    # More journal extracts than the page lists, for each reader.
    JournalExtract.objects.bulk_create(
        JournalExtract(case=big, requested_by=reader) for reader in (worker, officer) * 5
    )
    client = login(request.getfixturevalue(viewer))
    few = count_queries(client, reverse("cases:detail", args=[small.pk]))
    many = count_queries(client, reverse("cases:detail", args=[big.pk]))
    assert few == many
    # The session, user and second factor; the header's unread count; the case; one query per
    # part shown (status history, interventions, threat assessments, journal: the officer's
    # share covers all four); the reader's own journal extracts of the case (1, beside the
    # journal); the referrals; the relocations; the team; the audit row (the officer's two,
    # threat details read, in one insert). The owner reads its consents and shares (2; the
    # summary's consents in force are counted from them), the officer only its own share (1);
    # the responsible worker also the person's extracts (1, retention's panel) and the method
    # panel: checklist, decisions, current agreement, outcomes (4): 21 and 15. A colleague in
    # the team reads no extracts, but whether they are in it (1).
    assert many == queries


def _referrals_to(
    police: Agency, number: int, make_case: Callable[..., Case], worker: User, coordinator: User
) -> None:
    """Referrals sent to the police, on cases of their own, every third person protected and
    every other referral answered."""
    for index in range(number):
        protection = ProtectionLevel.PROTECTED_REGISTRATION if index % 3 == 0 else "none"
        case = make_case(worker, responsible=coordinator, protection_level=protection)
        referral = ready_referral(case, coordinator, police)
        send_referral(referral, coordinator)
        if index % 2:
            Referral.objects.filter(pk=referral.pk).update(
                status=ReferralStatus.ACCEPTED, answered_at=timezone.now()
            )


@pytest.mark.usefixtures("doc_root")
@pytest.mark.parametrize(
    ("viewer", "filtered", "queries"),
    [
        pytest.param("coordinator", False, 9, id="sender"),
        pytest.param("officer", False, 9, id="recipient"),
        pytest.param("coordinator", True, 10, id="sender-filtered-sorted"),
    ],
)
def test_referral_overview_queries_do_not_grow_with_referrals(
    viewer: str,
    filtered: bool,
    queries: int,
    request: pytest.FixtureRequest,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(viewer))
    url = reverse("referrals:dashboard")
    if filtered:
        query = {"direction": "sent", "agency": police_agency.pk, "order": "-waiting"}
        url += "?" + urlencode(query)
    _referrals_to(police_agency, 2, make_case, worker, coordinator)
    few = count_queries(client, url)
    _referrals_to(police_agency, 28, make_case, worker, coordinator)
    many = count_queries(client, url)
    assert Referral.objects.count() == 30
    assert few == many
    # 3 for the session, user and second factor; the agencies the filter offers, the count,
    # the page's rows (persons, cases and agencies joined); the audit row and the cases it
    # showed. A chosen agency is looked up once more, to validate it.
    assert many == queries


def _start_page_duties(
    number: int,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    """Cases with every duty a start page lists: a threat review and a follow-up due, a
    consent running out, no journal entry for months and a referral awaiting an answer."""
    today = timezone.localdate()
    for _ in range(number):
        case = make_case(worker)
        share_with(case, police_agency)
        share_with(case, prison_agency)  # its consent runs out below
        services.intervention_create(
            case=case,
            by=worker,
            kind="education",
            provider_name="Folkhögskola",
            follow_up_date=today + timedelta(days=2),
        )
        referral = ready_referral(case, coordinator, prison_agency)
        send_referral(referral, coordinator)
        Case.objects.filter(pk=case.pk).update(
            threat_review_due=today - timedelta(days=1),
            threat_level="high",
            opened_at=timezone.now() - timedelta(days=60),
        )
    Consent.objects.filter(recipient=prison_agency).update(valid_until=today + timedelta(days=10))
    User.objects.filter(agency=worker.agency).update(last_login=None)  # for the admin


# The session, user and second factor (3), then each panel that has something for the user:
# - the case lists (cases): own open cases, threat reviews due, follow-ups due (3), for staff of
#   the owning municipality also consents running out and files without an entry (2), then
#   the audit row of the list and the cases it showed (2);
# - the coordination alerts (cases, the municipality's coordinator only: 1);
# - the referrals awaiting an answer, received and sent (2), and their audit row and shown
#   cases (2) when they showed any (not the officer's, whose agency neither sent nor got one);
# - the relocations waiting (the coordinator's offers and handovers: 2; the officer's
#   clearances: 1);
# - the outcomes due at follow-up (method: 1; its links need no query);
# - the agency admin: the users needing them, locked, new or without an authenticator (1);
# - the log reviewer: the month's sample and its reviews (2).
# Each also reads the header's unread count (1): worker 3+5+2+4+1+1 = 16, coordinator
# 16+1+2 = 19, officer 3+3+2+2+1+1+1 = 13, admin 5, log reviewer 6; none grows with the
# number of cases, referrals or users listed.
@pytest.mark.parametrize(
    ("viewer", "queries"),
    [
        pytest.param("worker", 16, id="worker"),
        pytest.param("coordinator", 19, id="coordinator"),
        pytest.param("officer", 13, id="officer"),
        pytest.param("agency_admin", 5, id="agency-admin"),
        pytest.param("log_reviewer", 6, id="log-reviewer"),
    ],
)
def test_start_page_queries_do_not_grow_with_duties(
    viewer: str,
    queries: int,
    request: pytest.FixtureRequest,
    settings: Any,
    tmp_path: Any,
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    duties = (make_case, worker, coordinator, police_agency, prison_agency, share_with)
    client = login(request.getfixturevalue(viewer))
    _start_page_duties(1, *duties)
    few = count_queries(client, reverse("home"))
    _start_page_duties(12, *duties)
    many = count_queries(client, reverse("home"))
    assert (few, many) == (queries, queries)


def test_cases_visible_to_is_one_query_on_the_permission_tables(
    case: Case, officer: User, police_agency: Agency, share_with: Callable[..., CaseShare]
) -> None:
    share_with(case, police_agency)
    queryset = cases_visible_to(officer)
    sql = str(queryset.query)
    # The grants are a subquery on guardian's direct foreign-key table, never a list of ids.
    assert "cases_casegroupobjectpermission" in sql
    assert f"IN ({case.pk})" not in sql
    assert "NOT (EXISTS(" in sql  # the read-time check for shares whose consent ran out
    with CaptureQueriesContext(connection) as captured:
        found = list(queryset)
    assert found == [case]
    assert len(captured.captured_queries) == 1
    assert get_perms(officer, case) == ["view_case"]


def test_the_kept_permission_queries_read_afresh_and_by_the_day(
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    """The built permission querysets are kept per agency and day (cases.selectors): each
    read gets a copy, so what it reads is never a kept result, and a share that runs out
    today is gone tomorrow."""
    first, second = make_case(worker), make_case(worker)
    share = share_with(first, police_agency)
    assert cases_visible_to(officer) is not cases_visible_to(officer)
    assert list(cases_visible_to(officer)) == [first]
    share_with(second, police_agency)
    assert set(cases_visible_to(officer)) == {first, second}
    assert set(visible_case_ids(officer)) == {first.pk, second.pk}
    today = timezone.localdate()
    CaseShare.objects.filter(pk=share.pk).update(expires_on=today)
    assert set(cases_visible_to(officer)) == {first, second}
    tomorrow = today + timedelta(days=1)
    with mock.patch("cases.selectors.timezone.localdate", return_value=tomorrow):
        assert list(cases_visible_to(officer)) == [second]
        assert list(visible_case_ids(officer)) == [second.pk]
    # Another agency's reader gets its own queryset, not the police region's.
    assert set(cases_visible_to(worker)) == {first, second}


def test_a_grant_to_a_single_user_does_not_open_a_case(
    case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    """Grants are made per agency; a user-level row (say, made by hand in the admin) opens
    nothing, so no one sees more than their agency."""
    assign_perm("cases.view_case", outsider, case)
    assert get_perms(outsider, case) == ["view_case"]
    assert not cases_visible_to(outsider).exists()
    assert not visible_case_ids(outsider).exists()
    assert login(outsider).get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_the_grant_ids_agree_with_the_visible_cases(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    """The unfiltered list is paged and counted on the grants alone; expired and revoked
    shares drop out of it exactly as they drop out of `cases_visible_to`."""
    active, expired, revoked, _never_shared = (make_case(worker) for _ in range(4))
    share_with(active, police_agency)
    expiring = share_with(expired, police_agency)
    CaseShare.objects.filter(pk=expiring.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    services.case_unshare(share=share_with(revoked, police_agency), by=coordinator)
    assert list(cases_visible_to(officer)) == [active]
    assert list(visible_case_ids(officer)) == [active.pk]
    newest_first = cases_visible_to(worker).order_by("-pk").values_list("pk", flat=True)
    assert list(visible_case_ids(worker)) == list(newest_first)
    assert visible_case_ids(worker).count() == 4
