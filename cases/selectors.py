"""Permission-aware reads. Every read of a case, or of anything hanging off one, starts here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models import Case as SqlCase
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from avhopp.audit import audit_denied
from avhopp.models import User
from cases.identity import parse_identity_number
from cases.models import (
    ACTIVE_INTERVENTION_STATUSES,
    OPEN_STATUSES,
    Case,
    CaseShare,
    CaseTeamMember,
    Consent,
    Intervention,
    JournalEntry,
    JournalExtract,
)
from cases.policy import CaseAccess, CaseAction, CasePolicy, JournalExtractPolicy, view_grants
from cases.presentation import CASE_ROW_COLUMNS


def cases_visible_to(user: User) -> QuerySet[Case]:
    """Every read of cases starts from the policy's visible set."""
    return CasePolicy.visible_to(user)


def visible_case_ids(user: User) -> QuerySet:
    """The ids of every case `cases_visible_to(user)` holds, newest case first, read from
    guardian's (group, permission, object) index alone: every grant row points at an
    existing case, so paging and counting the unfiltered list never reads the cases, and a
    deep page costs its offset in index entries, not a sort of every visible case."""
    return (
        view_grants(user).order_by("-content_object_id").values_list("content_object_id", flat=True)
    )


def get_case_for_user(user: User, pk: int, action: CaseAction) -> CaseAccess:
    """404 for a case the user may not see, 403 for an action its role may not take."""
    try:
        # get(), not first(): one row at most, so no ORDER BY to compile and plan.
        case = (
            cases_visible_to(user)
            .select_related("individual", "owning_agency", "responsible")
            .get(pk=pk)
        )
    except Case.DoesNotExist:
        audit_denied(actor=user, object_type="cases.Case", object_id=pk, case_id=_as_id(pk))
        raise Http404 from None
    share = None
    if case.owning_agency_id != user.agency_id:
        share = (
            CaseShare.objects.filter(case=case, agency_id=user.agency_id, revoked_at__isnull=True)
            .select_related("consent")
            .first()
        )
    access = CaseAccess(case=case, user=user, share=share)
    access.check(action)
    return access


def sharing_of_case(access: CaseAccess) -> tuple[list[Consent], list[CaseShare]]:
    """The person's consents and the case's active shares: the owning agency's to manage,
    and no one else's to see."""
    if not access.allows(CaseAction.READ_OWNER_DETAILS):
        return [], []
    consents = Consent.objects.filter(individual_id=access.case.individual_id)
    shares = CaseShare.objects.filter(case_id=access.case.pk, revoked_at__isnull=True)
    return (
        list(consents.select_related("recipient").only(*_SCOPE_COLUMNS, *_CONSENT_COLUMNS)),
        list(shares.select_related("agency").only(*_SCOPE_COLUMNS, *_SHARE_COLUMNS).order_by("pk")),
    )


JOURNAL_EXTRACTS_SHOWN = 3  # the reader's newest extracts of the case, on the case page


def journal_extracts_of(access: CaseAccess) -> QuerySet[JournalExtract]:
    """The reader's own journal extracts of the case, newest first; none for a reader who
    may not read the journal."""
    if not access.allows(CaseAction.READ_JOURNAL):
        return JournalExtract.objects.none()
    return JournalExtractPolicy.visible_to(access.user).filter(case_id=access.case.pk)


def get_journal_extract(access: CaseAccess, pk: int) -> JournalExtract:
    """404 for an extract of another case or another reader."""
    try:
        return journal_extracts_of(access).get(pk=pk)
    except JournalExtract.DoesNotExist:
        raise Http404 from None


# What the case page shows of each: to whom, for what, and on what grounds.
_SCOPE_COLUMNS = ("scope_interventions", "scope_threat_level", "scope_journal")
_CONSENT_COLUMNS = (
    "given_on",
    "valid_until",
    "document_reference",
    "relocation",
    "withdrawn_at",
    "recipient__name",
)
_SHARE_COLUMNS = ("legal_basis", "agency__name")


# What the team section shows of each member: not the password hash and login times.
_TEAM_COLUMNS = (
    "case_id",
    "added_at",
    "user__username",
    "user__first_name",
    "user__last_name",
    "user__role",
    "user__agency__name",
)


def case_team(access: CaseAccess) -> list[CaseTeamMember]:
    """The case's team, for whoever reads the case, in the order they joined."""
    members = CaseTeamMember.objects.filter(case_id=access.case.pk)
    return list(
        members.select_related("user__agency").only(*_TEAM_COLUMNS).order_by("added_at", "pk")
    )


