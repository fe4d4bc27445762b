"""Reminders of outcomes at follow-up: a point coming due within AVHOPP_REMINDER_DAYS without
an outcome is reminded to the case's responsible worker, who may record it, once per case,
point and due date; the notification and its e-mail say nothing of the case, and a run costs
the same queries whatever the number of cases (method.services.outcome_reminders_send, run
daily by beat)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp.celery import app as celery_app
from avhopp.models import Notification, NotificationKind, ReminderSent, Role, User
from cases import services as case_services
from cases.models import Case, CaseStatus
from method import services
from method.followup import last_anchor, months_after
from tests.mail_support import Inbox
from tests.support import at_once

pytestmark = pytest.mark.django_db

KIND = NotificationKind.OUTCOMES_DUE
ANSWERS = {
    "stable_housing": "yes",
    "work_or_education": "no",
    "new_crime_known": "no",
    "substance_use": "unknown",
    "in_contact": "yes",
}
# A case that closed on ANCHOR has its 6-month point on DUE (its 12 and 24 months later),
# ten days after TODAY.
ANCHOR = date(2025, 3, 12)
DUE = date(2025, 9, 12)
TODAY = DUE - timedelta(days=10)


def _noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def closed_on(case: Case, by: User, day: date) -> Case:
    """The case dropped out, through the service, on `day`: its outcomes count from then."""
    case_services.case_change_status(
        case=case, to_status=CaseStatus.DROPPED_OUT, by=by, reason="Avbröt."
    )
    Case.objects.filter(pk=case.pk).update(closed_at=_noon(day))
    case.refresh_from_db()
    return case


def _told() -> list[tuple[str, str, str]]:
    return list(Notification.objects.order_by("pk").values_list("user__username", "kind", "url"))


def test_a_point_coming_due_is_reminded_once_to_the_responsible_worker(
    case: Case, worker: User, colleague: User, coordinator: User
) -> None:
    closed_on(case, worker, ANCHOR)
    assert services.outcome_reminders_send(today=TODAY) == 1
    # The responsible worker alone: not the colleague, nor the coordinator, who may record it.
    assert _told() == [("worker", KIND, f"/arenden/{case.pk}/#outcomes")]
    claim = ReminderSent.objects.get()
    assert (claim.subject, claim.due_on) == (f"outcome:{case.pk}:6", DUE)
    # A rerun, the same day or the next, sends nothing again.
    assert services.outcome_reminders_send(today=TODAY) == 0
    assert services.outcome_reminders_send(today=TODAY + timedelta(days=1)) == 0
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("due_in", "sent"),
    [
        pytest.param(0, 1, id="due-today"),
        pytest.param(14, 1, id="on-the-windows-last-day"),
        pytest.param(15, 0, id="a-day-past-the-window"),
        pytest.param(-1, 0, id="overdue-is-not-coming-due"),
    ],
)
def test_only_points_within_the_window(case: Case, worker: User, due_in: int, sent: int) -> None:
    """AVHOPP_REMINDER_DAYS (14) ahead, from today on."""
    closed_on(case, worker, ANCHOR)
    assert services.outcome_reminders_send(today=DUE - timedelta(days=due_in)) == sent
    assert Notification.objects.count() == sent


def test_each_point_is_its_own_reminder(case: Case, worker: User, settings: Any) -> None:
    settings.AVHOPP_REMINDER_DAYS = 200
    closed_on(case, worker, ANCHOR)
    assert services.outcome_reminders_send(today=TODAY) == 2  # 6 and 12 months
    assert set(ReminderSent.objects.values_list("subject", "due_on")) == {
        (f"outcome:{case.pk}:6", DUE),
        (f"outcome:{case.pk}:12", date(2026, 3, 12)),
    }


@pytest.mark.parametrize("recorded", [False, True])
def test_a_point_recorded_is_not_reminded(case: Case, worker: User, recorded: bool) -> None:
    """A point may be recorded from its due date, which is still within the window: the
    point that has come today, through the outcome's own service."""
    today = timezone.localdate()
    closed_on(case, worker, last_anchor(today, 6))
    due = months_after(timezone.localdate(case.closed_at), 6)
    if recorded:
        services.outcome_record(case=case, by=worker, months=6, **ANSWERS)
    assert services.outcome_reminders_send(today=due) == (0 if recorded else 1)
    assert Notification.objects.exists() is not recorded


