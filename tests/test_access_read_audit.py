"""Every response that shows case content writes an audit event; list and search pages record
the cases they showed, and the log reviewer finds those lists under the case (the access
matrix checks the same for every page and every kind of user, tests/test_access_get_matrix.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from avhopp.audit import audit_list
from avhopp.models import AuditAction, AuditEvent, AuditShownCase, User
from cases import services
from cases.models import Case
from tests.access_support import World, count_queries, give_outside_reason


def _new_events(since: int) -> list[tuple[str, int | None]]:
    return list(
        AuditEvent.objects.filter(pk__gt=since).order_by("pk").values_list("action", "case_id")
    )


def _last_pk() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


@pytest.mark.parametrize(
    "name", ["cases:edit", "cases:individual_edit", "cases:intervention_create", "case_read_400"]
)
def test_form_pages_log_one_read_of_the_case(
    name: str, case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    since = _last_pk()
    if name == "case_read_400":
        # A form sent back with errors shows the case too.
        url = reverse("cases:intervention_create", args=[case.pk])
        assert client.post(url, {"kind": "no such kind"}).status_code == 400
    else:
        assert client.get(reverse(name, args=[case.pk])).status_code == 200
    assert _new_events(since) == [(AuditAction.CASE_VIEW, case.pk)]


def test_intervention_page_logs_a_read_and_a_save_logs_no_read(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    intervention = services.intervention_create(
        case=case, by=worker, kind="work", provider_name="Arbetsförmedlingen", goal="Arbete"
    )
    client = login(worker)
    url = reverse("cases:intervention_edit", args=[case.pk, intervention.pk])
    since = _last_pk()
    assert client.get(url).status_code == 200
    assert _new_events(since) == [(AuditAction.CASE_VIEW, case.pk)]
    since = _last_pk()
    data = {"kind": "work", "provider_name": "Arbetsförmedlingen", "status": "ongoing"}
    assert client.post(url, data).status_code == 302
    assert _new_events(since) == [(AuditAction.INTERVENTION_UPDATE, case.pk)]


def test_case_page_logs_its_read_once_with_the_threat_details(
    world: World, login: Callable[[User], Client]
) -> None:
    officer = login(world.users["officer"])
    since = _last_pk()
    assert officer.get(world.case.get_absolute_url()).status_code == 200
    assert _new_events(since) == [
        (AuditAction.CASE_VIEW, world.case.pk),
        (AuditAction.THREAT_DETAILS_VIEW, world.case.pk),
    ]


def _shown(action: str) -> list[int]:
    event = AuditEvent.objects.filter(action=action).latest("pk")
    return list(event.shown_cases.order_by("pk").values_list("case_id", flat=True))


def test_start_page_list_and_search_record_the_cases_shown(
    make_case: Callable[..., Case], worker: User, login: Callable[[User], Client]
) -> None:
    cases = [make_case(worker, last_name=f"Listsson{n}") for n in range(3)]
    client = login(worker)
    assert client.get(reverse("home")).status_code == 200
    assert sorted(_shown(AuditAction.CASE_LIST)) == sorted(case.pk for case in cases)
    assert client.get(reverse("cases:list"), {"order": "opened"}).status_code == 200
    assert sorted(_shown(AuditAction.CASE_LIST)) == sorted(case.pk for case in cases)
    assert client.get(reverse("cases:list"), {"q": "Listsson1"}).status_code == 200
    assert _shown(AuditAction.CASE_SEARCH) == [cases[1].pk]
    assert client.get(reverse("cases:create"), {"q": "Listsson2"}).status_code == 200
    assert _shown(AuditAction.CASE_SEARCH) == [cases[2].pk]


def test_referral_overview_records_the_cases_of_the_referrals_shown(
    world: World, login: Callable[[User], Client]
) -> None:
    assert login(world.users["coordinator"]).get(reverse("referrals:dashboard")).status_code == 200
    assert _shown(AuditAction.REFERRAL_LIST) == [world.case.pk]


def test_an_empty_list_records_no_cases(outsider: User, login: Callable[[User], Client]) -> None:
    assert login(outsider).get(reverse("cases:list")).status_code == 200
    assert _shown(AuditAction.CASE_LIST) == []


def test_log_reviewer_finds_the_lists_that_showed_the_case(
    world: World, login: Callable[[User], Client]
) -> None:
    colleague = login(world.users["colleague"])
    assert colleague.get(reverse("cases:list")).status_code == 200
    reviewer = login(world.users["log_reviewer"])
    page = reviewer.get(reverse("audit:case_readers", args=[world.case.pk])).content.decode()
    assert "colleague" in page
    assert str(AuditAction.CASE_LIST.label) in page
    searched = reviewer.get(reverse("audit:search"), {"case": world.case.reference})
    assert "colleague" in searched.content.decode()
    export = reviewer.get(reverse("audit:export"), {"case": world.case.reference})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    shown_column = rows[0].index("Visade ärenden")
    listed = [row for row in rows[1:] if row[1] == "colleague"]
    assert [row[shown_column] for row in listed] == [world.case.reference]


def test_shown_cases_are_append_only(worker: User, case: Case) -> None:
    event = audit_list(actor=worker, action=AuditAction.CASE_LIST, case_ids=[case.pk, case.pk])
    shown = AuditShownCase.objects.get(event=event)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditShownCase.objects.filter(pk=shown.pk).update(case_id=case.pk + 1)
    with pytest.raises(DatabaseError), transaction.atomic():
        shown.delete()
    assert AuditShownCase.objects.get(event=event).case_id == case.pk


def test_list_pages_record_their_cases_in_a_fixed_number_of_queries(
    world: World, make_case: Callable[..., Case], login: Callable[[User], Client]
) -> None:
    coordinator = login(world.users["coordinator"])
    give_outside_reason(coordinator, world.case)
    pages = ("home", "referrals:dashboard")
    make_case(world.users["worker"], responsible=world.users["coordinator"])
    few = {name: count_queries(coordinator, reverse(name)) for name in pages}
    for _ in range(5):
        make_case(world.users["worker"], responsible=world.users["coordinator"])
    many = {name: count_queries(coordinator, reverse(name)) for name in pages}
    assert few == many
    # Both: session, user, second factor and the header's unread count, then the audit row
    # and the cases it showed. Start page: the five case lists (own cases, threat reviews,
    # follow-ups, consents running out, files without an entry), the coordination alerts, the
    # referrals received and sent (2, none waiting so no audit row of theirs), the relocation
    # steps waiting (2) and the outcomes due at follow-up (1). Overview: the agencies its
    # filter offers, the count and the page's rows.
    assert many == {"home": 4 + 2 + 5 + 1 + 2 + 2 + 1, "referrals:dashboard": 4 + 3 + 2}
