"""Who may see which cases, what each role may do with one, and who may read the log of who
read them. Every such decision is made here; views, selectors, services and templates ask.

A case is visible to a user when the user's agency holds a view grant on it (django-guardian,
granted to the agency's group): the owning municipality always, another agency while a share
lasts. What the user may then do with a visible case depends on the role and on whether the
user's agency owns the case; another agency reads only the sections its share covers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import Exists, Func, OuterRef, Q, QuerySet
from django.utils import timezone

from avhopp.audit import audit_record
from avhopp.models import AgencyKind, AuditAction, AuditEvent, Role, User
from avhopp.policy import agency_kind
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseTeamMember,
    ConsentScope,
    CoordinationAlert,
    JournalExtract,
    ProtectionLevel,
)


class CaseAction(models.TextChoices):
    LIST = "list"  # the case list, searches and the start page's lists (no case)
    EXPORT = "export"  # the case list as a file (no case)
    CREATE = "create"  # register a person and open a case for them (no case)
    VIEW = "view"
    READ_OWNER_DETAILS = "read_owner_details"  # motivation, agreement, consents and shares
    EDIT = "edit"
    READ_INTERVENTIONS = "read_interventions"
    READ_THREAT_LEVEL = "read_threat_level"
    READ_JOURNAL = "read_journal"
    VIEW_THREAT_DETAILS = "view_threat_details"
    ADD_THREAT_ASSESSMENT = "add_threat_assessment"
    SHARE = "share"  # also consents: what the share rests on
    REFER = "refer"
    RELOCATE = "relocate"  # request a coordinated move to another municipality
    REVEAL_IDENTITY = "reveal_identity"
    VIEW_ACCESS_LOG = "view_access_log"
    MANAGE_TEAM = "manage_team"  # add and remove the case's team members


# Reading a section of a case, by the consent scope a share must cover to read it.
SECTION_ACTIONS = {
    ConsentScope.INTERVENTIONS: CaseAction.READ_INTERVENTIONS,
    ConsentScope.THREAT_LEVEL: CaseAction.READ_THREAT_LEVEL,
    ConsentScope.JOURNAL: CaseAction.READ_JOURNAL,
}

_SECTION_SCOPES = {action: scope for scope, action in SECTION_ACTIONS.items()}

_CONTENT_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR, Role.POLICE_OFFICER})
_WRITER_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR})
_LOG_ROLES = frozenset({Role.LOG_REVIEWER, Role.COORDINATOR})

# Registering numbers that are already registered, in the window, before the user's
# registration form refuses every identity number: enough for a typing error or two, too few
# to probe whether a list of people is in the programme.
IDENTITY_COLLISION_LIMIT = 5
IDENTITY_COLLISION_WINDOW = timedelta(hours=1)


class CasePolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[Case]:
        """Cases the user's agency holds a view grant for, in one SQL query: `id IN (grants)`,
        which PostgreSQL runs as a semi-join on guardian's (group, permission, object) index."""
        if not _in_an_agency(user):
            return Case.objects.none()
        return Case.objects.filter(pk__in=view_grants(user).values("content_object_id"))

    @staticmethod
    def allows(
        user: User, action: CaseAction, case: Case | None = None, share: CaseShare | None = None
    ) -> bool:
        """`case` is a case visible to the user (None for LIST and CREATE), `share` the active
        share of it to the user's agency, if any."""
        role = user.role if _in_an_agency(user) else None
        if case is None:
            if action in (CaseAction.LIST, CaseAction.EXPORT):
                return role in _CONTENT_ROLES
            # Only a municipality's social services register people and own cases.
            return (
                action == CaseAction.CREATE
                and role in _WRITER_ROLES
                and agency_kind(user) == AgencyKind.SOCIAL_SERVICES
            )
        is_owner = case.owning_agency_id == user.agency_id
        if action == CaseAction.VIEW_ACCESS_LOG:
            return is_owner and role in _LOG_ROLES
        if role not in _CONTENT_ROLES:
            return False
        match action:
            case CaseAction.VIEW:
                return True
            case CaseAction.READ_OWNER_DETAILS:
                return is_owner
            case CaseAction.EDIT:
                return is_owner and role in _WRITER_ROLES
            case CaseAction.READ_INTERVENTIONS | CaseAction.READ_JOURNAL:
                return is_owner or _covers(share, action)
            case CaseAction.READ_THREAT_LEVEL:
                # The police read the assessments they are responsible for.
                return is_owner or _is_police(user) or _covers(share, action)
            case CaseAction.VIEW_THREAT_DETAILS | CaseAction.ADD_THREAT_ASSESSMENT:
                return _is_police(user)
            case CaseAction.SHARE | CaseAction.REFER | CaseAction.RELOCATE:
                return is_owner and role == Role.COORDINATOR
            case CaseAction.REVEAL_IDENTITY | CaseAction.MANAGE_TEAM:
                return is_owner and (case.responsible_id == user.pk or role == Role.COORDINATOR)
        return False

    @staticmethod
    def check(
        user: User, action: CaseAction, case: Case | None = None, share: CaseShare | None = None
    ) -> None:
        """PermissionDenied (403) unless allowed; a refused action on a case is logged."""
        if CasePolicy.allows(user, action, case, share):
            return
        if case is not None:
            audit_record(
                actor=user, action=AuditAction.ACCESS_DENIED, case_id=case.pk, reason=str(action)
            )
        raise PermissionDenied

    @staticmethod
    def require(user: User, action: CaseAction, case: Case | None = None) -> None:
        """The services' own check, whoever calls them: the case must be visible to the user
        and the action allowed."""
        if case is not None and not CasePolicy.visible_to(user).filter(pk=case.pk).exists():
            raise PermissionDenied
        CasePolicy.check(user, action, case)

    @staticmethod
    def needs_reason(user: User, case: Case) -> bool:
        """Owning-agency staff reading a case they are neither responsible for nor in the
        team of must say why (the team is asked last: one query, only for them)."""
        return (
            case.owning_agency_id == user.agency_id
            and case.responsible_id != user.pk
            and user.role in _WRITER_ROLES
            and not CaseTeamMember.objects.filter(case_id=case.pk, user_id=user.pk).exists()
        )

    @staticmethod
    def reads_threat_level(user: User) -> Q:
        """READ_THREAT_LEVEL as a condition on the cases a list shows (all visible to a user
        who may list them): the owning agency and the police read the threat level, another
        agency when its share covers it. Lists show, filter and export it only then."""
        if _is_police(user):
            return Q(pk__isnull=False)  # every case
        return _owned_or_covered(user, ConsentScope.THREAT_LEVEL)

    @staticmethod
    def reads_interventions(user: User) -> Q:
        """READ_INTERVENTIONS as a condition on visible cases: the owning agency, and another
        agency when its share covers the interventions (the police no more than others)."""
        return _owned_or_covered(user, ConsentScope.INTERVENTIONS)

    @staticmethod
    def reads_owner_details(user: User) -> Q:
        """READ_OWNER_DETAILS (consents, the file's own upkeep) as a condition on visible
        cases: the owning agency's."""
        return Q(owning_agency_id=user.agency_id)

    @staticmethod
    def owns_cases(user: User) -> bool:
        """Whether the user's agency can own cases the user reads: staff of a municipality's
        social services (the start page's reminders of consents and quiet files)."""
        return (
            _in_an_agency(user)
            and user.role in _CONTENT_ROLES
            and agency_kind(user) == AgencyKind.SOCIAL_SERVICES
        )

    @staticmethod
    def followed_by(user: User) -> Q:
        """The visible cases whose reminders the start page shows the user: an owning
        agency's coordinator follows the agency's cases, its social workers those they are
        responsible for, and the agencies cases are shared with (the police among them) every
        case shared with them."""
        if not CasePolicy.owns_cases(user):
            return Q(pk__isnull=False)
        if user.role == Role.COORDINATOR:
            return Q(owning_agency_id=user.agency_id)
        return Q(responsible_id=user.pk)

    @staticmethod
    def team_candidates(case: Case) -> QuerySet[User]:
        """Who may join the case's team: active users who may read the case already (their
        agency holds a view grant on it, less a share whose consent has run out, and their
        role reads case content), as `visible_to` and VIEW decide for each of them. Joining
        opens nothing more."""
        grant = CaseGroupObjectPermission.objects.filter(
            content_object_id=case.pk,
            group_id=OuterRef("agency__group_id"),
            permission_id=_permission_id(ContentType.objects.get_for_model(Case).pk, "view_case"),
        )
        expired_share = CaseShare.objects.filter(
            case_id=case.pk,
            agency_id=OuterRef("agency_id"),
            revoked_at__isnull=True,
            expires_on__lt=timezone.localdate(),
        )
        return (
            User.objects.filter(is_active=True, agency__isnull=False, role__in=_CONTENT_ROLES)
            .filter(Exists(grant))
            .exclude(Exists(expired_share))
        )

    @staticmethod
    def found_by_identity_number(user: User) -> Q:
        """Protected people are found by number only by those who may reveal their identity
        (the same rule as REVEAL_IDENTITY, as a condition on visible cases)."""
        may_reveal = Q(responsible=user)
        if user.role == Role.COORDINATOR:
            may_reveal |= Q(owning_agency_id=user.agency_id)
        return Q(individual__protection_level=ProtectionLevel.NONE) | may_reveal

    @staticmethod
    def may_try_identity_numbers(user: User) -> bool:
        """Whether the registration form may look up an identity number for this user: not
        after IDENTITY_COLLISION_LIMIT refusals within the window. The attempter's own events
        (no case id, see cases.services.identity_collision_record) are the record."""
        since = timezone.now() - IDENTITY_COLLISION_WINDOW
        refused = AuditEvent.objects.filter(
            user_id=user.pk,
            action=AuditAction.IDENTITY_COLLISION,
            case_id__isnull=True,
            occurred_at__gte=since,
        )
        return refused.count() < IDENTITY_COLLISION_LIMIT

    @staticmethod
    def follows_shared_cases(user: User) -> bool:
        """The police follow every case shared with them; the others the cases they are
        responsible for (the start page's own cases)."""
        return _is_police(user)


