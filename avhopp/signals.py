from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from avhopp.audit import audit_record
from avhopp.models import AuditAction, User


@receiver(user_logged_in)
def _audit_login(sender: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN)


@receiver(user_logged_out)
def _audit_logout(sender: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT)


@receiver(user_login_failed)
def _audit_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Only the name that was typed; the password is never stored.
    audit_record(
        actor=None, action=AuditAction.LOGIN_FAILED, username=str(credentials.get("username", ""))
    )


@receiver(post_save, sender=User)
def _sync_agency_group(sender: Any, instance: User, **kwargs: Any) -> None:
    """A user is a member of exactly their agency's group, so grants follow the agency."""
    agency_groups = Group.objects.filter(agency__isnull=False)
    current = set(instance.groups.filter(agency__isnull=False).values_list("pk", flat=True))
    wanted = {instance.agency.group_id} if instance.agency_id else set()
    if current != wanted:
        instance.groups.remove(*agency_groups.filter(pk__in=current - wanted))
        instance.groups.add(*wanted)
