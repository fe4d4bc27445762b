"""Permission-aware reads of referrals: through the case for the sender, or by address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING

from django.db.models import DateField, F, OrderBy, Q, QuerySet, Value
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.http import Http404
from django.utils import timezone

from avhopp.audit import audit_denied
from avhopp.models import Agency
from cases.policy import CaseAccess
from referrals.models import Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy, received_by
from referrals.presentation import OVERVIEW_COLUMNS

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


@dataclass(frozen=True)
class OverviewFilters:
    direction: str = ""  # "sent" by the user's agency, "received" by it, "" both
    status: str = ""
    agency_id: int | None = None  # the other party: recipient or sender
    order: str = "-date"


# The overview's sort orders. "date" is when the referral was sent, or made while it is not;
# "waiting" the whole days from sending to the answer, or to today; "case" the case reference
# (its year, then its number). Referrals not yet sent have waited for nobody and come last
# either way; the referral's id breaks ties, so a page never repeats or skips a row.
OVERVIEW_ORDERS: dict[str, tuple[OrderBy, ...]] = {
    "-date": (F("dated").desc(), F("pk").desc()),
    "date": (F("dated").asc(), F("pk").asc()),
    "-waiting": (F("waited").desc(nulls_last=True), F("pk").desc()),
    "waiting": (F("waited").asc(nulls_last=True), F("pk").asc()),
    "-case": (F("case_year").desc(), F("case_id").desc(), F("pk").desc()),
    "case": (F("case_year").asc(), F("case_id").asc(), F("pk").asc()),
}


def overview_agencies(user: User) -> QuerySet[Agency]:
    """The other ends of the referrals the user sees, for the overview's filter: never a list
    of every agency, which would name places the user has no part in (a relocation's)."""
    visible = referrals_visible_to(user)
    return (
        Agency.objects.filter(
            Q(pk__in=visible.values("to_agency_id")) | Q(pk__in=visible.values("from_agency_id"))
        )
        .exclude(pk=user.agency_id)
        .only("name")
    )


def referral_overview(user: User, filters: OverviewFilters) -> QuerySet[Referral]:
    """The referrals of the overview, filtered and sorted in the database, for paging."""
    referrals = referrals_visible_to(user)
    if filters.direction == "sent":
        referrals = referrals.filter(from_agency_id=user.agency_id)
    elif filters.direction == "received":
        referrals = referrals.filter(to_agency_id=user.agency_id)
    if filters.status:
        referrals = referrals.filter(status=filters.status)
    if filters.agency_id is not None:
        # Every visible referral is from or to the user's agency: the other end is this one.
        referrals = referrals.filter(
            Q(to_agency_id=filters.agency_id) | Q(from_agency_id=filters.agency_id)
        )
    today = Value(timezone.localdate(), output_field=DateField())
    return (
        referrals.annotate(
            dated=Coalesce("sent_at", "created_at"),
            # Calendar days in Swedish time, the same for the sort and the figure shown.
            waited=Coalesce(TruncDate("answered_at"), today) - TruncDate("sent_at"),
            # The year the reference shows: Case.reference formats opened_at as stored (UTC).
            case_year=ExtractYear("case__opened_at", tzinfo=UTC),
        )
        .select_related("case__individual", "from_agency", "to_agency")
        .only(*OVERVIEW_COLUMNS)
        .order_by(*OVERVIEW_ORDERS[filters.order])
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
