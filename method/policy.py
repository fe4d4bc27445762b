"""Who may adapt which checklist, who manages the delegation order, and whose delegation covers
a decision. Every such decision is made here. The method work on a case (its checklist,
agreement and outcomes) is the case's own: cases.policy decides it through the case actions
READ_OWNER_DETAILS (read) and EDIT (write).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet

from avhopp.models import AgencyKind, Role, User
from avhopp.policy import agency_kind
from method.models import ChecklistTemplate, Delegation

if TYPE_CHECKING:
    from cases.hooks import DecisionKind


class MethodAction(models.TextChoices):
    READ_TEMPLATES = "read_templates"  # the checklist templates and their guidance
    EDIT_TEMPLATE = "edit_template"  # copy, adapt and publish a template
    MANAGE_DELEGATIONS = "manage_delegations"  # the agency's delegation order


# A municipality's coordinators lead its method work; Socialstyrelsen's keep the national
# default, which the agencies develop and spread.
_TEMPLATE_EDITORS = {
    AgencyKind.SOCIAL_SERVICES: frozenset({Role.COORDINATOR}),
    AgencyKind.SOCIALSTYRELSEN: frozenset({Role.COORDINATOR}),
}
_TEMPLATE_READERS = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR})
# Those who take decisions on a case: its writers (cases.policy).
_DELEGATE_ROLES = frozenset({Role.SOCIAL_WORKER, Role.COORDINATOR})


def _in_an_agency(user: User) -> bool:
    return user.is_authenticated and user.agency_id is not None


class MethodPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[ChecklistTemplate]:
        """The national default and the user's own municipality's copy."""
        if not MethodPolicy.allows(user, MethodAction.READ_TEMPLATES):
            return ChecklistTemplate.objects.none()
        return ChecklistTemplate.objects.filter(Q(agency__isnull=True) | Q(agency=user.agency_id))

    @staticmethod
    def editable_by(user: User) -> QuerySet[ChecklistTemplate]:
        """The template the user's agency keeps: Socialstyrelsen the national default, a
        municipality its own copy."""
        if not MethodPolicy.allows(user, MethodAction.EDIT_TEMPLATE):
            return ChecklistTemplate.objects.none()
        if MethodPolicy.edits_national(user):
            return ChecklistTemplate.objects.filter(agency__isnull=True)
        return ChecklistTemplate.objects.filter(agency_id=user.agency_id)

    @staticmethod
    def allows(user: User, action: MethodAction, template: ChecklistTemplate | None = None) -> bool:
        """`template` None for EDIT_TEMPLATE: the template the user's agency edits."""
        if not _in_an_agency(user):
            return False
        kind = agency_kind(user)
        match action:
            case MethodAction.READ_TEMPLATES:
                return kind in _TEMPLATE_EDITORS and user.role in _TEMPLATE_READERS
            case MethodAction.EDIT_TEMPLATE:
                if user.role not in _TEMPLATE_EDITORS.get(kind, frozenset()):
                    return False
                if template is None:
                    return True
                if kind == AgencyKind.SOCIALSTYRELSEN:
                    return template.is_national
                return template.agency_id == user.agency_id
            case MethodAction.MANAGE_DELEGATIONS:
                return user.role == Role.AGENCY_ADMIN and kind == AgencyKind.SOCIAL_SERVICES
        return False

    @staticmethod
    def check(user: User, action: MethodAction, template: ChecklistTemplate | None = None) -> None:
        if not MethodPolicy.allows(user, action, template):
            raise PermissionDenied

    @staticmethod
    def edits_national(user: User) -> bool:
        return agency_kind(user) == AgencyKind.SOCIALSTYRELSEN


class DelegationPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[Delegation]:
        """The agency admin's own agency's delegation order."""
        if not MethodPolicy.allows(user, MethodAction.MANAGE_DELEGATIONS):
            return Delegation.objects.none()
        return Delegation.objects.filter(agency_id=user.agency_id)

    @staticmethod
    def delegation_for(user: User, kind: DecisionKind, on: date) -> Delegation | None:
        """The line of the user's own agency's delegation order that lets them take the
        decision on the day, if any; a delegation follows the agency, not the person."""
        if not _in_an_agency(user) or not user.is_active:
            return None
        return (
            Delegation.objects.filter(
                agency_id=user.agency_id,
                user_id=user.pk,
                kind=kind,
                valid_from__lte=on,
                ended_at__isnull=True,
            )
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=on))
            .order_by("-valid_from", "-pk")
            .first()
        )

    @staticmethod
    def delegates_for(user: User) -> QuerySet[User]:
        """Whom the agency admin may delegate to: the writers of cases in their municipality."""
        if not MethodPolicy.allows(user, MethodAction.MANAGE_DELEGATIONS):
            return User.objects.none()
        return User.objects.filter(
            agency_id=user.agency_id, is_active=True, role__in=_DELEGATE_ROLES
        ).order_by("last_name", "first_name")