@pytest.mark.parametrize("rule", ["closed", "support"])
def test_what_the_anchor_rule_counts_from(
    settings: Any, make_case: Callable[..., Case], worker: User, rule: str
) -> None:
    """An open case has no closing date but has begun its support: which of them count is
    the setting's, and a case without its anchor is never reminded."""
    settings.AVHOPP_OUTCOME_FROM = rule
    open_case = make_case(worker)
    Case.objects.filter(pk=open_case.pk).update(
        status=CaseStatus.INTERVENTIONS, first_support_at=_noon(ANCHOR)
    )
    closed_on(make_case(worker), worker, ANCHOR - timedelta(days=1))
    never_anchored = make_case(worker)
    assert services.outcome_reminders_send(today=TODAY) == 1
    reminded = open_case if rule == "support" else Case.objects.get(closed_at__isnull=False)
    assert list(ReminderSent.objects.values_list("subject", flat=True)) == [
        f"outcome:{reminded.pk}:6"
    ]
    assert never_anchored.pk not in {open_case.pk, reminded.pk}


def test_a_responsible_worker_who_is_inactive_or_may_not_record_is_not_reminded(
    case: Case, worker: User
) -> None:
    closed_on(case, worker, ANCHOR)
    User.objects.filter(pk=worker.pk).update(is_active=False)
    assert services.outcome_reminders_send(today=TODAY) == 0
    # A log reviewer reads no case content and records nothing (cases.policy).
    User.objects.filter(pk=worker.pk).update(is_active=True, role=Role.LOG_REVIEWER)
    assert services.outcome_reminders_send(today=TODAY) == 0
    assert not Notification.objects.exists()
    # Nothing was claimed: once someone may record the point, they are reminded.
    assert not ReminderSent.objects.exists()
    User.objects.filter(pk=worker.pk).update(role=Role.SOCIAL_WORKER)
    assert services.outcome_reminders_send(today=TODAY) == 1
    assert _told() == [("worker", KIND, f"/arenden/{case.pk}/#outcomes")]


