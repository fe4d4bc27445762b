"""Writes on agencies' users, each with its audit event."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F

from avhopp.audit import audit_record
from avhopp.models import AuditAction, User
from avhopp.policy import UserAction, UserPolicy


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    password: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    external_id: str = "",
) -> User:
    """A user of the admin's own agency, in a role that agency's kind has (User.clean).
    Without a password only in an agency that signs in through its identity provider alone."""
    UserPolicy.check(by, UserAction.MANAGE)
    user = User(
        agency=by.agency,
        username=username,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        external_id=external_id,
    )
    if password or by.agency.password_sign_in:
        validate_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(actor=by, action=AuditAction.USER_CREATE, obj=user)
    return user


@transaction.atomic
def user_update(*, user: User, by: User, role: str, is_active: bool) -> None:
    """A deactivated user's sessions stop working at the next request, because the
    authentication backend refuses inactive users. The role must exist in the user's agency
    (User.clean); nobody changes their own role or deactivates themselves."""
    UserPolicy.check(by, UserAction.MANAGE, user)
    if (role, is_active) != (user.role, user.is_active):
        UserPolicy.check(by, UserAction.CHANGE_ACCESS, user)
    user.role, user.is_active = role, is_active
    user.full_clean()
    user.save(update_fields=["role", "is_active"])
    audit_record(actor=by, action=AuditAction.USER_UPDATE, obj=user, reason="is_active,role")


@transaction.atomic
def user_end_sessions(*, user: User, by: User) -> None:
    """End every session the user has, at their next request, wherever they are."""
    UserPolicy.check(by, UserAction.MANAGE, user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    audit_record(actor=by, action=AuditAction.USER_SESSIONS_ENDED, obj=user)
