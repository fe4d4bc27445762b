"""Who decides gallring, and who makes and hands over a person's extracts.

Gallring is decided by the owning agency's archive officer (arkivansvarig), a role of its own
in a municipality's social services: the one who reviews the log does not also delete what it
points at, and the one who keeps the files does not judge their own. The archive officer sees
proposals by case reference only and reads no case content; they place and lift legal holds.

A person's extracts are made and handed over by the case's responsible worker alone, who meets
the person and checks their identity: a protected person's extract never leaves by post.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from avhopp.models import AgencyKind, Role
from avhopp.policy import agency_kind
from cases.models import Case
from cases.policy import CaseAction, CasePolicy
from retention.models import Extract, GallringProposal, LegalHold

if TYPE_CHECKING:
    from avhopp.models import User


class GallringAction(models.TextChoices):
    DECIDE = "decide"  # read and approve proposals, place and lift legal holds


class GallringPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[GallringProposal]:
        if not GallringPolicy.allows(user, GallringAction.DECIDE):
            return GallringProposal.objects.none()
        return GallringProposal.objects.filter(agency_id=user.agency_id)

    @staticmethod
    def holds_visible_to(user: User) -> QuerySet[LegalHold]:
        if not GallringPolicy.allows(user, GallringAction.DECIDE):
            return LegalHold.objects.none()
        return LegalHold.objects.filter(case__owning_agency_id=user.agency_id)

    @staticmethod
    def cases_in_care_of(user: User) -> QuerySet[Case]:
        """The case files whose gallring the user decides: their agency's own."""
        if not GallringPolicy.allows(user, GallringAction.DECIDE):
            return Case.objects.none()
        return Case.objects.filter(owning_agency_id=user.agency_id)

    @staticmethod
    def allows(
        user: User, action: GallringAction, obj: GallringProposal | LegalHold | None = None
    ) -> bool:
        is_officer = (
            user.is_authenticated
            and user.agency_id is not None
            and user.role == Role.ARCHIVE_OFFICER
            and agency_kind(user) == AgencyKind.SOCIAL_SERVICES
        )
        if obj is None:
            return is_officer
        agency_id = (
            obj.agency_id if isinstance(obj, GallringProposal) else obj.case.owning_agency_id
        )
        return is_officer and agency_id == user.agency_id

    @staticmethod
    def check(
        user: User, action: GallringAction, obj: GallringProposal | LegalHold | None = None
    ) -> None:
        if not GallringPolicy.allows(user, action, obj):
            raise PermissionDenied


class ExtractAction(models.TextChoices):
    REQUEST = "request"  # make an extract for the person of a case
    HAND_OVER = "hand_over"  # download it to hand it to the person


class ExtractPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[Extract]:
        """Extracts of the cases the user is responsible for and may still see."""
        if not user.is_authenticated or user.agency_id is None:
            return Extract.objects.none()
        return Extract.objects.filter(
            case__responsible_id=user.pk,
            case__owning_agency_id=user.agency_id,
            case__in=CasePolicy.visible_to(user),
        )

    @staticmethod
    def allows(user: User, action: ExtractAction, obj: Case | Extract) -> bool:
        """`obj` is a case visible to the user (REQUEST) or an extract (HAND_OVER)."""
        case = obj if isinstance(obj, Case) else obj.case
        return case.responsible_id == user.pk and CasePolicy.allows(user, CaseAction.EDIT, case)

    @staticmethod
    def check(user: User, action: ExtractAction, obj: Case | Extract) -> None:
        if not ExtractPolicy.allows(user, action, obj):
            raise PermissionDenied
