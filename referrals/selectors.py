"""Permission-aware reads of referrals: through the case for the sender, or by address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from avhopp.audit import audit_denied
from cases.policy import CaseAccess
from referrals.models import Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy, received_by

if TYPE_CHECKING:
    from avhopp.models import User


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    return ReferralPolicy.visible_to(user)


def referrals_of_case(access: CaseAccess) -> list[Referral]:
    """The case's referrals for a reader already let into the case: the same rows as
    `referrals_visible_to` restricted to the case, without asking again whether the case
    is visible (that subquery was the detail page's slowest query)."""
    user = access.user
    if not ReferralPolicy.allows(user, ReferralAction.LIST):
        return []
    referrals = Referral.objects.filter(
        Q(from_agency_id=user.agency_id) | received_by(user.agency_id), case_id=access.case.pk
    )
    # What the case page shows of each referral: its name, recipient and status.
    return list(
        referrals.select_related("to_agency").only(
            "kind", "created_at", "status", "external_recipient", "to_agency__name"
        )
    )


def get_referral_for_user(user: User, pk: int, action: ReferralAction) -> Referral:
    """404 for a referral the user may not see, 403 for an action it may not take."""
    referral = (
        referrals_visible_to(user)
        .select_related("case__individual", "from_agency", "to_agency", "created_by")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        audit_denied(actor=user, object_type="referrals.Referral", object_id=pk, case_id=None)
        raise Http404
    ReferralPolicy.check(user, action, referral)
    return referral


# Referrals each start page list shows; one more is read to know whether there are more.
WAITING_ROWS = 10


def referrals_waiting(user: User) -> tuple[list[Referral], list[Referral]]:
    """Referrals sent and not yet answered, the longest waiting first: those the user's agency
    received, and those it sent, each at most WAITING_ROWS + 1 rows."""
    waiting = referrals_visible_to(user).filter(status=ReferralStatus.SENT)
    waiting = waiting.select_related("from_agency", "to_agency", "case")
    oldest = ("sent_at", "pk")
    received = waiting.filter(to_agency_id=user.agency_id).order_by(*oldest)
    sent = waiting.filter(from_agency_id=user.agency_id).order_by(*oldest)
    return list(received[: WAITING_ROWS + 1]), list(sent[: WAITING_ROWS + 1])
