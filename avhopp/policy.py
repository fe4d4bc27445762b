"""Who may administer which users. Every such decision is made here.

An agency admin manages the users of their own agency, and no one else's; nobody else manages
users in the application (support staff use the Django admin, which shows no case content).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from avhopp.models import AgencyKind, Notification, Role, User


class UserAction(models.TextChoices):
    MANAGE = "manage"  # list, create, change and end the sessions of users
    # Change a user's role or deactivate them: never one's own, so an admin can neither raise
    # their own access nor lock their agency out of its user administration.
    CHANGE_ACCESS = "change_access"
    # Support staff (Django admin) activate and deactivate agency users, nothing more: never
    # themselves, other staff or a superuser, whose access is not theirs to switch.
    SUPPORT_SET_ACTIVE = "support_set_active"


class UserPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[User]:
        if not UserPolicy.allows(user, UserAction.MANAGE):
            return User.objects.none()
        return User.objects.filter(agency_id=user.agency_id)

    @staticmethod
    def allows(user: User, action: UserAction, obj: User | None = None) -> bool:
        """`obj` None: the action in general (the user list, creating a user)."""
        if action == UserAction.SUPPORT_SET_ACTIVE:
            return (
                user.is_authenticated
                and user.is_active
                and user.is_staff
                and user.has_perm("avhopp.change_user")
                and (obj is None or not (obj.pk == user.pk or obj.is_staff or obj.is_superuser))
            )
        is_admin = (
            user.is_authenticated and user.agency_id is not None and user.role == Role.AGENCY_ADMIN
        )
        own_agency = obj is None or obj.agency_id == user.agency_id
        if action == UserAction.CHANGE_ACCESS:
            return is_admin and obj is not None and own_agency and obj.pk != user.pk
        return is_admin and own_agency

    @staticmethod
    def check(user: User, action: UserAction, obj: User | None = None) -> None:
        if not UserPolicy.allows(user, action, obj):
            raise PermissionDenied


class NotificationAction(models.TextChoices):
    OPEN = "open"  # the list, and opening one (which marks it read)


class NotificationPolicy:
    """A notification is its user's alone: anyone else gets 404. What it links to is decided
    again by the policy of the page it opens."""

    @staticmethod
    def visible_to(user: User) -> QuerySet[Notification]:
        if not user.is_authenticated:
            return Notification.objects.none()
        return Notification.objects.filter(user_id=user.pk)

    @staticmethod
    def allows(user: User, action: NotificationAction, obj: Notification | None = None) -> bool:
        return user.is_authenticated and (obj is None or obj.user_id == user.pk)

    @staticmethod
    def check(user: User, action: NotificationAction, obj: Notification | None = None) -> None:
        if not NotificationPolicy.allows(user, action, obj):
            raise PermissionDenied


def agency_kind(user: User) -> AgencyKind | None:
    """The kind of the user's agency (None without one): what a role may do can depend on it,
    a role being valid only in some kinds of agency (avhopp.models.ROLES_BY_AGENCY_KIND)."""
    if not user.is_authenticated or user.agency_id is None:
        return None
    return AgencyKind(user.agency.kind)
