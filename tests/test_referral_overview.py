"""The referral overview: one table of the referrals an agency has sent and received, filtered
and sorted through the query string (validated by a form), paged, protected identities masked,
and the cases it showed logged."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from avhopp.models import Agency, AgencyKind, AuditAction, AuditEvent, Role, User
from cases.identity import format_identity_number, mask_identity_number
from cases.models import Case, ProtectionLevel
from referrals.models import Referral, ReferralStatus
from tests.access_support import ready_referral
from tests.conftest import AgencyFactory
from tests.support import send_referral

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("doc_root")]

URL = reverse("referrals:dashboard")
ROW = re.compile(r"<tr[^>]*>\s*<td><a href=\"/remisser/(\d+)/\">", re.S)


def listed(response: object) -> list[int]:
    """The referral ids of the table's rows, in order."""
    return [int(pk) for pk in ROW.findall(response.content.decode())]


def sent_days_ago(referral: Referral, days: int, answered_after: int | None = None) -> None:
    """Date a sent referral back, and its answer `answered_after` days after it was sent."""
    sent_at = timezone.now() - timedelta(days=days)
    answer = {}
    if answered_after is not None:
        answer = {
            "status": ReferralStatus.ACCEPTED,
            "answered_at": sent_at + timedelta(days=answered_after),
        }
    Referral.objects.filter(pk=referral.pk).update(sent_at=sent_at, **answer)


@pytest.fixture
def foreign_coordinator(make_user: Callable[..., User], other_municipality: Agency) -> User:
    return make_user(other_municipality, Role.COORDINATOR, username="fcoord")


@pytest.fixture
def traffic(
    owned_case: Case,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    municipality: Agency,
    make_case: Callable[..., Case],
    outsider: User,
    foreign_coordinator: User,
) -> dict[str, Referral]:
    """Our municipality's referrals: one to the police sent 10 days ago and unanswered, one
    to Kriminalvården answered 3 days after it was sent 20 days ago, one ready and not sent;
    and one another municipality sent to ours 5 days ago."""
    to_police = ready_referral(owned_case, coordinator, police_agency)
    send_referral(to_police, coordinator)
    sent_days_ago(to_police, 10)
    to_prison = ready_referral(owned_case, coordinator, prison_agency)
    send_referral(to_prison, coordinator)
    sent_days_ago(to_prison, 20, answered_after=3)
    unsent = ready_referral(owned_case, coordinator, police_agency)
    foreign_case = make_case(outsider, first_name="Bertil", responsible=foreign_coordinator)
    received = ready_referral(foreign_case, foreign_coordinator, municipality)
    send_referral(received, foreign_coordinator)
    sent_days_ago(received, 5)
    return {"to_police": to_police, "to_prison": to_prison, "unsent": unsent, "received": received}


def test_one_table_of_what_was_sent_and_received(
    traffic: dict[str, Referral], coordinator: User, login: Callable[[User], Client]
) -> None:
    response = login(coordinator).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    # Newest first: not yet sent (dated by its making, today), then by the day sent.
    assert listed(response) == [
        traffic[name].pk for name in ("unsent", "received", "to_police", "to_prison")
    ]
    for header in ("Remiss", "Ärende", "Mottagare eller avsändare", "Datum", "Status"):
        assert re.search(rf'<th scope="col"[^>]*>(<a [^>]*>)?{header}\b', body), header
    assert "<caption" in body and "4 remisser" in body
    to_police, received = traffic["to_police"], traffic["received"]
    row = _row(body, to_police)
    assert to_police.case.reference in row and "Adam Testsson" in row
    assert f"Till {to_police.to_agency.name}" in row and "Skickad" in row
    assert (timezone.localdate() - timedelta(days=10)).isoformat() in row
    assert row.rstrip().endswith('<td class="num">10</td>')
    # The answered one waited three days; the unsent one for nobody yet.
    assert _row(body, traffic["to_prison"]).rstrip().endswith('<td class="num">3</td>')
    assert _row(body, traffic["unsent"]).rstrip().endswith('<td class="num">\N{EN DASH}</td>')
    # A received referral names its sender, and does not link to the sender's case.
    received_row = _row(body, received)
    assert f"Från {received.from_agency.name}" in received_row
    assert received.case.reference in received_row
    assert received.case.get_absolute_url() not in received_row
    assert to_police.case.get_absolute_url() in row


