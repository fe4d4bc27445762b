"""Who reads which statistics and orders which quarterly reports. Every such decision is made
here; views, selectors and services ask.

The national coordinator reads the figures over every municipality, with disclosure control
(they are shown outside the owning municipalities). A municipality's coordinators read their
own municipality's figures as they are: nothing in them is shown outside it. Nobody else reads
statistics; the cases behind them are never listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet

from avhopp.models import AgencyKind, Role
from avhopp.policy import agency_kind
from cases.models import Case
from followup.models import QuarterlyReport

if TYPE_CHECKING:
    from avhopp.models import User


class StatisticsAction(models.TextChoices):
    VIEW = "view"  # the statistics page and ordering its quarterly report
    READ_REPORT = "read_report"  # a quarterly report: its progress and its PDF


@dataclass(frozen=True)
class Scope:
    """Whose cases the figures count: every municipality's (None) or one's."""

    agency_id: int | None

    @property
    def national(self) -> bool:
        return self.agency_id is None

    @property
    def suppressed(self) -> bool:
        # Figures over more than the reader's own municipality leave it: disclosure control.
        return self.national


class StatisticsPolicy:
    @staticmethod
    def scope(user: User) -> Scope | None:
        kind = agency_kind(user)
        if kind == AgencyKind.NATIONAL_COORDINATION and user.role == Role.NATIONAL_COORDINATOR:
            return Scope(agency_id=None)
        if kind == AgencyKind.SOCIAL_SERVICES and user.role == Role.COORDINATOR:
            return Scope(agency_id=user.agency_id)
        return None

    @staticmethod
    def visible_to(user: User) -> QuerySet[Case]:
        """The cases the user's figures count (aggregated only, never listed)."""
        scope = StatisticsPolicy.scope(user)
        if scope is None:
            return Case.objects.none()
        if scope.national:
            return Case.objects.all()
        return Case.objects.filter(owning_agency_id=scope.agency_id)

    @staticmethod
    def allows(user: User, action: StatisticsAction, report: QuarterlyReport | None = None) -> bool:
        scope = StatisticsPolicy.scope(user)
        if scope is None:
            return False
        if action == StatisticsAction.VIEW:
            return True
        # A report is its scope's: the national one the national coordination's (any of its
        # coordinators), a municipality's that municipality's coordinators'.
        return report is not None and report.agency_id == user.agency_id

    @staticmethod
    def check(user: User, action: StatisticsAction) -> Scope:
        scope = StatisticsPolicy.scope(user)
        if scope is None or not StatisticsPolicy.allows(user, action):
            raise PermissionDenied
        return scope

    @staticmethod
    def reports_visible_to(user: User) -> QuerySet[QuarterlyReport]:
        if StatisticsPolicy.scope(user) is None:
            return QuarterlyReport.objects.none()
        return QuarterlyReport.objects.filter(agency_id=user.agency_id)
