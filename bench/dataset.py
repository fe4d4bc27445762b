"""The dataset the benchmark reads (`manage.py seed_scale --cases N`) and the readers in it."""

from __future__ import annotations

import time

from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from avhopp.models import Agency, AgencyKind, Role, User
from cases.models import Case, ProtectionLevel


def ensure_dataset(cases: int) -> float | None:
    """Migrate, and seed N cases unless the database holds them; the seconds seeding took."""
    call_command("migrate", verbosity=0, interactive=False)
    if Case.objects.count() == cases and Agency.objects.filter(kind=AgencyKind.POLICE).count() == 7:
        return None
    print(f"Seeding {cases:,} cases (the database holds a different dataset)...", flush=True)
    started = time.perf_counter()
    call_command("seed_scale", cases=cases, reset=True)
    return time.perf_counter() - started


def national_coordinator() -> User:
    """The national coordinator who reads the whole country's statistics: made on first use,
    so a dataset seeded before the national coordination existed serves as it is."""
    agency = Agency.objects.filter(kind=AgencyKind.NATIONAL_COORDINATION).order_by("pk").first()
    if agency is None:
        agency = Agency.objects.create(
            name="Nationell samordning", kind=AgencyKind.NATIONAL_COORDINATION
        )
    user = User.objects.filter(agency=agency, role=Role.NATIONAL_COORDINATOR).first()
    if user is None:
        user = User.objects.create_user(
            "bench-national", agency=agency, role=Role.NATIONAL_COORDINATOR
        )
    return user


class Actors:
    """The users and cases the benchmark reads as."""

    def __init__(self) -> None:
        # A police region with about 5 % of all cases shared to it (the median region).
        police = list(
            Agency.objects.filter(kind=AgencyKind.POLICE)
            .annotate(shared=Count("shared_cases", filter=Q(shared_cases__revoked_at__isnull=True)))
            .order_by("shared")
        )
        self.region = police[len(police) // 2]
        self.region_cases = self.region.shared  # type: ignore[attr-defined]
        # The largest municipality: the worst case for its staff's lists.
        self.municipality = (
            Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES)
            .annotate(owned=Count("owned_cases"))
            .order_by("-owned", "pk")
            .first()
        )
        self.municipality_cases = self.municipality.owned  # type: ignore[union-attr]
        self.officer = User.objects.filter(agency=self.region, role=Role.POLICE_OFFICER).first()
        self.coordinator = User.objects.filter(
            agency=self.municipality, role=Role.COORDINATOR
        ).first()
        self.national = national_coordinator()
        self.reviewer = User.objects.filter(
            agency=self.municipality, role=Role.LOG_REVIEWER
        ).first()
        self.worker = (
            User.objects.filter(agency=self.municipality, role=Role.SOCIAL_WORKER)
            .annotate(n=Count("responsible_cases"))
            .order_by("-n", "pk")
            .first()
        )
        sized = Case.objects.annotate(size=Count("interventions", distinct=True)).order_by(
            "-size", "pk"
        )
        # Detail: the largest case each reader may open (whatever the case's size).
        self.worker_case = sized.filter(responsible=self.worker).first()
        self.coordinator_case = sized.filter(owning_agency=self.municipality).first()
        today = timezone.localdate()
        self.officer_case = sized.filter(
            Q(shares__agency=self.region, shares__revoked_at__isnull=True)
            & (Q(shares__expires_on__isnull=True) | Q(shares__expires_on__gte=today))
        ).first()
        self.typical_officer_case = (
            Case.objects.filter(shares__agency=self.region, shares__revoked_at__isnull=True)
            .exclude(shares__expires_on__lt=today)
            .annotate(size=Count("interventions", distinct=True))
            .filter(size=5)
            .order_by("pk")
            .first()
        )
        self.number_case = (
            Case.objects.filter(
                shares__agency=self.region,
                shares__revoked_at__isnull=True,
                individual__personnummer__isnull=False,
                individual__protection_level=ProtectionLevel.NONE,
            )
            .exclude(shares__expires_on__lt=today)
            .select_related("individual")
            .order_by("-pk")
            .first()
        )
        # The log search looks up a case of the municipality that no timed page opens, so its
        # events are the seeded ones whatever the runs before wrote.
        opened = {
            self.worker_case.pk,
            self.coordinator_case.pk,
            self.officer_case.pk,
            self.typical_officer_case.pk,
        }
        self.logged_case = (
            Case.objects.filter(owning_agency=self.municipality)
            .exclude(pk__in=opened)
            .order_by("pk")
            .first()
        )
        self.name = "Lindqvist"

    def described(self) -> str:
        return (
            f"social worker `{self.worker.username}`, coordinator `{self.coordinator.username}` "
            f"and log reviewer `{self.reviewer.username}` of {self.municipality.name} (owns "
            f"{self.municipality_cases:,} cases, the largest municipality), police officer "
            f"`{self.officer.username}` of {self.region.name} ({self.region_cases:,} active "
            "shares)"
        )