def team_candidates(access: CaseAccess) -> QuerySet[User]:
    """Whom the team may take in: those the policy allows, less the responsible worker and
    the members."""
    case = access.case
    return (
        CasePolicy.team_candidates(case)
        .exclude(pk=case.responsible_id)
        .exclude(case_teams__case_id=case.pk)
        .select_related("agency")
        .order_by("agency__name", "last_name", "first_name", "pk")
    )


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
    order: str = "-number"

    @property
    def narrows(self) -> bool:
        """Whether any filter leaves cases out (the order alone does not)."""
        return self != CaseFilters(order=self.order)


# The default is the newest case first: case numbers (ids) are the order of guardian's
# grant index, so that list is paged on the index alone (visible_case_ids).
SORTABLE = {
    "-number": ("-pk",),
    "-opened_at": ("-opened_at", "-pk"),
    "opened_at": ("opened_at", "-pk"),
    "name": ("individual__last_name", "-pk"),
    "-name": ("-individual__last_name", "-pk"),
    "status": ("status", "-pk"),
    "review": ("threat_review_due", "-pk"),
}


def _ordered(cases: QuerySet[Case], user: User, order: str) -> QuerySet[Case]:
    fields = SORTABLE.get(order, SORTABLE[CaseFilters.order])
    if order == "review":
        # Never an oracle for review dates the user may not read: those cases sort as undated.
        due, *rest = fields
        readable = SqlCase(
            When(CasePolicy.reads_threat_level(user), then=F(due)), output_field=DateField()
        )
        return cases.order_by(readable.asc(nulls_last=True), *rest)
    return cases.order_by(*fields)


def named(words: list[str]) -> Q:
    """Cases whose person's first or last name contains each word (the trigram index of
    migration 0003 serves it; callers filter by `cases_visible_to`)."""
    condition = Q()
    for word in words:
        condition &= Q(individual__first_name__icontains=word) | Q(
            individual__last_name__icontains=word
        )
    return condition


def case_list(user: User, filters: CaseFilters) -> QuerySet[Case]:
    cases = cases_visible_to(user)
    query = filters.query.strip()
    if query:
        try:
            number = parse_identity_number(query, today=timezone.localdate())
        except ValidationError:  # not an identity number: search by name instead
            number = None
        if number:
            found_by_number = CasePolicy.found_by_identity_number(user)
            cases = cases.filter(Q(individual__personnummer=number) & found_by_number)
        else:
            cases = cases.filter(named(query.split()[:4]))
    if filters.status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.threat_level or filters.overdue == "threat_review":
        # Never an oracle for a threat level the user may not read.
        cases = cases.filter(CasePolicy.reads_threat_level(user))
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
        # Nor for interventions the user may not read.
        cases = cases.filter(CasePolicy.reads_interventions(user))
        cases = cases.filter(Exists(_overdue_follow_ups(today)))
    return _ordered(cases, user, filters.order)


# A narrowed list up to this many cases is read in one query and paged in Python.
IN_MEMORY_IDS = 1000


def case_page(user: User, filters: CaseFilters, number: str | None, *, size: int) -> Page:
    """One page of the case list.

    Only ids are paged, without joins, and only that page's rows are then loaded with their
    person, worker and agency: the cost follows the page, not every visible case. The
    unfiltered list in its default order is paged and counted on the permission index
    alone. A narrowed list (a search, a filter) is usually short: all its ids come in one
    query and are counted and paged in Python, rather than a count and a page query that
    would both repeat the search.
    """
    if filters == CaseFilters():
        ids: QuerySet | list[int] = visible_case_ids(user)
    else:
        ids = case_list(user, filters).values_list("pk", flat=True)
        if filters.narrows:
            first = list(ids[: IN_MEMORY_IDS + 1])
            if len(first) <= IN_MEMORY_IDS:
                ids = first
    page = Paginator(ids, size).get_page(number)
    page.object_list = cases_for_rows(user, list(page.object_list))
    return page


def cases_for_rows(user: User, ids: list[int]) -> list[Case]:
    """The cases of `ids` (ids read from the user's visible cases), in that order, with what
    their list rows show (cases.presentation.case_rows) and nothing more, and `reads_threat`:
    whether the user may read each one's threat level, decided in the same query."""
    reads_threat = ExpressionWrapper(
        CasePolicy.reads_threat_level(user), output_field=BooleanField()
    )
    loaded = (
        Case.objects.select_related("individual", "responsible", "owning_agency")
        .only(*CASE_ROW_COLUMNS)
        .annotate(reads_threat=reads_threat)
        .in_bulk(ids)
    )
    return [loaded[pk] for pk in ids]


