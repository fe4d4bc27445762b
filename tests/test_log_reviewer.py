"""The log reviewer's working day: searching by reference, name and number, rows in words and
Swedish time (pages and export, Swedish and English), links that open, the per-user summary,
the month's sample, and the pseudonyms of what gallring deleted."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp.audit import audit_record
from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases import audit_selectors
from cases.audit_selectors import NAME_SEARCH_CASES, month_sample, month_start, next_month
from cases.models import Case, LogSampleReview
from retention.models import GallringItem, GallringProposal, ItemAction, ItemOutcome
from retention.services import case_file_delete
from tests.access_support import body_of

pytestmark = pytest.mark.django_db

HREF = re.compile(r'<a [^>]*href="([^"]+)"')


def _table(body: str, testid: str) -> str:
    """The table with this test id, so a select's option values are not mistaken for rows."""
    start = body.index(f'data-testid="{testid}"')
    return body[start : body.index("</table>", start)]


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response))))


@contextmanager
def clock(moment: datetime) -> Iterator[None]:
    """Events written now carry this time (the log's `auto_now_add` reads timezone.now)."""
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


def read_at(moment: datetime, user: User, case: Case, **fields: Any) -> AuditEvent:
    with clock(moment):
        return audit_record(
            actor=user,
            action=fields.pop("action", AuditAction.CASE_VIEW),
            obj=case,
            case_id=case.pk,
            individual_id=case.individual_id,
            **fields,
        )


def english(client: Client) -> Client:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- Searching by case reference, name and identity number ----------------------------------


def test_search_by_reference_name_and_number(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    make_case: Callable[..., Case],
) -> None:
    sought = make_case(worker, first_name="Sixten", last_name="Ödmark")
    other = make_case(worker, first_name="Annan", last_name="Person")
    for case in (sought, other):
        login(worker).get(case.get_absolute_url())
    login(worker).get(reverse("cases:list"))
    client = login(log_reviewer)

    def cases_found(**params: str) -> set[int | None]:
        response = client.get(reverse("audit:search"), params)
        assert response.status_code == 200, response.content.decode()[-2000:]
        events = response.context["page"].object_list
        # The list page that showed the case is found too; it names no single case.
        return {event.case_id for event in events if event.action != AuditAction.CASE_LIST}

    number = sought.individual.personnummer
    assert number is not None
    for params in (
        {"case": sought.reference},
        {"case": sought.reference.lower().replace("-", "- ")},
        {"person": "Sixten Ödmark"},
        {"person": "sixten"},
        {"person": f"{number[:8]}-{number[8:]}"},
        {"person": number[2:]},
    ):
        assert cases_found(**params) == {sought.pk}, params
    # A person is searched as their cases are: the same events, lists included.
    by_case = client.get(reverse("audit:search"), {"case": sought.reference}).context["page"]
    by_person = client.get(reverse("audit:search"), {"person": number}).context["page"]
    assert [e.pk for e in by_person.object_list] == [e.pk for e in by_case.object_list]
    assert AuditAction.CASE_LIST in {e.action for e in by_person.object_list}
    # Another year's reference finds nothing, and neither does an unknown name or number.
    wrong_year = sought.reference.replace(f"{sought.opened_at:%Y}", "1999")
    assert cases_found(case=wrong_year) == set()
    assert cases_found(person="Ingen Sådan") == set()
    assert cases_found(person="19121212-1212") == set()


def test_a_search_by_name_is_bounded(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    make_case: Callable[..., Case],
) -> None:
    for _ in range(NAME_SEARCH_CASES + 1):
        make_case(worker, last_name="Vanligsson")
    client = login(log_reviewer)
    response = client.get(reverse("audit:search"), {"person": "Vanligsson"})
    assert response.status_code == 400
    assert f"Namnet finns i fler än {NAME_SEARCH_CASES} ärenden" in response.content.decode()
    export = client.get(reverse("audit:export"), {"person": "Vanligsson"})
    assert export.status_code == 400 and not export.streaming


