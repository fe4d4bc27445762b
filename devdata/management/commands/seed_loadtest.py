"""Seed the load-test database: demo data, one account per simulated user, and their cases.

    .venv/bin/python manage.py seed_loadtest MANIFEST.json   (or loadtest/seed.py MANIFEST.json)

Idempotent: accounts and cases are created once; every run lifts the one-time-code replay
protection of the load-test accounts (a new run may start within the last run's 30-second
step) and writes the manifest the locustfile reads (which cases each account works on).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.models import Agency, AgencyKind, Role, User
from cases import services
from cases.models import Case, InterventionKind, ReferralSource
from devdata.demo import load_demo
from devdata.factories import (
    FIRST_NAMES,
    LAST_NAMES,
    UserSpec,
    ensure_users,
    new_case,
    ongoing_intervention,
    share_on_consent,
)
from loadtest.accounts import ACCOUNTS, PASSWORD, all_usernames, totp_key

CASES_PER_WORKER = 4
CASES_PER_COORDINATOR = 2
# The names the simulated social workers search for: each is on about a dozen cases.
SURNAMES = LAST_NAMES[:16]


def ensure_accounts(municipality: Agency, police: Agency) -> dict[str, User]:
    agency_of = {
        Role.SOCIAL_WORKER: municipality,
        Role.COORDINATOR: municipality,
        Role.POLICE_OFFICER: police,
    }
    specs = [
        UserSpec(name, "Last", f"Test {number}", agency_of[Role(role)], role)
        for role in ACCOUNTS
        for number, name in enumerate(all_usernames(role), start=1)
    ]
    users = ensure_users(
        specs, password=make_password(PASSWORD), device="Lasttest", totp_key=totp_key
    )
    TOTPDevice.objects.filter(user__in=users.values()).update(last_t=-1, throttling_failure_count=0)
    return users


def create_case(by: User, number: int) -> Case:
    case = new_case(
        by,
        first_name=FIRST_NAMES[number % len(FIRST_NAMES)],
        last_name=SURNAMES[number % len(SURNAMES)],
        born=date(1975, 1, 1) + timedelta(days=29 * number),
        serial=900 + number % 100,
        phone=f"070-100 {number:04d}",
        address=f"Lastgatan {number}, 151 00 Södertälje",
        referral_source=ReferralSource.POLICE,
    )
    services.journal_entry_create(case=case, by=by, text="Inledande samtal (lasttest).")
    return case


def share_with_police(case: Case, coordinator: User, police: Agency) -> None:
    today = timezone.localdate()
    share_on_consent(
        case,
        by=coordinator,
        recipient=police,
        reference=f"LAST-{case.pk}",
        given_on=today - timedelta(days=1),
        valid_until=today + timedelta(days=365),
        scope_interventions=True,
        scope_threat_level=True,
        scope_journal=True,
    )


def ensure_cases(users: dict[str, User], police: Agency) -> None:
    workers = [users[name] for name in all_usernames(Role.SOCIAL_WORKER)]
    coordinators = [users[name] for name in all_usernames(Role.COORDINATOR)]
    if Case.objects.filter(responsible__in=workers).exists():
        return
    number = 0
    for index, worker in enumerate(workers):
        coordinator = coordinators[index % len(coordinators)]
        for count in range(CASES_PER_WORKER):
            case = create_case(worker, number)
            number += 1
            if count == 0:
                share_with_police(case, coordinator, police)
    for coordinator in coordinators:
        for count in range(CASES_PER_COORDINATOR):
            case = create_case(coordinator, number)
            number += 1
            ongoing_intervention(
                case,
                by=coordinator,
                kind=InterventionKind.WORK,
                provider_name="Jobbspåret (lasttest)",
                goal="Anställning inom ett halvår.",
                start_date=timezone.localdate() - timedelta(days=10),
            )
            if count == 0:
                share_with_police(case, coordinator, police)


def build_manifest(users: dict[str, User], police: Agency) -> dict[str, object]:
    responsible: dict[str, list[int]] = {name: [] for name in users}
    for pk, name in Case.objects.filter(responsible__in=users.values()).values_list(
        "pk", "responsible__username"
    ):
        responsible[name].append(pk)
    shared = sorted(
        Case.objects.filter(
            shares__agency=police, shares__revoked_at__isnull=True, responsible__in=users.values()
        ).values_list("pk", flat=True)
    )
    return {
        "police_agency": police.pk,
        "cases": {name: sorted(pks) for name, pks in responsible.items()},
        "shared_with_police": shared,
        "surnames": SURNAMES,
    }


class Command(BaseCommand):
    help = "Seed the load-test accounts and cases and write the locustfile's manifest (JSON)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("manifest", help="where to write the manifest")

    def handle(self, *args: Any, manifest: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Load-test data is never seeded in production.")
        load_demo()
        municipality = Agency.objects.get(kind=AgencyKind.SOCIAL_SERVICES, municipality_code="0181")
        police = Agency.objects.get(kind=AgencyKind.POLICE, name="Polisregion Stockholm")
        with transaction.atomic():
            users = ensure_accounts(municipality, police)
            ensure_cases(users, police)
            data = build_manifest(users, police)
        Path(manifest).write_text(json.dumps(data, indent=1), encoding="utf-8")
        self.stdout.write(
            f"seed: {len(users)} accounts, {sum(len(v) for v in data['cases'].values())} cases, "
            f"{len(data['shared_with_police'])} shared with police; manifest {manifest}"
        )