# The most cases one export of the list holds: more is refused with a message, never cut
# short, since a file cut short would look like the whole list.
EXPORT_MAX_CASES = 10_000


def case_export_ids(user: User, filters: CaseFilters) -> list[int] | None:
    """The ids of every case the list shows with these filters, in its order, in one query;
    None when there are more than EXPORT_MAX_CASES."""
    if filters == CaseFilters():
        ids: QuerySet = visible_case_ids(user)
    else:
        ids = case_list(user, filters).values_list("pk", flat=True)
    found = list(ids[: EXPORT_MAX_CASES + 1])
    return found if len(found) <= EXPORT_MAX_CASES else None


def _overdue_follow_ups(today: date) -> QuerySet[Intervention]:
    return Intervention.objects.filter(
        case=OuterRef("pk"),
        status__in=ACTIVE_INTERVENTION_STATUSES,
        follow_up_date__lt=today,
    )


# Rows each start page list shows; one more is read to know whether there are more.
START_ROWS = 10
# How far ahead the start page reminds of threat reviews and follow-ups, and of consents
# running out; and how long a file may go without a journal entry before it is listed.
DUE_SOON = timedelta(days=14)
CONSENT_ENDS_SOON = timedelta(days=30)
QUIET_FOR = timedelta(days=30)


def start_page_lists(user: User) -> dict[str, list]:
    """The start page's lists of what the user must do, soonest first, each at most
    START_ROWS + 1 rows and one query: the cases the user follows (CasePolicy.followed_by),
    each list only where the user may read what it shows."""
    today = timezone.localdate()
    visible = cases_visible_to(user).select_related("individual").filter(status__in=OPEN_STATUSES)
    mine = visible if CasePolicy.follows_shared_cases(user) else visible.filter(responsible=user)
    followed = visible.filter(CasePolicy.followed_by(user))
    rows = START_ROWS + 1
    lists: dict[str, list] = {
        "my_cases": list(mine.order_by("-opened_at", "-pk")[:rows]),
        "threat_reviews": list(
            followed.filter(CasePolicy.reads_threat_level(user))
            .filter(threat_review_due__lte=today + DUE_SOON)
            .order_by("threat_review_due", "pk")[:rows]
        ),
        "follow_ups": list(
            Intervention.objects.filter(
                case__in=followed.filter(CasePolicy.reads_interventions(user)).values("pk"),
                status__in=ACTIVE_INTERVENTION_STATUSES,
                follow_up_date__lte=today + DUE_SOON,
            )
            .select_related("case__individual")
            .order_by("follow_up_date", "pk")[:rows]
        ),
    }
    if CasePolicy.owns_cases(user):
        owned = followed.filter(CasePolicy.reads_owner_details(user))
        lists["consents"] = list(_consents_ending(owned, today)[:rows])
        lists["quiet"] = list(_quiet(owned)[:rows])
    return lists


def _consents_ending(cases: QuerySet[Case], today: date) -> QuerySet[Case]:
    """Cases whose person has a consent running out within CONSENT_ENDS_SOON, with the
    first such consent's end and recipient."""
    ending = Consent.objects.filter(
        individual_id=OuterRef("individual_id"),
        withdrawn_at__isnull=True,
        valid_until__gte=today,
        valid_until__lte=today + CONSENT_ENDS_SOON,
    ).order_by("valid_until", "pk")
    return (
        cases.annotate(
            consent_ends=Subquery(ending.values("valid_until")[:1]),
            consent_recipient=Subquery(ending.values("recipient__name")[:1]),
        )
        .filter(consent_ends__isnull=False)
        .order_by("consent_ends", "pk")
    )


def _quiet(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases without a journal entry for QUIET_FOR (since they opened, if they have none),
    the longest quiet first."""
    latest = JournalEntry.objects.filter(case_id=OuterRef("pk")).order_by("-created_at")
    return (
        cases.annotate(
            last_activity=Coalesce(Subquery(latest.values("created_at")[:1]), F("opened_at"))
        )
        .filter(last_activity__lt=timezone.now() - QUIET_FOR)
        .order_by("last_activity", "pk")
    )