def _row(body: str, referral: Referral) -> str:
    start = body.index(f'<td><a href="{referral.get_absolute_url()}">')
    return body[start : body.index("</tr>", start)]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"direction": "sent"}, ["unsent", "to_police", "to_prison"]),
        ({"direction": "received"}, ["received"]),
        ({"status": "sent"}, ["received", "to_police"]),
        ({"status": "ready"}, ["unsent"]),
        ({"direction": "sent", "status": "accepted"}, ["to_prison"]),
        ({"agency": "police"}, ["unsent", "to_police"]),
        ({"agency": "other_municipality"}, ["received"]),
        ({"agency": "police", "status": "declined"}, []),
    ],
)
def test_filters(
    params: dict[str, str],
    expected: list[str],
    traffic: dict[str, Referral],
    coordinator: User,
    police_agency: Agency,
    other_municipality: Agency,
    login: Callable[[User], Client],
) -> None:
    agencies = {"police": police_agency, "other_municipality": other_municipality}
    if "agency" in params:
        params = {**params, "agency": str(agencies[params["agency"]].pk)}
    response = login(coordinator).get(URL, params)
    assert response.status_code == 200
    assert listed(response) == [traffic[name].pk for name in expected]
    if not expected:
        assert "Inga remisser matchar." in response.content.decode()


def test_the_agency_filter_offers_the_other_ends_only(
    traffic: dict[str, Referral],
    coordinator: User,
    officer: User,
    national_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    """Not every agency: a list of them all would name places the user has no part in."""
    options = re.compile(r'<select name="agency"[^>]*>(.*?)</select>', re.S)
    ours = options.search(login(coordinator).get(URL).content.decode()).group(1)
    names = re.findall(r"<option value=\"\d+\">([^<]+)</option>", ours)
    assert names == sorted(
        referral.to_agency.name
        if referral.from_agency == coordinator.agency
        else referral.from_agency.name
        for referral in {traffic["to_police"], traffic["to_prison"], traffic["received"]}
    )
    assert national_agency.name not in ours
    # The police know the one agency that sent them something.
    theirs = options.search(login(officer).get(URL).content.decode()).group(1)
    assert re.findall(r"<option value=\"\d+\">([^<]+)</option>", theirs) == [
        coordinator.agency.name
    ]
    # An agency offered to nobody is refused like any other unknown value.
    refused = login(officer).get(URL, {"agency": traffic["to_prison"].to_agency_id})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("-date", ["unsent", "received", "to_police", "to_prison"]),
        ("date", ["to_prison", "to_police", "received", "unsent"]),
        # Days waiting: 10 (unanswered), 5, 3 (answered); the unsent one last either way.
        ("-waiting", ["to_police", "received", "to_prison", "unsent"]),
        ("waiting", ["to_prison", "received", "to_police", "unsent"]),
    ],
)
def test_sorting(
    order: str,
    expected: list[str],
    traffic: dict[str, Referral],
    coordinator: User,
    login: Callable[[User], Client],
) -> None:
    response = login(coordinator).get(URL, {"order": order})
    assert response.status_code == 200
    assert listed(response) == [traffic[name].pk for name in expected]


def test_sorting_by_case_follows_the_reference(
    traffic: dict[str, Referral], coordinator: User, login: Callable[[User], Client]
) -> None:
    """By the case reference's year, then its number: an older year first, whatever the id."""
    older = traffic["received"].case
    Case.objects.filter(pk=older.pk).update(opened_at=timezone.now() - timedelta(days=800))
    older.refresh_from_db()
    ours = traffic["to_police"].case
    assert older.reference < ours.reference and older.pk > ours.pk
    client = login(coordinator)
    forward = listed(client.get(URL, {"order": "case"}))
    assert forward[0] == traffic["received"].pk
    # Our three share a case: the referral's id breaks the tie, in the same direction.
    assert forward[1:] == sorted(forward[1:])
    assert listed(client.get(URL, {"order": "-case"})) == forward[::-1]


def test_sort_headers_announce_their_state_and_turn_around(
    traffic: dict[str, Referral], coordinator: User, login: Callable[[User], Client]
) -> None:
    client = login(coordinator)
    body = client.get(URL, {"direction": "sent"}).content.decode()
    # The default order is by date, newest first: that header says so, the others invite.
    date = _header(body, "Datum")
    assert 'aria-sort="descending"' in date and "sorterad fallande" in date
    assert "order=date" in date and "direction=sent" in date  # turns around, keeps the filter
    waiting = _header(body, "Väntat (dagar)")
    assert "aria-sort" not in waiting and ", sortera<" in waiting
    assert "order=-waiting" in waiting
    assert body.count("aria-sort=") == 1
    body = client.get(URL, {"direction": "sent", "order": "waiting"}).content.decode()
    waiting = _header(body, "Väntat (dagar)")
    assert 'aria-sort="ascending"' in waiting and "sorterad stigande" in waiting
    assert "order=-waiting" in waiting
    assert "aria-sort" not in _header(body, "Datum")
    # The filter form keeps the sort order for the next filtering.
    assert '<input type="hidden" name="order" value="waiting"' in body