def test_a_search_by_name_looks_only_among_the_agencys_cases(
    login: Callable[[User], Client],
    log_reviewer: User,
    outsider: User,
    make_case: Callable[..., Case],
) -> None:
    foreign = make_case(outsider, first_name="Främmande", last_name="Kommunsson")
    login(outsider).get(foreign.get_absolute_url())
    assert audit_selectors.cases_of_person(log_reviewer, "Kommunsson") == []
    events = login(log_reviewer).get(reverse("audit:search"), {"person": "Kommunsson"})
    assert list(events.context["page"].object_list) == []


def test_the_search_by_reference_reads_the_case_index(
    login: Callable[[User], Client], log_reviewer: User, worker: User, case: Case
) -> None:
    """A reference is turned into the case's id and searched as the benchmarked search by
    case is: a page of the union of the case's events and the lists that showed it, each half
    read newest first, the shown cases joined on the event's partition key too."""
    login(worker).get(case.get_absolute_url())
    with CaptureQueriesContext(connection) as captured:
        login(log_reviewer).get(reverse("audit:search"), {"case": case.reference})
    searches = [q["sql"] for q in captured if "UNION ALL" in q["sql"]]
    assert len(searches) == 1
    sql = searches[0]
    assert f'"avhopp_auditevent"."case_id" IN ({case.pk})' in sql
    assert f'"avhopp_auditshowncase"."case_id" IN ({case.pk})' in sql
    assert (
        '"avhopp_auditshowncase"."event_occurred_at" = ("avhopp_auditevent"."occurred_at")' in sql
    )
    assert sql.endswith("LIMIT 51")


# --- Words, not codes; Swedish time -----------------------------------------------------------


@pytest.fixture
def two_reads(worker: User, colleague: User, case: Case) -> tuple[AuditEvent, AuditEvent]:
    """A summer read by the responsible worker and a winter one by a colleague (with a
    reason): one in CEST, one in CET."""
    summer = read_at(datetime(2026, 7, 1, 10, 0, tzinfo=UTC), worker, case)
    winter = read_at(
        datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        colleague,
        case,
        action=AuditAction.OUTSIDE_ASSIGNMENT_READ,
        reason="supervision",
    )
    return summer, winter


def test_the_search_page_shows_words_and_swedish_time(
    login: Callable[[User], Client], log_reviewer: User, case: Case, two_reads: Any
) -> None:
    body = login(log_reviewer).get(reverse("audit:search"), {"case": case.reference})
    rows = _table(body.content.decode(), "log-rows")
    assert "2026-07-01 12:00:00" in rows and "2026-01-15 11:00:00" in rows
    assert "10:00:00" not in rows
    for words in ("Handläggare", "Läst ärende", "Läsning utanför uppdrag", "Arbetsledning"):
        assert words in rows
    assert f"Ärende {case.reference}" in rows
    for code in ("social_worker", "case_view", "outside_assignment", "supervision", "cases.Case"):
        assert code not in rows


def test_the_search_page_in_english(
    login: Callable[[User], Client], log_reviewer: User, case: Case, two_reads: Any
) -> None:
    client = english(login(log_reviewer))
    body = client.get(reverse("audit:search"), {"case": case.reference}).content.decode()
    rows = _table(body, "log-rows")
    for words in ("Social worker", "Viewed case", "Supervision", f"Case {case.reference}"):
        assert words in rows
    assert "Time (Swedish time)" in body
    assert "Handläggare" not in rows and "social_worker" not in rows


@pytest.mark.parametrize(
    ("language", "headers", "words"),
    [
        (
            "sv",
            ["Tid (svensk tid)", "Användare", "Myndighet", "Roll", "Händelse", "Ärende"],
            ["Handläggare", "Läst ärende", "Arbetsledning"],
        ),
        (
            "en",
            ["Time (Swedish time)", "User", "Agency", "Role", "Event", "Case"],
            ["Social worker", "Viewed case", "Supervision"],
        ),
    ],
)
def test_the_export_in_words_and_swedish_time(
    language: str,
    headers: list[str],
    words: list[str],
    login: Callable[[User], Client],
    log_reviewer: User,
    case: Case,
    two_reads: Any,
) -> None:
    client = login(log_reviewer)
    if language == "en":
        english(client)
    rows = _csv(client.get(reverse("audit:export"), {"case": case.reference}))
    assert rows[0][: len(headers)] == headers
    times = {row[0] for row in rows[1:]}
    assert {"2026-07-01 12:00:00 +0200", "2026-01-15 11:00:00 +0100"} <= times
    text = "\n".join(",".join(row) for row in rows[1:])
    for word in words:
        assert word in text
    assert case.reference in text
    for code in ("social_worker", "case_view", "supervision", "cases.Case"):
        assert code not in text


