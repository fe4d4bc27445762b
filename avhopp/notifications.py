"""Notifications: what waits for a user, counted in the header, listed on its page, and sent
by e-mail. Feature apps call `notify` from their own services with the users their own
policy allows, so the core knows no case, referral or relocation. A notification holds a
kind and a link, never case content; its e-mail says only that something waits, and links
to the notification (which leads on, through the login, to the page it names)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from avhopp import jobs, mail
from avhopp.models import Notification, NotificationKind, ReminderSent, User
from avhopp.policy import NotificationAction, NotificationPolicy


def notify(
    *, users: Iterable[User], kind: NotificationKind, url: str, by: User | None = None
) -> list[Notification]:
    """One notification to each active user named (once, however often named), except `by`,
    whose own action it is; written in the caller's transaction, with the e-mails published
    after it commits, to those with an address. `url` is a path on this site, checked again
    by its page when opened."""
    if not url.startswith("/") or not url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        raise ValueError(f"A notification links to a path on this site, not {url!r}.")
    recipients = {
        user.pk: user for user in users if user.is_active and (by is None or user.pk != by.pk)
    }
    notifications = Notification.objects.bulk_create(
        Notification(user_id=pk, kind=kind, url=url, mail_wanted=bool(user.email))
        for pk, user in sorted(recipients.items())
    )
    to_mail = [notification.pk for notification in notifications if notification.mail_wanted]
    if to_mail:
        transaction.on_commit(lambda: [enqueue_mail(pk) for pk in to_mail])
    return notifications


def users_of(agency_ids: Iterable[int | None], may: Callable[[User], bool]) -> list[User]:
    """The active users of these agencies whom `may`, a question put to the caller's policy
    (visible_to and allows), lets act: the recipients of a notification."""
    candidates = User.objects.filter(agency_id__in=[pk for pk in agency_ids if pk], is_active=True)
    return [user for user in candidates.order_by("pk") if may(user)]


def enqueue_mail(notification_id: int) -> bool:
    """Publish the mail's job. With the broker down it stays owed, for the requeuer."""
    from avhopp.tasks import send_notification_mail  # the tasks import this module

    return jobs.publish(send_notification_mail, notification_id)


def notification_mail_send(*, notification_id: int) -> None:
    """Send the mail a notification owes, once: not if it was read meanwhile in Avhopp, nor
    while another worker holds it. The row stays locked while the server answers, and an
    error rolls back, so the task's retry finds it owed still."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(pk=notification_id, mail_wanted=True, mailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return
        user = notification.user
        if notification.read_at is None and user.is_active and user.email:
            mail.send(
                to=user.email,
                subject_template="avhopp/mail/notification_subject.txt",
                body_template="avhopp/mail/notification.txt",
                context={
                    "link": mail.absolute(reverse("notifications:open", args=[notification.pk]))
                },
            )
        notification.mailed_at = timezone.now()
        notification.save(update_fields=["mailed_at"])


def notification_mails_requeue_stale(
    *, older_than: timedelta = timedelta(minutes=2), within: timedelta = timedelta(days=1)
) -> int:
    """Publish again the mails owed for a while (the broker was down, a worker vanished);
    after a day a notice is old news, and the list page has it."""
    now = timezone.now()
    owed = Notification.objects.filter(
        mail_wanted=True,
        mailed_at__isnull=True,
        created_at__lt=now - older_than,
        created_at__gte=now - within,
    )
    return sum(enqueue_mail(pk) for pk in list(owed.values_list("pk", flat=True)[:500]))


def notifications_prune(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Delete what has served, in batches: notifications read AVHOPP_NOTIFICATION_READ_DAYS
    ago, any AVHOPP_NOTIFICATION_DAYS old (a link into a case, kind and date are a trace of
    it, kept no longer than useful), and the claims of reminders due before yesterday (a run
    reads claims from its own day on). The number of notifications deleted."""
    now = now or timezone.now()
    served = Notification.objects.filter(
        Q(read_at__lt=now - timedelta(days=settings.AVHOPP_NOTIFICATION_READ_DAYS))
        | Q(created_at__lt=now - timedelta(days=settings.AVHOPP_NOTIFICATION_DAYS))
    )
    deleted = _delete_in_batches(served, batch)
    yesterday = timezone.localdate(now) - timedelta(days=1)
    _delete_in_batches(ReminderSent.objects.filter(due_on__lt=yesterday), batch)
    return deleted


def _delete_in_batches(rows: QuerySet[Any], batch: int) -> int:
    """Short transactions, whatever piled up: a long delete would hold its locks against the
    header's count and the reminders' claims."""
    deleted = 0
    while ids := list(rows.values_list("pk", flat=True)[:batch]):
        deleted += rows.model.objects.filter(pk__in=ids).delete()[0]
    return deleted


def notification_open(*, notification: Notification, by: User) -> str:
    """Mark the notification read (the first time) and answer where it leads."""
    NotificationPolicy.check(by, NotificationAction.OPEN, notification)
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return notification.url


def notifications_read_all(*, by: User) -> int:
    NotificationPolicy.check(by, NotificationAction.OPEN)
    unread = NotificationPolicy.visible_to(by).filter(read_at__isnull=True)
    return unread.update(read_at=timezone.now())


def unread_count(user: User) -> int:
    """The header's count: one query on the unread index."""
    return NotificationPolicy.visible_to(user).filter(read_at__isnull=True).count()


# --- Reminders: once per thing and due date -------------------------------------------------


def reminder_claim(*, subject: str, due_on: date) -> bool:
    """Whether this call is the one to send the reminder of `subject` due on `due_on`: the
    first to record it. Call it inside the transaction that notifies, so that a failure
    leaves it unclaimed; a concurrent claimer waits for that transaction to end and then
    finds it claimed (the unique constraint)."""
    try:
        with transaction.atomic():
            ReminderSent.objects.create(subject=subject, due_on=due_on)
    except IntegrityError:
        return False
    return True


def reminders_claimed(*, due_from: date) -> set[tuple[str, date]]:
    """The reminders already sent for due dates from `due_from` on: a run skips them without
    trying (the claim still decides, for a run that races it)."""
    return set(ReminderSent.objects.filter(due_on__gte=due_from).values_list("subject", "due_on"))
