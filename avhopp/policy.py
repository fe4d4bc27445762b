"""Who may administer which users. Every such decision is made here.

An agency admin manages the users of their own agency, and no one else's; nobody else manages
users in the application (support staff use the Django admin, which shows no case content).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from avhopp.models import Role, User


class UserAction(models.TextChoices):
    MANAGE = "manage"  # list, create, change and end the sessions of users


class UserPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[User]:
        if not UserPolicy.allows(user, UserAction.MANAGE):
            return User.objects.none()
        return User.objects.filter(agency_id=user.agency_id)

    @staticmethod
    def allows(user: User, action: UserAction, obj: User | None = None) -> bool:
        """`obj` None: the action in general (the user list, creating a user)."""
        is_admin = (
            user.is_authenticated and user.agency_id is not None and user.role == Role.AGENCY_ADMIN
        )
        return is_admin and (obj is None or obj.agency_id == user.agency_id)

    @staticmethod
    def check(user: User, action: UserAction, obj: User | None = None) -> None:
        if not UserPolicy.allows(user, action, obj):
            raise PermissionDenied