def test_protected_people_are_masked_in_the_rows(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    make_case: Callable[..., Case],
) -> None:
    protected = make_case(worker, protection_level="protected_registration")
    number = protected.individual.personnummer
    assert number is not None
    audit_record(
        actor=worker,
        action=AuditAction.IDENTITY_REVEAL,
        obj=protected.individual,
        case_id=protected.pk,
        individual_id=protected.individual_id,
        reason="urgent",
    )
    client = login(log_reviewer)
    body = client.get(reverse("audit:search"), {"person": number}).content.decode()
    rows = _table(body, "log-rows")
    assert f"Person {number[:8]}-****" in rows  # the reveal's object
    assert number[8:] not in rows
    export = body_of(client.get(reverse("audit:export"), {"person": number}))
    assert f"{number[:8]}-****" in export and f"{number[:8]}-{number[8:]}" not in export


# --- Links ----------------------------------------------------------------------------------


def _links(body: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in HREF.findall(body) if href.startswith("/")}


def test_every_link_on_the_reviewers_pages_opens(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    officer: User,
    case: Case,
    police_agency: Agency,
    share_with: Callable[..., Any],
    two_reads: Any,
) -> None:
    """Each row about a case links to "who has read this case" where the reviewer may open
    it, and nothing on the reviewer's pages leads to a 403 or a 404 (not the case page,
    which a log reviewer may not read)."""
    share_with(case, police_agency)
    login(officer).get(case.get_absolute_url())
    last_month = month_start(month_start(timezone.now()) - timedelta(days=1))
    read_at(last_month + timedelta(hours=1), worker, case)
    client = login(log_reviewer)
    readers = reverse("audit:case_readers", args=[case.pk])
    pages = [
        reverse("home"),
        f"{reverse('audit:search')}?case={case.reference}",
        reverse("audit:search"),
        readers,
        reverse("audit:summary"),
        reverse("audit:sample"),
        f"{reverse('audit:sample')}?month=previous",
    ]
    seen: set[str] = set()
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        seen |= _links(response.content.decode())
    assert readers in seen
    assert case.get_absolute_url() not in seen
    opened = {url: client.get(url).status_code for url in sorted(seen)}
    assert {url: status for url, status in opened.items() if status != 200} == {}


def test_a_row_of_another_agencys_case_has_no_readers_link(
    login: Callable[[User], Client],
    make_user: Callable[..., User],
    officer: User,
    police_agency: Agency,
    case: Case,
    share_with: Callable[..., Any],
) -> None:
    """The police's reviewer reads its officer's read of the municipality's case, but not who
    else read it: the row names the case without a link that would answer 403."""
    share_with(case, police_agency)
    login(officer).get(case.get_absolute_url())
    reviewer = login(make_user(police_agency, Role.LOG_REVIEWER, username="polisgranskare"))
    body = reviewer.get(reverse("audit:search"), {"case": case.reference}).content.decode()
    rows = _table(body, "log-rows")
    assert case.reference in rows
    assert reverse("audit:case_readers", args=[case.pk]) not in body
    assert reviewer.get(reverse("audit:case_readers", args=[case.pk])).status_code == 403


def test_who_has_read_links_the_case_only_for_those_who_may_open_it(
    login: Callable[[User], Client], log_reviewer: User, coordinator: User, case: Case
) -> None:
    url = reverse("audit:case_readers", args=[case.pk])
    reviewer_page = login(log_reviewer).get(url).content.decode()
    assert case.get_absolute_url() not in _links(reviewer_page)
    assert f"{reverse('audit:search')}?case={case.reference}" in _links(reviewer_page)
    coordinator_client = login(coordinator)
    coordinator_client.post(
        reverse("cases:outside_reason", args=[case.pk]), {"reason": "supervision"}
    )
    coordinator_page = coordinator_client.get(url).content.decode()
    assert case.get_absolute_url() in _links(coordinator_page)
    assert reverse("audit:search") not in "".join(_links(coordinator_page))