@dataclass(frozen=True)
class CaseAccess:
    """What the checkpoint (cases.selectors.get_case_for_user) hands a view: a visible case,
    its reader, and the active share of it to the reader's agency, if any."""

    case: Case
    user: User
    share: CaseShare | None

    def allows(self, action: CaseAction) -> bool:
        return CasePolicy.allows(self.user, action, self.case, self.share)

    def check(self, action: CaseAction) -> None:
        CasePolicy.check(self.user, action, self.case, self.share)


def view_grants(user: User) -> QuerySet[CaseGroupObjectPermission]:
    """The agency's view grants, less shares whose consent has run out (checked here at read
    time, even before the periodic job revokes the grant).

    Grants are made per agency (to its group), so the agency's group is read directly: a stray
    group membership or a user-level grant never widens what a user sees. Group and permission
    are plain values, not a join, so a list planned for its values (avhopp.database) estimates
    the grant set from the statistics and can choose between the list's index and the grants.
    """
    if not _in_an_agency(user):
        return CaseGroupObjectPermission.objects.none()
    expired_share = CaseShare.objects.filter(
        case_id=OuterRef("content_object_id"),
        agency_id=user.agency_id,
        revoked_at__isnull=True,
        expires_on__lt=timezone.localdate(),
    )
    return CaseGroupObjectPermission.objects.filter(
        group_id=user.agency.group_id,
        permission_id=_permission_id(ContentType.objects.get_for_model(Case).pk, "view_case"),
    ).exclude(Exists(expired_share))


