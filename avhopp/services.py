"""Writes on agencies' users, each with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from avhopp.audit import audit_record
from avhopp.models import AuditAction, Role, User


def _require_admin_of(by: User, user: User | None = None) -> None:
    if by.role != Role.AGENCY_ADMIN or (user is not None and user.agency_id != by.agency_id):
        raise PermissionDenied


@transaction.atomic
def user_create(*, by: User, password: str, **fields: Any) -> User:
    _require_admin_of(by)
    user = User(agency=by.agency, **fields)
    validate_password(password, user)
    user.set_password(password)
    user.full_clean()
    user.save()
    audit_record(actor=by, action=AuditAction.USER_CREATE, obj=user)
    return user


@transaction.atomic
def user_update(*, user: User, by: User, **fields: Any) -> None:
    """Role and active flag. A deactivated user's sessions stop working at the next request,
    because the authentication backend refuses inactive users."""
    _require_admin_of(by, user)
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    audit_record(
        actor=by, action=AuditAction.USER_UPDATE, obj=user, reason=",".join(sorted(fields))
    )


@transaction.atomic
def user_end_sessions(*, user: User, by: User) -> None:
    """End every session the user has, at their next request, wherever they are."""
    _require_admin_of(by, user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    audit_record(actor=by, action=AuditAction.USER_SESSIONS_ENDED, obj=user)
