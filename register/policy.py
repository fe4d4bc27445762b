"""Who reads the national register's overview and starts a build: the national coordinator,
and nobody else. Nobody reads a record: researchers get extracts (research app), built from
the register with new ids, never its pseudonyms."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from avhopp.models import AgencyKind, Role
from avhopp.policy import agency_kind
from register.models import RegisterRecord

if TYPE_CHECKING:
    from avhopp.models import User


class RegisterAction(models.TextChoices):
    OVERVIEW = "overview"  # counts, builds and double registrations, never a record
    BUILD = "build"
    DECIDE_EXTRACTS = "decide_extracts"  # approve or refuse researchers' requests


class RegisterPolicy:
    @staticmethod
    def allows(user: User, action: RegisterAction) -> bool:
        return (
            agency_kind(user) == AgencyKind.NATIONAL_COORDINATION
            and user.role == Role.NATIONAL_COORDINATOR
        )

    @staticmethod
    def check(user: User, action: RegisterAction) -> None:
        if not RegisterPolicy.allows(user, action):
            raise PermissionDenied

    @staticmethod
    def visible_to(user: User) -> QuerySet[RegisterRecord]:
        """The records the user's overview counts (aggregated only)."""
        if not RegisterPolicy.allows(user, RegisterAction.OVERVIEW):
            return RegisterRecord.objects.none()
        return RegisterRecord.objects.all()
