"""Permission-aware reads of referrals: through the case for the sender, or by address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from avhopp.audit import audit_denied
from cases.policy import CONTENT_ROLES, CaseAccess
from cases.selectors import cases_visible_to
from referrals.models import DELIVERED_STATUSES, Referral

if TYPE_CHECKING:
    from avhopp.models import User


def referrals_visible_to(user: User) -> QuerySet[Referral]:
    """The sending agency's staff see its referrals on cases they can see; the receiving
    agency sees what was sent to it, without seeing the rest of the case."""
    if not user.is_authenticated or user.role not in CONTENT_ROLES:
        return Referral.objects.none()
    sent = Q(from_agency_id=user.agency_id) & Exists(
        cases_visible_to(user).filter(pk=OuterRef("case_id"))
    )
    return Referral.objects.filter(sent | _received_by(user.agency_id))


def referrals_of_case(access: CaseAccess) -> list[Referral]:
    """The case's referrals for a reader already let into the case: the same rows as
    `referrals_visible_to` restricted to the case, without asking again whether the case
    is visible (that subquery was the detail page's slowest query)."""
    user = access.user
    if user.role not in CONTENT_ROLES:
        return []
    referrals = Referral.objects.filter(
        Q(from_agency_id=user.agency_id) | _received_by(user.agency_id), case_id=access.case.pk
    )
    # What the case page shows of each referral: its name, recipient and status.
    return list(
        referrals.select_related("to_agency").only(
            "kind", "created_at", "status", "external_recipient", "to_agency__name"
        )
    )


def _received_by(agency_id: int) -> Q:
    return Q(to_agency_id=agency_id, status__in=DELIVERED_STATUSES)


def get_referral_for_user(user: User, pk: int) -> Referral:
    referral = (
        referrals_visible_to(user)
        .select_related("case__individual", "from_agency", "to_agency", "created_by")
        .filter(pk=pk)
        .first()
    )
    if referral is None:
        audit_denied(actor=user, object_type="referrals.Referral", object_id=pk, case_id=None)
        raise Http404
    return referral