# --- Gallring: the pseudonym instead of a case that is gone -----------------------------------


def test_a_deleted_case_and_person_show_as_their_pseudonym(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    make_case: Callable[..., Case],
) -> None:
    gone = make_case(worker, first_name="Borta", last_name="Gallrasson")
    login(worker).get(gone.get_absolute_url())
    reference, case_id = gone.reference, gone.pk
    proposal = GallringProposal.objects.create(
        agency=gone.owning_agency, as_of=timezone.localdate(), legal_reference="SoL"
    )
    GallringItem.objects.create(
        proposal=proposal,
        case_id=case_id,
        individual_id=gone.individual_id,
        case_reference=reference,
        last_entry_on=date(2019, 1, 1),
        due_on=date(2024, 1, 1),
        deadline=date(2025, 12, 31),
        action=ItemAction.DELETE,
        outcome=ItemOutcome.DELETED,
        pseudonym="G-5EUD0NYM0001",
    )
    case_file_delete(case_id=gone.pk, individual_id=gone.individual_id)
    assert not Case.objects.filter(pk=case_id).exists()
    client = login(log_reviewer)
    body = client.get(reverse("audit:search"), {"username": worker.username}).content.decode()
    rows = _table(body, "log-rows")
    assert "Gallrad person G-5EUD0NYM0001" in rows
    assert reference not in rows and "Gallrasson" not in rows
    assert reverse("audit:case_readers", args=[case_id]) not in body
    export = body_of(client.get(reverse("audit:export"), {"username": worker.username}))
    assert "Gallrad person G-5EUD0NYM0001" in export
    in_english = english(client).get(reverse("audit:search"), {"username": worker.username})
    english_rows = _table(in_english.content.decode(), "log-rows")
    assert "Deleted person G-5EUD0NYM0001" in english_rows


# --- The per-user summary -------------------------------------------------------------------


