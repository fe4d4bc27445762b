"""Who requests, decides on and downloads research extracts. Every such decision is made here.

A researcher (of a research principal) requests extracts and reads their own requests; the
national coordinators of the coordination a request names read it and approve or refuse it;
only the requester downloads the extract, for 24 hours after it was built. Nobody else sees a
request: 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from avhopp.models import AgencyKind, Role
from avhopp.policy import agency_kind
from register.policy import RegisterAction, RegisterPolicy
from research.models import ExtractRequest, ExtractStatus

if TYPE_CHECKING:
    from avhopp.models import User


class ExtractAction(models.TextChoices):
    LIST = "list"  # the list of requests (no request)
    REQUEST = "request"  # a new request (no request)
    VIEW = "view"
    DECIDE = "decide"
    DOWNLOAD = "download"


def _researcher(user: User) -> bool:
    return agency_kind(user) == AgencyKind.RESEARCH and user.role == Role.RESEARCHER


def _decider(user: User) -> bool:
    return RegisterPolicy.allows(user, RegisterAction.DECIDE_EXTRACTS)


class ExtractPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[ExtractRequest]:
        if _researcher(user):
            return ExtractRequest.objects.filter(requested_by_id=user.pk)
        if _decider(user):
            return ExtractRequest.objects.filter(coordinating_agency_id=user.agency_id)
        return ExtractRequest.objects.none()

    @staticmethod
    def allows(user: User, action: ExtractAction, extract: ExtractRequest | None = None) -> bool:
        """`extract` is one visible to the user (None for LIST and REQUEST)."""
        if extract is None:
            if action == ExtractAction.LIST:
                return _researcher(user) or _decider(user)
            return action == ExtractAction.REQUEST and _researcher(user)
        match action:
            case ExtractAction.VIEW:
                return True
            case ExtractAction.DECIDE:
                return (
                    _decider(user)
                    and extract.coordinating_agency_id == user.agency_id
                    and extract.status == ExtractStatus.REQUESTED
                )
            case ExtractAction.DOWNLOAD:
                return (
                    _researcher(user)
                    and extract.requested_by_id == user.pk
                    and extract.status == ExtractStatus.READY
                    and extract.expires_at is not None
                    and timezone.now() < extract.expires_at
                )
        return False

    @staticmethod
    def check(user: User, action: ExtractAction, extract: ExtractRequest | None = None) -> None:
        if not ExtractPolicy.allows(user, action, extract):
            raise PermissionDenied
