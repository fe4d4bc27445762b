"""Permission-aware reads. Every read of a case, or of anything hanging off one, starts here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone

from avhopp.audit import audit_denied, audit_record
from avhopp.models import AuditAction, Role, User
from cases.identity import parse_identity_number
from cases.models import (
    ACTIVE_INTERVENTION_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseUserObjectPermission,
    Intervention,
    ProtectionLevel,
)
from cases.policy import CaseAccess, CaseAction

if TYPE_CHECKING:
    from datetime import date

VIEW_CASE = Q(permission__codename="view_case", permission__content_type__app_label="cases")


def _view_case_permission() -> Subquery:
    """The view_case permission's id, as a scalar subquery PostgreSQL evaluates once (an
    InitPlan), so the grant lookups below are plain index conditions on the permission tables."""
    return Subquery(
        Permission.objects.filter(codename="view_case", content_type__app_label="cases")
        .order_by()
        .values("pk")[:1]
    )


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Cases the user's agency (or the user alone) holds a grant for, in one SQL query.

    A share whose consent has run out is excluded here at read time, even before the
    periodic job has revoked the grant itself.

    The grants are one `id IN (group grants UNION ALL user grants)`: PostgreSQL turns that
    into a semi-join driven by the permission tables' (group|user, permission, object)
    indexes, so the cost follows the cases the user can see rather than all cases (an OR of
    two EXISTS cannot be turned into a join and costs a probe for every case).
    """
    if not user.is_authenticated or user.agency_id is None:
        return Case.objects.none()
    permission = _view_case_permission()
    group_grants = CaseGroupObjectPermission.objects.filter(
        permission_id=permission,
        group_id__in=User.groups.through.objects.filter(user_id=user.pk).values("group_id"),
    ).values("content_object_id")
    user_grants = CaseUserObjectPermission.objects.filter(
        permission_id=permission, user_id=user.pk
    ).values("content_object_id")
    expired_share = CaseShare.objects.filter(
        case=OuterRef("pk"),
        agency_id=user.agency_id,
        revoked_at__isnull=True,
        expires_on__lt=timezone.localdate(),
    )
    return Case.objects.filter(
        Q(pk__in=group_grants.union(user_grants, all=True)) & ~Exists(expired_share)
    )


def get_case_for_user(user: User, pk: int, action: CaseAction) -> CaseAccess:
    """404 for a case the user may not see, 403 for an action its role may not take."""
    case = (
        cases_visible_to(user)
        .select_related("individual", "owning_agency", "responsible")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        audit_denied(actor=user, object_type="cases.Case", object_id=pk, case_id=_as_id(pk))
        raise Http404
    share = None
    if case.owning_agency_id != user.agency_id:
        share = (
            CaseShare.objects.filter(case=case, agency_id=user.agency_id, revoked_at__isnull=True)
            .select_related("consent")
            .first()
        )
    access = CaseAccess(case=case, user=user, share=share)
    if not access.allows(action):
        audit_record(
            actor=user, action=AuditAction.ACCESS_DENIED, case_id=case.pk, reason=str(action)
        )
        raise PermissionDenied
    return access


def _as_id(pk: object) -> int | None:
    try:
        number = int(str(pk))
    except ValueError:
        return None
    return number if -(2**63) <= number < 2**63 else None


@dataclass(frozen=True)
class CaseFilters:
    query: str = ""
    status: str = ""
    threat_level: str = ""
    intervention_kind: str = ""
    overdue: str = ""  # "threat_review" or "follow_up"
    order: str = "-opened_at"


SORTABLE = {
    "opened_at": "opened_at",
    "-opened_at": "-opened_at",
    "name": "individual__last_name",
    "-name": "-individual__last_name",
    "status": "status",
    "review": "threat_review_due",
}


def identity_search_allowed(user: User) -> Q:
    """Protected people are found by number only by those who may reveal their identity."""
    may_reveal = Q(responsible=user)
    if user.role == Role.COORDINATOR:
        may_reveal |= Q(owning_agency_id=user.agency_id)
    return Q(individual__protection_level=ProtectionLevel.NONE) | may_reveal


def case_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    cases = cases_visible_to(user)
    query = filters.query.strip()
    if query:
        try:
            number = parse_identity_number(query, today=timezone.localdate())
        except ValidationError:  # not an identity number: search by name instead
            number = None
        if number:
            cases = cases.filter(Q(individual__personnummer=number) & identity_search_allowed(user))
        else:
            for word in query.split()[:4]:
                cases = cases.filter(
                    Q(individual__first_name__icontains=word)
                    | Q(individual__last_name__icontains=word)
                )
    if filters.status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.threat_level:
        cases = cases.filter(threat_level=filters.threat_level)
    if filters.intervention_kind:
        cases = cases.filter(
            Exists(Intervention.objects.filter(case=OuterRef("pk"), kind=filters.intervention_kind))
        )
    today = timezone.localdate()
    if filters.overdue == "threat_review":
        cases = cases.filter(threat_review_due__lt=today)
    elif filters.overdue == "follow_up":
        cases = cases.filter(Exists(_overdue_follow_ups(today)))
    return cases.order_by(SORTABLE.get(filters.order, "-opened_at"), "-pk")


def case_page(user: User, filters: CaseFilters, number: str | None, *, size: int) -> Page:
    """One page of the case list.

    The ids are paged first, without joins, and only that page's rows are then loaded with
    their person, worker and agency: the cost follows the page, not every visible case.
    """
    page = Paginator(case_list(user, filters).values_list("pk", flat=True), size).get_page(number)
    loaded = Case.objects.select_related("individual", "responsible", "owning_agency").in_bulk(
        list(page.object_list)
    )
    page.object_list = [loaded[pk] for pk in page.object_list]
    return page


def _overdue_follow_ups(today: date) -> QuerySet[Intervention]:
    return Intervention.objects.filter(
        case=OuterRef("pk"),
        status__in=ACTIVE_INTERVENTION_STATUSES,
        follow_up_date__lt=today,
    )


def start_page_lists(user: User) -> dict[str, QuerySet[Case]]:
    """The three lists on each role's start page."""
    today = timezone.localdate()
    visible = cases_visible_to(user).select_related("individual").filter(status__in=OPEN_STATUSES)
    mine = visible.filter(responsible=user) if user.role != Role.POLICE_OFFICER else visible
    return {
        "my_cases": mine.order_by("-opened_at")[:20],
        "overdue_reviews": visible.filter(threat_review_due__lt=today).order_by(
            "threat_review_due"
        )[:20],
        "overdue_follow_ups": visible.filter(Exists(_overdue_follow_ups(today))).order_by(
            "opened_at"
        )[:20],
    }