def test_the_summary_counts_each_users_events_with_first_and_last(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    colleague: User,
    outsider: User,
    case: Case,
    make_case: Callable[..., Case],
) -> None:
    base = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    for hours in (0, 5, 30):
        read_at(base + timedelta(hours=hours), worker, case)
    read_at(base + timedelta(hours=2), colleague, case, action=AuditAction.CASE_VIEW)
    read_at(base - timedelta(days=40), colleague, case)  # before the period
    foreign = make_case(outsider)
    read_at(base, outsider, foreign)  # another municipality's read of its own case
    client = login(log_reviewer)
    response = client.get(
        reverse("audit:summary"), {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    )
    assert response.status_code == 200
    rows = {row.username: row for row in response.context["rows"]}
    assert set(rows) == {worker.username, colleague.username}
    assert (rows[worker.username].events, rows[worker.username].role) == (3, "Handläggare")
    assert rows[worker.username].first == "2026-03-10 09:00:00"
    assert rows[worker.username].last == "2026-03-11 15:00:00"
    assert rows[colleague.username].events == 1
    table = _table(response.content.decode(), "user-summary")
    assert "social_worker" not in table
    assert f"username={worker.username}&amp;date_from=2026-03-01&amp;date_to=2026-03-31" in table
    viewed = AuditEvent.objects.filter(user_id=log_reviewer.pk, action=AuditAction.AUDIT_VIEW)
    assert viewed.filter(reason="summary").count() == 1


def test_the_summary_counts_an_event_once_and_others_reading_our_cases(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    officer: User,
    case: Case,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> None:
    """Our staff reading our case is counted once (it is both ours and by ours); a police
    officer reading our case is counted too, under the police."""
    share_with(case, police_agency)
    login(worker).get(case.get_absolute_url())
    login(officer).get(case.get_absolute_url())
    today = timezone.localdate().isoformat()
    response = login(log_reviewer).get(
        reverse("audit:summary"), {"date_from": today, "date_to": today}
    )
    rows = {row.username: row for row in response.context["rows"]}
    expected = AuditEvent.objects.filter(user_id=worker.pk).count()
    assert rows[worker.username].events == expected
    assert rows[officer.username].agency == police_agency.name
    assert rows[officer.username].role == "Polis"


def test_the_summary_refuses_a_period_too_long(
    login: Callable[[User], Client], log_reviewer: User
) -> None:
    response = login(log_reviewer).get(
        reverse("audit:summary"), {"date_from": "2025-01-01", "date_to": "2025-12-31"}
    )
    assert response.status_code == 400
    assert "Välj högst 92 dagar" in response.content.decode()
    default = login(log_reviewer).get(reverse("audit:summary"))
    assert default.status_code == 200
    assert default.context["form"].cleaned_data["date_from"] == timezone.localdate().replace(day=1)


# --- The month's sample ---------------------------------------------------------------------


def _last_month() -> datetime:
    return month_start(month_start(timezone.now()) - timedelta(days=1))


@pytest.fixture
def month_of_reads(
    worker: User, colleague: User, outsider: User, case: Case, make_case: Callable[..., Case]
) -> list[AuditEvent]:
    """Last month: two reads a day by our staff of our case, a list page (not a read) and
    another municipality's reads of its own case, which are not ours to review."""
    start = _last_month()
    foreign = make_case(outsider)
    reads = []
    day = start
    while day < next_month(start):
        reads.append(read_at(day + timedelta(hours=9), worker, case))
        reads.append(read_at(day + timedelta(hours=15), colleague, case))
        with clock(day + timedelta(hours=10)):
            audit_record(actor=worker, action=AuditAction.CASE_LIST)
        read_at(day + timedelta(hours=11), outsider, foreign)
        day += timedelta(days=1)
    return reads


def test_the_sample_draws_one_read_from_each_part_of_the_month(
    log_reviewer: User, month_of_reads: list[AuditEvent], settings: Any
) -> None:
    start = _last_month()
    sample = month_sample(log_reviewer, start, 6)
    assert sample.drawn == 6
    ours = {event.pk for event in month_of_reads}
    assert {event.pk for event in sample.events} <= ours
    step = (next_month(start) - start) / 6
    for index, event in enumerate(sample.events):
        assert start + step * index <= event.occurred_at < start + step * (index + 1)
    # Deterministic: the same sample every time; another month or agency draws another.
    again = month_sample(log_reviewer, start, 6)
    assert [e.pk for e in again.events] == [e.pk for e in sample.events]
    settings.SECRET_KEY = "another key that draws another sample " * 2
    redrawn = month_sample(log_reviewer, start, 6)
    assert [e.pk for e in redrawn.events] != [e.pk for e in sample.events]


def test_only_parts_of_the_month_that_have_ended_are_drawn(
    log_reviewer: User, month_of_reads: list[AuditEvent]
) -> None:
    start = _last_month()
    step = (next_month(start) - start) / 4
    midway = start + step * 2 + timedelta(hours=1)
    sample = month_sample(log_reviewer, start, 4, now=midway)
    assert sample.drawn == 2
    later = month_sample(log_reviewer, start, 4, now=next_month(start))
    # What was drawn stays drawn as the month goes on.
    assert [e.pk for e in later.events][:2] == [e.pk for e in sample.events]


def test_the_sample_page_and_marking_a_read_reviewed(
    login: Callable[[User], Client],
    log_reviewer: User,
    month_of_reads: list[AuditEvent],
    settings: Any,
) -> None:
    settings.AVHOPP_LOG_SAMPLE_SIZE = 5
    client = login(log_reviewer)
    page = client.get(reverse("audit:sample"), {"month": "previous"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "5 av 5 dragna, 0 granskade." in body
    table = _table(body, "sample")
    assert "Läst ärende" in table and "case_view" not in table
    event = page.context["sample"].events[0]
    url = reverse("audit:sample_review", args=[event.pk])
    answer = client.post(url, {"month": "previous", "note": "Ingår i uppdraget."})
    assert answer.status_code == 302
    review = LogSampleReview.objects.get()
    assert (review.event_id, review.reviewed_by, review.note) == (
        event.pk,
        log_reviewer,
        "Ingår i uppdraget.",
    )
    assert review.agency_id == log_reviewer.agency_id
    marked = AuditEvent.objects.get(action=AuditAction.AUDIT_SAMPLE_REVIEW)
    assert (marked.user_id, marked.object_id) == (log_reviewer.pk, str(review.pk))
    assert (marked.case_id, marked.reason) == (None, "")  # not a read of the case
    after = client.get(reverse("audit:sample"), {"month": "previous"}).content.decode()
    assert "5 av 5 dragna, 1 granskade." in after and "Ingår i uppdraget." in after
    # Once only; a note too long is refused with a message, nothing saved.
    again = client.post(url, {"month": "previous"}, follow=True)
    assert "redan granskad" in again.content.decode()
    other = page.context["sample"].events[1]
    too_long = client.post(
        reverse("audit:sample_review", args=[other.pk]), {"month": "previous", "note": "x" * 1001}
    )
    assert too_long.status_code == 400
    assert 'class="error-summary"' in too_long.content.decode()
    assert LogSampleReview.objects.count() == 1


def test_only_an_event_of_ones_own_sample_can_be_marked(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    make_user: Callable[..., User],
    other_municipality: Agency,
    month_of_reads: list[AuditEvent],
    settings: Any,
) -> None:
    settings.AVHOPP_LOG_SAMPLE_SIZE = 3
    sample = month_sample(log_reviewer, _last_month(), 3)
    sampled = {event.pk for event in sample.events}
    unsampled = next(event for event in month_of_reads if event.pk not in sampled)
    reviewer = login(log_reviewer)
    outside = reverse("audit:sample_review", args=[unsampled.pk])
    assert reviewer.post(outside, {"month": "previous"}).status_code == 404
    url = reverse("audit:sample_review", args=[sample.events[0].pk])
    other_reviewer = make_user(other_municipality, Role.LOG_REVIEWER, username="annangranskare")
    for user in (worker, other_reviewer):
        assert login(user).post(url, {"month": "previous"}).status_code == 404
    assert reviewer.get(url).status_code == 405
    assert not LogSampleReview.objects.exists()


class _Clock:
    """django.utils.timezone as it would be at another moment, for the sample's module only
    (the rest of the request, sessions included, keeps the real time)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def __getattr__(self, name: str) -> Any:
        return getattr(timezone, name)


def test_the_start_page_shows_this_months_sample(
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    case: Case,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.AVHOPP_LOG_SAMPLE_SIZE = 10
    start = month_start(timezone.now())
    read = read_at(start + timedelta(hours=2), worker, case)
    monkeypatch.setattr(audit_selectors, "timezone", _Clock(start + timedelta(days=4)))
    client = login(log_reviewer)
    body = client.get(reverse("home")).content.decode()
    assert "Månadens stickprov" in body
    assert "1 av 10 dragna, 0 granskade." in body
    table = _table(body, "sample")
    assert "Läst ärende" in table and case.reference in table
    assert reverse("audit:case_readers", args=[case.pk]) in table
    shown = AuditEvent.objects.filter(user_id=log_reviewer.pk, action=AuditAction.AUDIT_VIEW)
    assert shown.filter(reason="sample").count() == 1
    assert read.pk in {event.pk for event in month_sample(log_reviewer, start, 10).events}


def test_the_start_page_has_no_sample_for_other_roles(
    login: Callable[[User], Client], worker: User, coordinator: User, agency_admin: User
) -> None:
    for user in (worker, coordinator, agency_admin):
        body = login(user).get(reverse("home")).content.decode()
        assert "Månadens stickprov" not in body and 'data-testid="sample"' not in body


def test_the_sample_size_is_read_from_the_environment() -> None:
    import subprocess
    import sys

    command = [
        sys.executable,
        "-c",
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'avhopp.settings'; "
        "from django.conf import settings; print(settings.AVHOPP_LOG_SAMPLE_SIZE)",
    ]
    env = {**__import__("os").environ, "AVHOPP_LOG_SAMPLE_SIZE": "7"}
    assert subprocess.run(command, env=env, capture_output=True, text=True).stdout.strip() == "7"
    env["AVHOPP_LOG_SAMPLE_SIZE"] = "101"
    refused = subprocess.run(command, env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "AVHOPP_LOG_SAMPLE_SIZE" in refused.stderr


# --- Who may open the new pages -------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("log_reviewer", 200),
        ("worker", 403),
        ("colleague", 403),
        ("coordinator", 403),
        ("agency_admin", 403),
        ("officer", 403),
        ("outsider", 403),
    ],
)
def test_who_may_open_the_summary_and_the_sample(
    actor: str, status: int, request: pytest.FixtureRequest, login: Callable[[User], Client]
) -> None:
    client = login(request.getfixturevalue(actor))
    for name in ("audit:summary", "audit:sample"):
        assert client.get(reverse(name)).status_code == status, name
    assert Client().get(reverse("audit:summary")).status_code == 302


def test_another_municipalitys_reviewer_sees_none_of_ours(
    login: Callable[[User], Client],
    make_user: Callable[..., User],
    other_municipality: Agency,
    worker: User,
    case: Case,
    month_of_reads: list[AuditEvent],
) -> None:
    reviewer = login(make_user(other_municipality, Role.LOG_REVIEWER, username="grannkommun"))
    today = timezone.localdate()
    summary = reviewer.get(
        reverse("audit:summary"),
        {"date_from": (today - timedelta(days=60)).isoformat(), "date_to": today.isoformat()},
    )
    assert worker.username not in {row.username for row in summary.context["rows"]}
    sample = reviewer.get(reverse("audit:sample"), {"month": "previous"}).context["sample"]
    assert case.pk not in {event.case_id for event in sample.events}
    searched = reviewer.get(reverse("audit:search"), {"case": case.reference})
    assert searched.context["page"].object_list == []


# --- Query counts ---------------------------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("reads", [2, 40])
def test_query_counts_of_the_reviewers_pages(
    reads: int,
    login: Callable[[User], Client],
    log_reviewer: User,
    worker: User,
    colleague: User,
    case: Case,
    make_case: Callable[..., Case],
    settings: Any,
) -> None:
    """The same number of queries whatever the number of rows: each page's rows are named
    (cases, people, users) in one query each, never one per row."""
    settings.AVHOPP_LOG_SAMPLE_SIZE = 10
    others = [make_case(worker) for _ in range(reads // 2)]
    start = month_start(month_start(timezone.now()) - timedelta(days=1))
    for index in range(reads):
        when = start + timedelta(hours=18 * index + 1)
        read_at(when, worker if index % 2 else colleague, others[index % len(others)])
        read_at(when, worker, case, action=AuditAction.IDENTITY_REVEAL, reason="urgent")
    client = login(log_reviewer)
    counts = {
        "search by case": _queries(client, f"{reverse('audit:search')}?case={case.reference}"),
        "search, newest": _queries(client, reverse("audit:search")),
        "who has read": _queries(client, reverse("audit:case_readers", args=[case.pk])),
        "summary": _queries(
            client,
            f"{reverse('audit:summary')}?date_from={start.date()}&date_to={timezone.localdate()}",
        ),
        "sample": _queries(client, f"{reverse('audit:sample')}?month=previous"),
    }
    # Session, user and second factor (3), the header's unread count (1) and the page's audit
    # row (1) on each; then:
    # search by case: the reference's case (1), the page (1), its cases (1); newest: the page,
    # its cases and the people it names as objects (3: the people's registrations); who has
    # read: the case through the checkpoint (1), the page and its cases (2); summary: one
    # grouped query per part (2); sample: one ranked query per part (2), the reviews (1) and
    # the cases (1). People are read only for rows whose object is a person. A page of events
    # is read under joined_by_lookup: its setting (1), and in the test's transaction a
    # savepoint made, rolled back and released (3; outside one, a transaction of its own).
    assert counts == {
        "search by case": 12,
        "search, newest": 12,
        "who has read": 12,
        "summary": 7,
        "sample": 9,
    }