@functools.cache
def _permission_id(content_type_id: int, codename: str) -> int:
    # Keyed by the content type's id, whose own cache Django clears whenever the content
    # types are (re)created, so a flushed test database never meets a stale id.
    return Permission.objects.values_list("pk", flat=True).get(
        content_type_id=content_type_id, codename=codename
    )


def _in_an_agency(user: User) -> bool:
    """Only a signed-in user of an agency sees cases: visibility is granted per agency."""
    return user.is_authenticated and user.agency_id is not None


def _is_police(user: User) -> bool:
    """A police officer of a police agency: the role alone is not enough, so a role given in
    the wrong kind of agency (which the database refuses too) opens nothing."""
    return (
        _in_an_agency(user)
        and user.role == Role.POLICE_OFFICER
        and agency_kind(user) == AgencyKind.POLICE
    )


def _owned_or_covered(user: User, scope: ConsentScope) -> Q:
    covering = CaseShare.objects.filter(
        case_id=OuterRef("pk"),
        agency_id=user.agency_id,
        revoked_at__isnull=True,
        **{f"scope_{scope.value}": True},
    )
    return Q(owning_agency_id=user.agency_id) | Q(Exists(covering))


def _covers(share: CaseShare | None, action: CaseAction) -> bool:
    return share is not None and share.covers(_SECTION_SCOPES[action])


class JournalExtractPolicy:
    """A journal extract is made for the reader who ordered it, from a journal they may read
    (CaseAction.READ_JOURNAL, asked by the views' checkpoint on every request): only they
    follow and download it, so a PDF of the journal never passes to someone else by a link."""

    @staticmethod
    def visible_to(user: User) -> QuerySet[JournalExtract]:
        if not _in_an_agency(user):
            return JournalExtract.objects.none()
        return JournalExtract.objects.filter(requested_by_id=user.pk)