def _header(body: str, label: str) -> str:
    end = body.index(f">{label}<")
    start = body.rindex("<th", 0, end)
    return unescape(body[start : body.index("</th>", end)])


def test_pages_keep_filter_and_order(
    owned_case: Case,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    made = [ready_referral(owned_case, coordinator, police_agency) for _ in range(27)]
    client = login(coordinator)
    params = {"direction": "sent", "order": "date"}
    first = client.get(URL, params)
    assert listed(first) == [referral.pk for referral in made[:25]]
    body = unescape(first.content.decode())
    assert "27 remisser" in body and "Sida 1 av 2" in body
    assert "?direction=sent&order=date&page=2" in body
    second = client.get(URL, {**params, "page": "2"})
    assert listed(second) == [referral.pk for referral in made[25:]]
    # A page past the end shows the last; one that is no number, the first.
    assert listed(client.get(URL, {**params, "page": "99"})) == listed(second)
    assert listed(client.get(URL, {**params, "page": "x"})) == listed(first)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "skickad<script>"}, "Välj ett giltigt alternativ."),
        ({"direction": "upp"}, "Välj ett giltigt alternativ."),
        ({"agency": "99999999999999999999999"}, "Välj ett giltigt alternativ."),
        ({"agency": "1\x00"}, "Null-tecken är inte tillåtna."),
        ({"order": "pk; DROP TABLE"}, "Listan kan inte sorteras så."),
        ({"order": "-created_by__password"}, "Listan kan inte sorteras så."),
    ],
)
def test_bad_parameters_get_a_message_and_the_whole_list(
    params: dict[str, str],
    message: str,
    traffic: dict[str, Referral],
    coordinator: User,
    login: Callable[[User], Client],
) -> None:
    response = login(coordinator).get(URL, params)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary" role="alert"' in body
    assert message in body
    assert "<script>" not in body
    # Nothing filtered on a value that was refused: the default list, newest first.
    assert listed(response) == [
        traffic[name].pk for name in ("unsent", "received", "to_police", "to_prison")
    ]


def test_protected_identity_is_masked(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    protected = make_case(
        worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION, responsible=coordinator
    )
    referral = ready_referral(protected, coordinator, police_agency)
    body = login(coordinator).get(URL).content.decode()
    row = _row(body, referral)
    number = protected.individual.personnummer
    assert format_identity_number(number) not in body and number not in body
    assert mask_identity_number(number) in row
    assert "Skyddad" in row
    assert '<tr class="protected">' in body


def test_the_recipient_sees_only_what_was_delivered(
    traffic: dict[str, Referral], officer: User, login: Callable[[User], Client]
) -> None:
    response = login(officer).get(URL)
    assert listed(response) == [traffic["to_police"].pk]
    row = _row(response.content.decode(), traffic["to_police"])
    assert f"Från {traffic['to_police'].from_agency.name}" in row
    assert traffic["to_police"].case.get_absolute_url() not in row


def test_a_stranger_sees_none_of_it(
    traffic: dict[str, Referral], make_user: Callable[..., User], login: Callable[[User], Client]
) -> None:
    third = AgencyFactory(
        name="Tredje kommun", kind=AgencyKind.SOCIAL_SERVICES, municipality_code="0999"
    )
    response = login(make_user(third, Role.COORDINATOR, username="thirdcoord")).get(URL)
    assert response.status_code == 200
    assert listed(response) == []
    assert "Inga remisser matchar." in response.content.decode()
    # The owning agency's log reviewer reads the log, not referrals.
    reviewer = make_user(traffic["to_police"].from_agency, Role.LOG_REVIEWER, username="lr2")
    assert login(reviewer).get(URL).status_code == 403


def test_the_cases_shown_are_logged(
    traffic: dict[str, Referral], coordinator: User, login: Callable[[User], Client]
) -> None:
    login(coordinator).get(URL, {"direction": "received"})
    event = AuditEvent.objects.filter(action=AuditAction.REFERRAL_LIST).latest("pk")
    assert [shown.case_id for shown in event.shown_cases.all()] == [traffic["received"].case_id]
