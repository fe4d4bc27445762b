"""Who may see which referrals and what they may do with one. Every such decision is made here.

The sending municipality's staff see the referrals of the cases they can see; the receiving
agency sees what was sent to it, and nothing else of the case. What may be put in a referral
is the case's policy (CaseAction.REFER) and the consent's scope (referrals.services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet

from cases.policy import CaseAction, CasePolicy
from referrals.models import DELIVERED_STATUSES, Referral

if TYPE_CHECKING:
    from avhopp.models import User


class ReferralAction(models.TextChoices):
    LIST = "list"  # the referral overview (no referral)
    VIEW = "view"  # also its status and its document
    SEND = "send"  # send, or queue again after a failure
    ANSWER = "answer"


class ReferralPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[Referral]:
        if not ReferralPolicy.allows(user, ReferralAction.LIST):
            return Referral.objects.none()
        sent = Q(from_agency_id=user.agency_id) & Exists(
            CasePolicy.visible_to(user).filter(pk=OuterRef("case_id"))
        )
        return Referral.objects.filter(sent | received_by(user.agency_id))

    @staticmethod
    def allows(user: User, action: ReferralAction, referral: Referral | None = None) -> bool:
        """`referral` is one visible to the user (None for LIST)."""
        if not CasePolicy.allows(user, CaseAction.LIST):
            return False
        match action:
            case ReferralAction.LIST | ReferralAction.VIEW:
                return True
            case ReferralAction.SEND:
                # Only the case's own coordinators send what their agency wrote.
                return referral.from_agency_id == user.agency_id and CasePolicy.allows(
                    user, CaseAction.REFER, referral.case
                )
            case ReferralAction.ANSWER:
                return referral.to_agency_id == user.agency_id
        return False

    @staticmethod
    def check(user: User, action: ReferralAction, referral: Referral | None = None) -> None:
        if not ReferralPolicy.allows(user, action, referral):
            raise PermissionDenied

    @staticmethod
    def require(user: User, action: ReferralAction, referral: Referral) -> None:
        """The services' own check, whoever calls them: the referral must be visible to the
        user and the action allowed."""
        if not ReferralPolicy.visible_to(user).filter(pk=referral.pk).exists():
            raise PermissionDenied
        ReferralPolicy.check(user, action, referral)


def received_by(agency_id: int) -> Q:
    """What an agency has been sent: only referrals actually delivered to it."""
    return Q(to_agency_id=agency_id, status__in=DELIVERED_STATUSES)