class CoordinationAlertPolicy:
    """An alert names a case and the agency that tried to register its person: only the owning
    agency's coordinators read it (not its social workers, who may not share the case)."""

    @staticmethod
    def receives(user: User) -> bool:
        """Coordinators of a municipality's social services, which alone own cases."""
        return (
            _in_an_agency(user)
            and user.role == Role.COORDINATOR
            and agency_kind(user) == AgencyKind.SOCIAL_SERVICES
        )

    @staticmethod
    def visible_to(user: User) -> QuerySet[CoordinationAlert]:
        if not CoordinationAlertPolicy.receives(user):
            return CoordinationAlert.objects.none()
        return CoordinationAlert.objects.filter(
            case__owning_agency_id=user.agency_id, case__in=CasePolicy.visible_to(user)
        )


class AuditLogAction(models.TextChoices):
    SEARCH = "search"  # search and read the log, and export it
    REVIEW_SAMPLE = "review_sample"  # mark an event of the month's sample as reviewed


class _EqualsAny(Func):
    """`value = ANY(array)`, a condition."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = models.BooleanField()


class AuditLogPolicy:
    """Log reviewers read the events of their own agency's cases and of its staff. The log of
    one case is CaseAction.VIEW_ACCESS_LOG."""

    @staticmethod
    def visible_to(user: User) -> QuerySet[AuditEvent]:
        if not AuditLogPolicy.allows(user, AuditLogAction.SEARCH):
            return AuditEvent.objects.none()
        own_cases = AuditLogPolicy.own_cases(user)
        own: Q = Q(case_id__in=own_cases)
        if connection.vendor == "postgresql":
            # `case_id = ANY(ARRAY(subquery))`: the agency's cases read once, and the condition
            # a plain filter on each row. As `IN (subquery)` under OR it became a hashed
            # SubPlan, and the planner then read every visible event of a 2,000,000-event log
            # for a search by case (51,500 buffers, 1 s) that reads 700 buffers through the
            # indexes this way (EXPLAIN in bench/README.md).
            own = Q(_EqualsAny(models.F("case_id"), ArraySubquery(own_cases)))
        return AuditEvent.objects.filter(own | Q(agency_id=user.agency_id))

    @staticmethod
    def own_cases(user: User) -> QuerySet[Case]:
        """The ids of the cases whose every event the user's agency reads: those it owns."""
        return Case.objects.filter(owning_agency_id=user.agency_id).values("pk")

    @staticmethod
    def staff(user: User) -> QuerySet[User]:
        """The ids of the users whose events the user's agency reads: its own staff."""
        return User.objects.filter(agency_id=user.agency_id).values("pk")

    @staticmethod
    def allows(user: User, action: AuditLogAction) -> bool:
        return _in_an_agency(user) and user.role == Role.LOG_REVIEWER

    @staticmethod
    def cases_found_by_name(user: User) -> QuerySet[Case]:
        """Where a search of the log by a person's name looks: the cases the agency sees."""
        if not AuditLogPolicy.allows(user, AuditLogAction.SEARCH):
            return Case.objects.none()
        return CasePolicy.visible_to(user)

    @staticmethod
    def with_case_log_access(user: User, cases: QuerySet[Case]) -> QuerySet[Case]:
        """The cases, each marked `visible` when the user's agency sees it, for
        `opens_case_log` on many cases (a page of log rows) in the query that loads them."""
        grants = view_grants(user).filter(content_object_id=OuterRef("pk"))
        return cases.annotate(visible=Exists(grants))

    @staticmethod
    def opens_case_log(user: User, case: Case) -> bool:
        """Whether "who has read this case" opens for the user, exactly as the checkpoint
        decides it (a visible case and CaseAction.VIEW_ACCESS_LOG), for a case loaded through
        `with_case_log_access`: log rows link to it only then, never to a 403 or a 404."""
        return bool(case.visible) and CasePolicy.allows(user, CaseAction.VIEW_ACCESS_LOG, case)

    @staticmethod
    def check(user: User, action: AuditLogAction) -> None:
        if not AuditLogPolicy.allows(user, action):
            raise PermissionDenied

    @staticmethod
    def require(user: User, action: AuditLogAction, event: AuditEvent) -> None:
        """The services' own check: the action allowed, on an event the user reads."""
        AuditLogPolicy.check(user, action)
        visible = AuditLogPolicy.visible_to(user)
        if not visible.filter(pk=event.pk, occurred_at=event.occurred_at).exists():
            raise PermissionDenied
