"""Notifications in the core: who gets one, the e-mail through a real SMTP server on loopback
(tests/mail_support.py), the list page for its owner only, opening one, and the header's
count in one query."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from avhopp import notifications
from avhopp.celery import app as celery_app
from avhopp.models import Notification, NotificationKind, ReminderSent, User
from avhopp.notifications import notify
from cases.models import Case
from tests.access_support import count_queries
from tests.mail_support import Inbox

pytestmark = pytest.mark.django_db

KIND = NotificationKind.FOLLOW_UP_DUE


def _with_address(user: User, address: str) -> User:
    User.objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


# --- Who gets one ---------------------------------------------------------------------------


def test_each_active_user_once_never_the_one_who_acted(
    worker: User, colleague: User, coordinator: User, case: Case
) -> None:
    User.objects.filter(pk=colleague.pk).update(is_active=False)
    colleague.refresh_from_db()
    made = notify(
        users=[worker, worker, colleague, coordinator],
        kind=KIND,
        url=case.get_absolute_url(),
        by=coordinator,
    )
    assert [notification.user_id for notification in made] == [worker.pk]
    stored = Notification.objects.get()
    assert (stored.kind, stored.url, stored.read_at) == (KIND, f"/arenden/{case.pk}/", None)
    assert stored.kind_label == "En insats ska snart följas upp"


@pytest.mark.parametrize(
    "url", ["//evil.example/", "https://evil.example/", "/\\evil.example", "arenden/1/", ""]
)
def test_a_link_off_the_site_is_refused(worker: User, url: str) -> None:
    with pytest.raises(ValueError):
        notify(users=[worker], kind=KIND, url=url)
    assert not Notification.objects.exists()


@pytest.mark.parametrize("url", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_the_database_refuses_a_link_off_the_site(worker: User, url: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(user=worker, kind=KIND, url=url)


# --- The e-mail -----------------------------------------------------------------------------


def test_the_mail_goes_out_after_commit_and_says_only_that_something_waits(
    mailbox: Inbox,
    settings: Any,
    worker: User,
    colleague: User,
    case: Case,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.AVHOPP_BASE_URL = "https://avhopp.example.se"
    worker = _with_address(worker, "worker@example.se")
    User.objects.filter(pk=colleague.pk).update(email="")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        made = notify(users=[worker, colleague], kind=KIND, url=case.get_absolute_url())
    assert mailbox.messages == []  # nothing before the commit
    for callback in callbacks:
        callback()
    [received] = mailbox.messages
    assert received.recipients == ["worker@example.se"]
    assert received.sender == "avhopp@example.se"
    assert received.subject == "Avhopp: Något väntar på dig / Something is waiting for you"
    assert "Något väntar på dig i Avhopp." in received.body
    assert "Something is waiting for you in Avhopp." in received.body
    mine = next(n for n in made if n.user_id == worker.pk)
    assert received.links == [f"https://avhopp.example.se/notiser/{mine.pk}/"] * 2
    # The kind, the case and its link stay in Avhopp.
    assert str(KIND.label) not in received.text
    assert case.reference not in received.text
    assert f"/arenden/{case.pk}/" not in received.text
    assert Notification.objects.get(pk=mine.pk).mailed_at is not None
    assert Notification.objects.get(user=colleague).mail_wanted is False


def test_a_mail_is_sent_once_and_not_for_what_was_read_already(
    mailbox: Inbox, worker: User, colleague: User, case: Case
) -> None:
    worker = _with_address(worker, "worker@example.se")
    colleague = _with_address(colleague, "colleague@example.se")
    first, second = notify(users=[worker, colleague], kind=KIND, url=case.get_absolute_url())
    notifications.notification_open(notification=second, by=colleague)
    for notification in (first, first, second):
        notifications.notification_mail_send(notification_id=notification.pk)
    assert [message.recipients for message in mailbox.messages] == [["worker@example.se"]]
    assert Notification.objects.filter(mailed_at__isnull=True).count() == 0


def test_a_mail_server_that_is_down_leaves_the_mail_owed(
    mailbox: Inbox, settings: Any, worker: User, case: Case
) -> None:
    worker = _with_address(worker, "worker@example.se")
    [notification] = notify(users=[worker], kind=KIND, url=case.get_absolute_url())
    settings.EMAIL_PORT = 1  # nothing listens there
    with pytest.raises(OSError):
        notifications.notification_mail_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.mailed_at is None


def test_the_requeuer_sends_what_a_broker_outage_left_owed(
    mailbox: Inbox, worker: User, colleague: User, case: Case
) -> None:
    """Mails owed a while are published again; older than a day, they are left to the list."""
    worker = _with_address(worker, "worker@example.se")
    colleague = _with_address(colleague, "colleague@example.se")
    recent, old = notify(users=[worker, colleague], kind=KIND, url=case.get_absolute_url())
    fresh = notify(users=[worker], kind=KIND, url=case.get_absolute_url())[0]
    now = timezone.now()
    Notification.objects.filter(pk=recent.pk).update(created_at=now - timedelta(minutes=5))
    Notification.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=2))
    assert notifications.notification_mails_requeue_stale() == 1
    assert [message.recipients for message in mailbox.messages] == [["worker@example.se"]]
    assert Notification.objects.get(pk=fresh.pk).mailed_at is None  # its own job is on the way


# --- The list page and opening one ----------------------------------------------------------


def test_the_owner_sees_their_notifications_and_nobody_else_does(
    login: Callable[[User], Client], worker: User, colleague: User, outsider: User, case: Case
) -> None:
    notify(users=[worker], kind=KIND, url=case.get_absolute_url())
    url = reverse("notifications:list")
    owner = login(worker).get(url).content.decode()
    assert "En insats ska snart följas upp" in owner
    for other in (colleague, outsider):
        page = login(other).get(url).content.decode()
        assert "En insats ska snart följas upp" not in page
        assert 'data-testid="no-notifications"' in page
    assert Client().get(url).status_code == 302  # to the login page


def test_opening_marks_read_and_leads_on_for_the_owner_only(
    login: Callable[[User], Client], worker: User, colleague: User, outsider: User, case: Case
) -> None:
    [notification] = notify(users=[worker], kind=KIND, url=case.get_absolute_url())
    url = reverse("notifications:open", args=[notification.pk])
    for other in (colleague, outsider):
        assert login(other).get(url).status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None
    response = login(worker).get(url)
    assert (response.status_code, response["Location"]) == (302, case.get_absolute_url())
    notification.refresh_from_db()
    assert notification.read_at is not None
    read_at = notification.read_at
    login(worker).get(url)  # read once: the first time stays
    notification.refresh_from_db()
    assert notification.read_at == read_at


def test_a_stale_notification_meets_the_pages_own_404(
    login: Callable[[User], Client], officer: User, case: Case, police_agency: Any, share_with: Any
) -> None:
    """The case was shared with the police and the share ended: the link is checked again by
    the case page, which answers as for any case the officer cannot see."""
    share = share_with(case, police_agency)
    [notification] = Notification.objects.filter(user=officer)
    from cases import services

    services.case_unshare(share=share, by=share.created_by)
    client = login(officer)
    response = client.get(reverse("notifications:open", args=[notification.pk]), follow=True)
    assert response.status_code == 404
    assert "Testsson" not in response.content.decode()


def test_mark_all_read(login: Callable[[User], Client], worker: User, case: Case) -> None:
    notify(users=[worker], kind=KIND, url=case.get_absolute_url())
    notify(users=[worker], kind=NotificationKind.CASE_SHARED, url=case.get_absolute_url())
    client = login(worker)
    assert client.get(reverse("notifications:read_all")).status_code == 405
    response = client.post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()


# --- The header's count ---------------------------------------------------------------------


def test_the_header_counts_unread_notifications_with_a_label(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    client = login(worker)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="notifications-link"' in home
    assert 'data-testid="unread-count"' not in home
    made = [notify(users=[worker], kind=KIND, url=case.get_absolute_url())[0] for _ in range(2)]
    home = client.get(reverse("home")).content.decode()
    assert '<span class="badge" data-testid="unread-count">2</span>' in home
    assert '<span class="visually-hidden"> olästa</span>' in home
    client.get(reverse("notifications:open", args=[made[0].pk]))
    home = client.get(reverse("home")).content.decode()
    assert '<span class="badge" data-testid="unread-count">1</span>' in home
    assert '<span class="visually-hidden"> oläst</span>' in home


def test_the_header_count_is_one_query_whatever_the_number(worker: User, case: Case) -> None:
    for count in (1, 40):
        Notification.objects.bulk_create(
            Notification(user=worker, kind=KIND, url=case.get_absolute_url()) for _ in range(count)
        )
        with CaptureQueriesContext(connection) as captured:
            notifications.unread_count(worker)
        assert len(captured.captured_queries) == 1


def test_list_page_queries_are_pinned(
    login: Callable[[User], Client], worker: User, case: Case
) -> None:
    """Session, user and second factor; the header's count; the page's count and rows."""
    client = login(worker)
    url = reverse("notifications:list")
    notify(users=[worker], kind=KIND, url=case.get_absolute_url())
    few = count_queries(client, url)
    Notification.objects.bulk_create(
        Notification(user=worker, kind=KIND, url=case.get_absolute_url()) for _ in range(60)
    )
    many = count_queries(client, url)
    assert few == many == 6


# --- Pruning --------------------------------------------------------------------------------


def test_pruning_deletes_what_has_served_and_keeps_what_may_still_be_wanted(
    worker: User, coordinator: User, case: Case, settings: Any
) -> None:
    settings.AVHOPP_NOTIFICATION_READ_DAYS = 30
    settings.AVHOPP_NOTIFICATION_DAYS = 180
    now = timezone.now()
    kept, read_long_ago, read_lately, very_old_unread, other_users = (
        notify(users=[user], kind=KIND, url=case.get_absolute_url())[0]
        for user in (worker, worker, worker, worker, coordinator)
    )
    ages = {
        read_long_ago.pk: {"created_at": now - timedelta(days=60), "read_at": now - timedelta(31)},
        read_lately.pk: {"created_at": now - timedelta(days=60), "read_at": now - timedelta(29)},
        very_old_unread.pk: {"created_at": now - timedelta(days=181)},
        other_users.pk: {"created_at": now - timedelta(days=179)},
    }
    for pk, fields in ages.items():
        Notification.objects.filter(pk=pk).update(**fields)
    today = timezone.localdate()
    for days in (-3, -1, 0, 5):
        ReminderSent.objects.create(subject="follow_up:1", due_on=today + timedelta(days=days))

    assert notifications.notifications_prune(now=now, batch=1) == 2

    remaining = set(Notification.objects.values_list("pk", flat=True))
    assert remaining == {kept.pk, read_lately.pk, other_users.pk}
    # A claim for yesterday stays, for a run that began before midnight.
    assert sorted(ReminderSent.objects.values_list("due_on", flat=True)) == [
        today + timedelta(days=days) for days in (-1, 0, 5)
    ]
    assert notifications.notifications_prune(now=now) == 0


def test_the_daily_beat_job_prunes(settings: Any, worker: User, case: Case) -> None:
    settings.AVHOPP_NOTIFICATION_DAYS = 1
    old = notify(users=[worker], kind=KIND, url=case.get_absolute_url())[0]
    Notification.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    task = celery_app.tasks[settings.CELERY_BEAT_SCHEDULE["prune-notifications"]["task"]]
    assert task.apply().get() == 1
    assert not Notification.objects.exists()