def test_the_notification_holds_its_kind_and_a_link_to_the_method_section(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    closed_on(case, worker, ANCHOR)
    services.outcome_reminders_send(today=TODAY)
    [notification] = Notification.objects.filter(user=worker).values()
    assert set(notification) == {
        "id",
        "user_id",
        "kind",
        "url",
        "created_at",
        "read_at",
        "mail_wanted",
        "mailed_at",
    }
    assert (notification["kind"], notification["url"]) == (KIND, f"/arenden/{case.pk}/#outcomes")
    client = login(worker)
    listed = client.get(reverse("notifications:list")).content.decode()
    assert "Resultat vid uppföljning ska snart registreras" in listed
    person = case.individual
    for text in (person.first_name, person.last_name, case.reference):
        assert text not in listed
    opened = client.get(reverse("notifications:open", args=[notification["id"]]))
    assert opened.status_code == 302
    assert opened["Location"] == f"/arenden/{case.pk}/#outcomes"
    page = client.get(f"/arenden/{case.pk}/").content.decode()
    assert 'id="outcomes"' in page


def test_the_case_page_shows_the_point_a_reminder_announces(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    today = timezone.localdate()
    anchor = months_after(today + timedelta(days=10), -6)
    closed_on(case, worker, anchor)
    assert services.outcome_reminders_send(today=today) == 1
    page = login(worker).get(Notification.objects.get().url.split("#")[0]).content.decode()
    section = page.split('id="outcomes"')[1].split("</section>")[0]
    due_on = months_after(anchor, 6)
    assert f"Nästa uppföljning: 6 månader efter avslut ({due_on:%Y-%m-%d})." in section
    # Announced, not yet to be recorded, and not "nothing to follow up".
    assert "Registrera resultat" not in section
    assert "Inga resultat att följa upp" not in section


def test_the_mail_says_nothing_of_the_case(
    mailbox: Inbox, committed: Callable[..., Any], settings: Any, case: Case, worker: User
) -> None:
    settings.AVHOPP_BASE_URL = "https://avhopp.example.se"
    User.objects.filter(pk=worker.pk).update(email="worker@example.se")
    closed_on(case, worker, ANCHOR)
    with committed():
        assert services.outcome_reminders_send(today=TODAY) == 1
    [received] = mailbox.messages
    assert received.recipients == ["worker@example.se"]
    assert received.subject == "Avhopp: Något väntar på dig / Something is waiting for you"
    notification = Notification.objects.get()
    assert set(received.links) == {f"https://avhopp.example.se/notiser/{notification.pk}/"}
    person = case.individual
    for text in (
        person.first_name,
        person.last_name,
        person.personnummer,
        person.address,
        case.reference,
        f"/arenden/{case.pk}/",
        "#outcomes",
        str(KIND.label),
        "Resultat",
    ):
        assert text not in received.text
    assert notification.mailed_at is not None


def _run_queries(today: date) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        sent = services.outcome_reminders_send(today=today)
    return sent, len(captured.captured_queries)


def test_a_runs_queries_do_not_grow_with_the_cases(
    make_case: Callable[..., Case],
    worker: User,
    colleague: User,
    make_user: Callable[..., User],
    municipality: Any,
) -> None:
    """Sent reminders and every case that has none to send (claimed already, recorded, out
    of the window, an inactive worker's, no anchor) cost nothing more: the claims, the cases
    cut by their anchors and their outcomes. Each reminder sent costs its recipient's check
    (the case's shares and its visibility) and its claim and notice in one transaction."""
    inactive = make_user(municipality, Role.SOCIAL_WORKER, is_active=False)
    quiet = [
        closed_on(make_case(worker), worker, ANCHOR - timedelta(days=60)),  # out of the window
        make_case(worker),  # no anchor
        closed_on(make_case(worker, responsible=inactive), worker, ANCHOR),
        closed_on(make_case(worker), worker, ANCHOR),
    ]
    # Recorded: the point is past in real time, so the outcome's own service takes it.
    services.outcome_record(case=quiet[-1], by=worker, months=6, **ANSWERS)

    def reminded(count: int) -> None:
        for _ in range(count):
            closed_on(make_case(worker, responsible=colleague), worker, ANCHOR)

    reminded(1)
    assert _run_queries(TODAY) == (1, 3 + 8)
    assert _run_queries(TODAY) == (0, 3)
    reminded(4)
    assert _run_queries(TODAY) == (4, 3 + 4 * 8)
    assert _run_queries(TODAY) == (0, 3)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(
    make_case: Callable[..., Case], worker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs read the claims before either writes (forced here): the unique claim lets
    exactly one of them send each."""
    for _ in range(3):
        closed_on(make_case(worker), worker, ANCHOR)
    monkeypatch.setattr(services, "reminders_claimed", lambda **_: set())
    results = at_once(
        lambda: services.outcome_reminders_send(today=TODAY),
        lambda: services.outcome_reminders_send(today=TODAY),
    )
    assert not any(isinstance(result, BaseException) for result in results), results
    assert sum(results) == 3
    assert ReminderSent.objects.count() == 3
    assert Notification.objects.filter(user=worker, kind=KIND).count() == 3


def test_the_task_runs_through_celery_daily(case: Case, worker: User, settings: Any) -> None:
    name = "method.tasks.send_outcome_reminders"
    entry = settings.CELERY_BEAT_SCHEDULE["send-outcome-reminders"]
    assert entry["task"] == name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({6}, {50})
    # Due within the window from today, whatever the month's length.
    closed_on(case, worker, last_anchor(timezone.localdate() + timedelta(days=10), 6))
    celery_app.loader.import_default_modules()  # as a worker starts: autodiscovery by app
    assert celery_app.tasks[name].apply().get() == 1
    assert celery_app.tasks[name].apply().get() == 0
    assert _told() == [("worker", KIND, f"/arenden/{case.pk}/#outcomes")]


def test_the_anchor_window_is_exact_at_month_ends() -> None:
    """last_anchor is the inverse the database's cut uses: the last anchor day whose point
    falls due by a day, for every day of four years, short months and a leap day among them."""
    day = timedelta(days=1)
    for months in (1, 6, 12, 24):
        for offset in range(4 * 366):
            until = date(2026, 1, 1) + offset * day
            last = last_anchor(until, months)
            assert months_after(last, months) <= until < months_after(last + day, months)
