"""Seed the load-test database: demo data, one account per simulated user, and their cases.

Run in the application's environment (DATABASE_URL etc.):

    .venv/bin/python loadtest/seed.py MANIFEST.json

Idempotent: accounts and cases are created once; every run lifts the one-time-code replay
protection of the load-test accounts (a new run may start within the last run's 30-second
step) and writes the manifest the locustfile reads (which cases each account works on).
"""

from __future__ import annotations

import io
import json
import os
import sys
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "avhopp.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

from avhopp.models import Agency, AgencyKind, Role, User  # noqa: E402
from cases import services  # noqa: E402
from cases.identity import luhn_check_digit  # noqa: E402
from cases.models import (  # noqa: E402
    Case,
    InterventionKind,
    InterventionStatus,
    ReferralSource,
)
from loadtest.accounts import ACCOUNTS, PASSWORD, all_usernames, totp_key  # noqa: E402

CASES_PER_WORKER = 4
CASES_PER_COORDINATOR = 2
SURNAMES = [
    "Andersson",
    "Berglund",
    "Carlsson",
    "Dahl",
    "Eriksson",
    "Forsberg",
    "Gustafsson",
    "Hansson",
    "Isaksson",
    "Jakobsson",
    "Karlsson",
    "Lundqvist",
    "Magnusson",
    "Nyström",
    "Olofsson",
    "Persson",
]
FIRST_NAMES = ["Ali", "Björn", "Daniel", "Elias", "Filip", "Hassan", "Jonas", "Leo", "Omar"]


def personnummer(number: int) -> str:
    born = date(1975, 1, 1) + timedelta(days=29 * number)
    nine = f"{born:%y%m%d}{900 + number % 100:03d}"
    return f"{born:%Y%m%d}{nine[-3:]}{luhn_check_digit(nine)}"


def ensure_accounts(municipality: Agency, police: Agency) -> dict[str, User]:
    agency_of = {
        Role.SOCIAL_WORKER: municipality,
        Role.COORDINATOR: municipality,
        Role.POLICE_OFFICER: police,
    }
    password = make_password(PASSWORD)  # hashed once: Argon2 is slow by design
    users: dict[str, User] = {}
    for role in ACCOUNTS:
        for number, name in enumerate(all_usernames(role), start=1):
            user, created = User.objects.get_or_create(
                username=name,
                defaults={
                    "first_name": "Last",
                    "last_name": f"Test {number}",
                    "agency": agency_of[Role(role)],
                    "role": role,
                    "password": password,
                },
            )
            if created:
                TOTPDevice.objects.create(
                    user=user, name="Lasttest", key=totp_key(name), confirmed=True
                )
            users[name] = user
    TOTPDevice.objects.filter(user__in=users.values()).update(last_t=-1, throttling_failure_count=0)
    return users


def create_case(by: User, number: int, responsible: User | None = None) -> Case:
    individual = services.individual_create(
        by=by,
        first_name=FIRST_NAMES[number % len(FIRST_NAMES)],
        last_name=SURNAMES[number % len(SURNAMES)],
        personnummer=personnummer(number),
        phone=f"070-100 {number:04d}",
        address=f"Lastgatan {number}, 151 00 Södertälje",
    )
    case = services.case_create(
        by=by,
        individual=individual,
        referral_source=ReferralSource.POLICE,
        responsible=responsible,
    )
    services.journal_entry_create(case=case, by=by, text="Inledande samtal (lasttest).")
    return case


def share_with_police(case: Case, coordinator: User, police: Agency) -> None:
    today = timezone.localdate()
    consent = services.consent_create(
        individual=case.individual,
        case=case,
        by=coordinator,
        recipient=police,
        given_on=today - timedelta(days=1),
        valid_until=today + timedelta(days=365),
        document_reference=f"LAST-{case.pk}",
        scope_interventions=True,
        scope_threat_level=True,
        scope_journal=True,
    )
    services.case_share(case=case, agency=police, by=coordinator, consent=consent)


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
            services.intervention_create(
                case=case,
                by=coordinator,
                kind=InterventionKind.WORK,
                provider_name="Jobbspåret (lasttest)",
                status=InterventionStatus.ONGOING,
                start_date=timezone.localdate() - timedelta(days=10),
                goal="Anställning inom ett halvår.",
            )
            if count == 0:
                share_with_police(case, coordinator, police)


def manifest(users: dict[str, User], police: Agency) -> dict[str, object]:
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


def main(path: str) -> None:
    call_command("load_demo", stdout=io.StringIO())
    municipality = Agency.objects.get(kind=AgencyKind.SOCIAL_SERVICES, municipality_code="0181")
    police = Agency.objects.get(kind=AgencyKind.POLICE, name="Polisregion Stockholm")
    with transaction.atomic():
        users = ensure_accounts(municipality, police)
        ensure_cases(users, police)
        data = manifest(users, police)
    Path(path).write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(
        f"seed: {len(users)} accounts, {sum(len(v) for v in data['cases'].values())} cases, "
        f"{len(data['shared_with_police'])} shared with police; manifest {path}"
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: seed.py MANIFEST.json")
    main(sys.argv[1])
