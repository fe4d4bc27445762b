"""Who may see which referrals and what they may do with one. Every such decision is made here.

The sending municipality's staff see the referrals of the cases they can see; the receiving
agency sees what was sent to it, and nothing else of the case, and only while the referral's
grounds hold: a current consent naming that agency, or a recorded legal basis with a citation.
A withdrawn or expired consent ends the recipient's access at once, as it ends a share. What
may be put in a referral is the case's policy (CaseAction.REFER) and the consent's scope
(referrals.services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from cases.policy import CaseAction, CasePolicy
from referrals.models import DELIVERED_STATUSES, Referral

if TYPE_CHECKING:
    from avhopp.models import User


class ReferralAction(models.TextChoices):
    LIST = "list"  # the referral overview (no referral)
    VIEW = "view"  # also its status and its document
    SEND = "send"  # send (after reviewing the document), or queue again after a failure
    ANSWER = "answer"
    # See the document's SHA-256 checksum. It is of use only to whoever may have to tell
    # whether a copy of the PDF is the one that was sent: the sending coordinators, who
    # stand behind it, and the receiving agency, which holds it. Anyone else reading the
    # referral (a social worker of the owning agency) is not shown it.
    VERIFY = "verify"


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
            case ReferralAction.VERIFY:
                return referral.to_agency_id == user.agency_id or ReferralPolicy.allows(
                    user, ReferralAction.SEND, referral
                )
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
    """What an agency has been sent: only referrals actually delivered to it, while their
    grounds hold for it."""
    return Q(to_agency_id=agency_id, status__in=DELIVERED_STATUSES) & on_current_grounds(agency_id)


def on_current_grounds(agency_id: int) -> Q:
    """A consent naming the agency that is current today, or a legal basis with a citation.
    Decided in the query itself, so a withdrawal closes the referral before any job runs."""
    today = timezone.localdate()
    consent = (
        Q(consent__recipient_id=agency_id)
        & Q(consent__withdrawn_at__isnull=True)
        & Q(consent__given_on__lte=today)
        & (Q(consent__valid_until__isnull=True) | Q(consent__valid_until__gte=today))
    )
    legal_basis = Q(consent__isnull=True) & ~Q(legal_basis="") & ~Q(legal_basis_citation="")
    return consent | legal_basis


def grounds_hold(referral: Referral) -> bool:
    """Whether the referral may still go out: its consent is current, or it rests on a legal
    basis with a citation (a SIP always rests on its consent)."""
    if referral.consent_id is not None:
        return referral.consent.is_current()
    return bool(referral.legal_basis and referral.legal_basis_citation.strip())
