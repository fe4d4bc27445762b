"""Seed a national-scale dataset for benchmarks: `manage.py seed_scale --cases 100000 --reset`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from avhopp.models import Agency
from cases.models import Case
from devdata.seeding import SEED_PASSWORD, Plan, Seeder, truncate_all


class Command(BaseCommand):
    help = (
        "Build a realistic national dataset quickly with COPY: 290 municipalities, 7 police "
        "regions, Kriminalvården, SiS, 30 organisations, ~5,000 users, N cases with their "
        "people, interventions, threat assessments, shares, grants and 20 audit events each."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=10_000, help="number of cases (N)")
        parser.add_argument(
            "--reset", action="store_true", help="TRUNCATE the app tables first (re-runs)"
        )
        parser.add_argument(
            "--municipalities", type=int, default=290, help="fewer for small test runs"
        )
        parser.add_argument("--users-per-municipality", type=int, default=16)
        parser.add_argument("--officers-per-region", type=int, default=40)
        parser.add_argument("--audit-per-case", type=int, default=20)
        parser.add_argument(
            "--audit-events",
            type=int,
            default=None,
            help="a log of N events over 24 months, written in SQL (instead of --audit-per-case)",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Benchmark data is never seeded in production.")
        if connection.vendor != "postgresql":
            raise CommandError("seed_scale needs PostgreSQL (it writes with COPY).")
        if options["cases"] < 1:
            raise CommandError("--cases must be at least 1.")
        if options["audit_events"] is not None and options["audit_events"] < 0:
            raise CommandError("--audit-events must be 0 or more.")
        if options["reset"]:
            truncate_all()
        elif Case.objects.exists() or Agency.objects.exists():
            raise CommandError("The database already has agencies or cases: use --reset.")
        plan = Plan(
            cases=options["cases"],
            municipalities=max(1, min(290, options["municipalities"])),
            users_per_municipality=max(5, options["users_per_municipality"]),
            officers_per_region=max(1, options["officers_per_region"]),
            audit_per_case=max(0, options["audit_per_case"]),
            seed=options["seed"],
            audit_events=options["audit_events"],
        )
        self.stdout.write(f"Seeding {plan.cases:,} cases:")
        result = Seeder(plan, log=self.stdout.write).run()
        total = result.timings["total"][1]
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {total:.1f} s. Every seeded user's password: {SEED_PASSWORD}"
            )
        )
