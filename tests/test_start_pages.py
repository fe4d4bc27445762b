"""The start pages ("Mina uppgifter"): what each role must do, soonest first, and nothing it
may not read (issue 24).

Each role signs in to its start page: the social worker and the coordinator see threat
reviews, follow-ups, consents running out, quiet files and referrals; the police their
shared cases' reviews; a recipient agency only what its share covers; the agency admin the
users who need them; the log reviewer the month's sample. The last tests walk each kind of
start page in Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from avhopp.models import Agency, AuditAction, AuditEvent, AuditShownCase, Role, User
from cases import services
from cases.models import Case, ConsentScope, Intervention, InterventionStatus, ProtectionLevel
from referrals.models import Referral
from tests.access_support import ready_referral
from tests.support import authenticator_of, send_referral

TODAY = timezone.localdate


def _panel(response: Any, key: str) -> dict[str, Any]:
    return next(panel for panel in response.context["panels"] if key in panel)


def _cases(rows: list[tuple[Any, Any]]) -> list[Case]:
    return [row for row, _person in rows]


def _review_due(case: Case, days: int, level: str = "high") -> None:
    Case.objects.filter(pk=case.pk).update(
        threat_review_due=TODAY() + timedelta(days=days), threat_level=level
    )


def _follow_up(case: Case, by: User, days: int) -> Intervention:
    return services.intervention_create(
        case=case,
        by=by,
        kind="education",
        provider_name="Folkhögskola",
        status=InterventionStatus.ONGOING,
        follow_up_date=TODAY() + timedelta(days=days),
    )


def _opened_days_ago(case: Case, days: int) -> None:
    Case.objects.filter(pk=case.pk).update(opened_at=timezone.now() - timedelta(days=days))


def _consent_ending(case: Case, by: User, agency: Agency, days: int) -> None:
    services.consent_create(
        individual=case.individual,
        case=case,
        by=by,
        recipient=agency,
        given_on=TODAY() - timedelta(days=100),
        valid_until=TODAY() + timedelta(days=days),
        document_reference="SAM-START",
        scope_interventions=True,
        scope_threat_level=False,
        scope_journal=False,
    )


# --- The social worker ------------------------------------------------------------------------


def test_worker_sees_their_own_duties_soonest_first(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    colleague: User,
    coordinator: User,
    prison_agency: Agency,
) -> None:
    later = make_case(worker, first_name="Senare")
    overdue = make_case(worker, first_name="Forsenad")
    far = make_case(worker, first_name="Langt")
    theirs = make_case(worker, first_name="Kollegans", responsible=colleague)
    _review_due(later, 10)
    _review_due(overdue, -3)
    _review_due(far, 20)  # beyond the 14 days
    _review_due(theirs, -5)  # not the worker's
    soon = _follow_up(later, worker, 5)
    late = _follow_up(overdue, worker, -1)
    _follow_up(far, worker, 30)
    _follow_up(theirs, worker, -2)
    _consent_ending(far, coordinator, prison_agency, 20)
    _consent_ending(later, coordinator, prison_agency, 60)  # beyond the 30 days
    _opened_days_ago(overdue, 45)
    _opened_days_ago(later, 40)
    services.journal_entry_create(case=later, by=worker, text="Samtal i dag")

    response = login(worker).get(reverse("home"))
    lists = _panel(response, "lists")["lists"]
    assert _cases(lists["threat_reviews"]) == [overdue, later]
    assert [row for row, _person in lists["follow_ups"]] == [late, soon]
    assert _cases(lists["consents"]) == [far]
    assert _cases(lists["quiet"]) == [overdue]
    assert theirs not in _cases(lists["my_cases"])
    page = response.content.decode()
    for heading in (
        "Omprövning av hotbild inom 14 dagar eller försenad",
        "Uppföljning av insatser inom 14 dagar eller försenad",
        "Samtycken som går ut inom 30 dagar",
        "Ärenden utan anteckning på 30 dagar",
        "Remisser som väntar på ert svar",
        "Skickade remisser som väntar på svar",
    ):
        assert heading in page
    assert "Kollegans" not in page
    assert "Inga remisser väntar på ert svar." in page


def test_protected_person_is_masked_on_the_start_page(
    login: Callable[[User], Client], make_case: Callable[..., Case], worker: User
) -> None:
    case = make_case(worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION)
    _review_due(case, 1)
    page = login(worker).get(reverse("home")).content.decode()
    number = case.individual.personnummer
    assert f"{number[2:8]}-{number[8:]}" not in page
    assert "Skyddad" in page


def test_each_list_is_bounded_with_a_link_to_all(
    login: Callable[[User], Client], make_case: Callable[..., Case], worker: User
) -> None:
    for index in range(12):
        _review_due(make_case(worker), -index)
    response = login(worker).get(reverse("home"))
    panel = _panel(response, "lists")
    assert len(panel["lists"]["threat_reviews"]) == 10
    assert panel["more"]["threat_reviews"] is True
    assert panel["more"]["follow_ups"] is False
    # The most overdue first.
    dues = [case.threat_review_due for case in _cases(panel["lists"]["threat_reviews"])]
    assert dues == sorted(dues)
    assert dues[0] == TODAY() - timedelta(days=11)
    assert "?overdue=threat_review&amp;order=review" in response.content.decode()


def test_start_page_logs_every_case_it_shows(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    colleague: User,
) -> None:
    mine = make_case(worker)
    reviewed = make_case(worker)
    followed = make_case(worker)
    hidden = make_case(worker, responsible=colleague)
    _review_due(reviewed, -1)
    _follow_up(followed, worker, 2)
    login(worker).get(reverse("home"))
    event = AuditEvent.objects.filter(user_id=worker.pk, action=AuditAction.CASE_LIST).latest(
        "occurred_at"
    )
    shown = set(AuditShownCase.objects.filter(event_id=event.pk).values_list("case_id", flat=True))
    assert shown == {mine.pk, reviewed.pk, followed.pk}
    assert hidden.pk not in shown


# --- The coordinator --------------------------------------------------------------------------


def test_coordinator_follows_the_agency_cases_and_referrals(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    outsider: User,
    prison_agency: Agency,
    make_user: Callable[..., User],
    doc_root: Any,
) -> None:
    case = make_case(worker)
    elsewhere = make_case(outsider, first_name="Annanstans")
    _review_due(case, 2)
    _review_due(elsewhere, -2)
    _opened_days_ago(case, 31)
    _opened_days_ago(elsewhere, 90)
    _consent_ending(case, coordinator, prison_agency, 3)
    older = ready_referral(case, coordinator, prison_agency)
    newer = ready_referral(case, coordinator, prison_agency)
    for referral in (older, newer):
        send_referral(referral, coordinator)
    Referral.objects.filter(pk=older.pk).update(sent_at=timezone.now() - timedelta(days=6))

    response = login(coordinator).get(reverse("home"))
    lists = _panel(response, "lists")["lists"]
    assert _cases(lists["threat_reviews"]) == [case]
    assert _cases(lists["quiet"]) == [case]
    assert _cases(lists["consents"]) == [case]
    assert lists["consents"][0][0].consent_recipient == "Kriminalvården"
    waiting = _panel(response, "sent")
    assert [(row.pk, days) for row, days in waiting["sent"]] == [(older.pk, 6), (newer.pk, 0)]
    assert waiting["received"] == []
    assert "Annanstans" not in response.content.decode()

    # The recipient agency sees them received and awaiting its answer, the oldest first.
    recipient = make_user(prison_agency, Role.COORDINATOR)
    received = _panel(login(recipient).get(reverse("home")), "received")
    assert [(row.pk, days) for row, days in received["received"]] == [
        (older.pk, 6),
        (newer.pk, 0),
    ]
    assert received["sent"] == []


# --- The police and other recipients ----------------------------------------------------------


def test_officer_sees_reviews_of_shared_cases_only(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    outsider: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> None:
    shared = make_case(worker, first_name="Delad")
    unshared = make_case(worker, first_name="Odelad")
    foreign = make_case(outsider, first_name="Botkyrkabo")
    share_with(shared, police_agency, frozenset({ConsentScope.THREAT_LEVEL}))
    for case in (shared, unshared, foreign):
        _review_due(case, -1)
        _follow_up(case, worker if case.owning_agency_id == worker.agency_id else outsider, 1)
    response = login(officer).get(reverse("home"))
    lists = _panel(response, "lists")["lists"]
    assert _cases(lists["threat_reviews"]) == [shared]
    assert lists["follow_ups"] == []  # the share does not cover the interventions
    assert "consents" not in lists and "quiet" not in lists
    page = response.content.decode()
    assert "Odelad" not in page and "Botkyrkabo" not in page
    assert "Samtycken som går ut" not in page


def test_recipient_without_the_scopes_sees_no_threat_level_nor_follow_up(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    prison_agency: Agency,
    make_user: Callable[..., User],
    share_with: Callable[..., Any],
) -> None:
    narrow = make_case(worker, first_name="Smal")
    wide = make_case(worker, first_name="Bred")
    share_with(narrow, prison_agency, frozenset({ConsentScope.JOURNAL}))
    share_with(wide, prison_agency, frozenset(ConsentScope))
    _review_due(narrow, -4, level="severe")
    _review_due(wide, -2, level="high")
    _follow_up(narrow, worker, -1)
    _follow_up(wide, worker, -1)
    recipient = make_user(prison_agency, Role.COORDINATOR)
    response = login(recipient).get(reverse("home"))
    lists = _panel(response, "lists")["lists"]
    assert _cases(lists["threat_reviews"]) == [wide]
    assert [row.case for row, _person in lists["follow_ups"]] == [wide]
    assert "consents" not in lists
    section = response.content.decode().split('id="threat-reviews"')[1].split("</section>")[0]
    assert "Smal" not in section
    assert "Allvarlig" not in section  # the narrow share's level
    assert "Bred" in section


def test_case_list_filter_on_follow_ups_needs_the_interventions_scope(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    prison_agency: Agency,
    make_user: Callable[..., User],
    share_with: Callable[..., Any],
) -> None:
    narrow = make_case(worker, first_name="Smal")
    share_with(narrow, prison_agency, frozenset({ConsentScope.JOURNAL}))
    _follow_up(narrow, worker, -1)
    recipient = make_user(prison_agency, Role.COORDINATOR)
    client = login(recipient)
    page = client.get(reverse("cases:list") + "?overdue=follow_up").content.decode()
    assert "Smal" not in page
    assert "Smal" in client.get(reverse("cases:list")).content.decode()


def test_case_list_sorted_by_review_date_hides_the_dates_the_share_does_not_cover(
    login: Callable[[User], Client],
    make_case: Callable[..., Case],
    worker: User,
    prison_agency: Agency,
    make_user: Callable[..., User],
    share_with: Callable[..., Any],
) -> None:
    """The order itself would tell which case is reviewed first: cases whose threat the
    reader may not read sort with the undated ones, after every readable date."""
    narrow = make_case(worker, first_name="Smal")
    later = make_case(worker, first_name="Sen")
    sooner = make_case(worker, first_name="Tidig")
    share_with(narrow, prison_agency, frozenset({ConsentScope.JOURNAL}))
    for case in (later, sooner):
        share_with(case, prison_agency, frozenset(ConsentScope))
    _review_due(narrow, 1)
    _review_due(sooner, 5)
    _review_due(later, 9)
    recipient = make_user(prison_agency, Role.COORDINATOR)
    response = login(recipient).get(reverse("cases:list") + "?order=review")
    assert list(response.context["page"].object_list) == [sooner, later, narrow]
    # The owner reads every date, so its order is the dates'.
    response = login(worker).get(reverse("cases:list") + "?order=review")
    assert list(response.context["page"].object_list)[:3] == [narrow, sooner, later]


# --- The agency admin -------------------------------------------------------------------------


def test_admin_sees_locked_new_and_unenrolled_users(
    login: Callable[[User], Client],
    agency_admin: User,
    make_user: Callable[..., User],
    outsider: User,
) -> None:
    municipality = agency_admin.agency
    settled = make_user(municipality, Role.SOCIAL_WORKER, username="settled")
    authenticator_of(settled)
    User.objects.filter(pk=settled.pk).update(last_login=timezone.now())
    unenrolled = make_user(municipality, Role.SOCIAL_WORKER, username="unenrolled")
    User.objects.filter(pk=unenrolled.pk).update(last_login=timezone.now())
    new = make_user(municipality, Role.COORDINATOR, username="newcomer")
    authenticator_of(new)
    locked = make_user(municipality, Role.SOCIAL_WORKER, username="locked")
    authenticator_of(locked)
    User.objects.filter(pk=locked.pk).update(last_login=timezone.now())
    stranger = Client()
    for _attempt in range(5):
        stranger.post(reverse("login"), {"username": "locked", "password": "fel-lösenord-x"})
    User.objects.filter(pk=outsider.pk).update(last_login=None)  # another agency's

    response = login(agency_admin).get(reverse("home"))
    rows = _panel(response, "rows")["rows"]
    states = {
        row["user"].username: (row["locked"], row["never_signed_in"], row["no_authenticator"])
        for row in rows
    }
    assert rows[0]["user"] == locked
    assert states["locked"] == (True, False, False)
    assert states["newcomer"] == (False, True, False)
    assert states["unenrolled"] == (False, False, True)
    assert "settled" not in states and "outsider" not in states
    page = response.content.decode()
    assert "Låst efter misslyckade inloggningar" in page
    assert "Har aldrig loggat in" in page
    assert "Saknar autentiserare" in page
    assert "Mina öppna ärenden" not in page  # no case content for an admin


# --- The log reviewer -------------------------------------------------------------------------


def test_log_reviewer_gets_the_sample_and_no_case_lists(
    login: Callable[[User], Client], log_reviewer: User, make_case: Callable[..., Case], worker
) -> None:
    _review_due(make_case(worker, first_name="Hemlig"), -1)
    response = login(log_reviewer).get(reverse("home"))
    page = response.content.decode()
    assert "Månadens stickprov" in page
    assert "Omprövning av hotbild" not in page and "Hemlig" not in page
    lists = AuditEvent.objects.filter(user_id=log_reviewer.pk, action=AuditAction.CASE_LIST)
    assert not lists.exists()


# --- In the browser ---------------------------------------------------------------------------


def _row(page: Page, section: str) -> Any:
    return page.get_by_test_id(section).locator("tbody tr")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_social_worker_start_page(
    page: Page, browser_login: Callable[[User], Page], make_case: Callable[..., Case], worker
) -> None:
    case = make_case(worker, first_name="Bodil")
    _review_due(case, -2)
    _follow_up(case, worker, 3)
    browser_login(worker)
    expect(page.get_by_role("heading", level=2, name="Mina öppna ärenden")).to_be_visible()
    expect(_row(page, "start-threat-reviews")).to_have_count(1)
    expect(_row(page, "start-threat-reviews").first).to_contain_text("försenad")
    expect(_row(page, "start-follow-ups").first).to_contain_text("Bodil")
    expect(page.get_by_test_id("start-referrals-received")).to_contain_text(
        "Inga remisser väntar på ert svar."
    )
    _row(page, "start-threat-reviews").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(re.escape(case.get_absolute_url()) + "$"))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_police_start_page(
    page: Page,
    browser_login: Callable[[User], Page],
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> None:
    case = make_case(worker, first_name="Polisfall")
    share_with(case, police_agency)
    _review_due(case, 7)
    browser_login(officer)
    expect(page.get_by_role("heading", level=2, name="Öppna ärenden delade med er")).to_be_visible()
    expect(_row(page, "start-threat-reviews").first).to_contain_text(case.reference)
    expect(page.get_by_test_id("start-consents")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_coordinator_start_page(
    page: Page,
    browser_login: Callable[[User], Page],
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    prison_agency: Agency,
) -> None:
    case = make_case(worker, first_name="Samordnat")
    _consent_ending(case, coordinator, prison_agency, 12)
    _opened_days_ago(case, 50)
    browser_login(coordinator)
    expect(
        page.get_by_role("heading", level=2, name="Samtycken som går ut inom 30 dagar")
    ).to_be_visible()
    expect(_row(page, "start-consents").first).to_contain_text("Kriminalvården")
    expect(_row(page, "start-quiet").first).to_contain_text(case.reference)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_admin_start_page(
    page: Page,
    browser_login: Callable[[User], Page],
    agency_admin: User,
    make_user: Callable[..., User],
) -> None:
    make_user(agency_admin.agency, Role.SOCIAL_WORKER, username="nyanstalld")
    browser_login(agency_admin)
    expect(page.get_by_role("heading", level=2, name="Användare som behöver er")).to_be_visible()
    row = _row(page, "start-user-states").filter(has_text="nyanstalld")
    expect(row).to_contain_text("Har aldrig loggat in")
    expect(row).to_contain_text("Saknar autentiserare")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_log_reviewer_start_page(
    page: Page, browser_login: Callable[[User], Page], log_reviewer: User
) -> None:
    browser_login(log_reviewer)
    expect(page.get_by_role("heading", level=2, name="Loggkontroll")).to_be_visible()
    expect(page.get_by_test_id("sample-progress")).to_be_visible()
    expect(page.get_by_role("heading", name="Mina öppna ärenden")).to_have_count(0)
