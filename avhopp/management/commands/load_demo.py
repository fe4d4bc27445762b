"""Demo agencies, one user per role, and a few cases. Safe to run again: it adds nothing twice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.models import Agency, AgencyKind, Role, User
from cases import services
from cases.identity import luhn_check_digit
from cases.models import (
    CaseStatus,
    Individual,
    InterventionKind,
    InterventionStatus,
    ProtectionLevel,
    ReferralSource,
    ThreatLevel,
)

DEMO_PASSWORD = "Avhopp-demo-2026"
# RFC 6238's test key ("12345678901234567890"), base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:
# add it to any authenticator app, or run `manage.py totp_code <user>`.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"

AGENCIES = [
    ("Södertälje kommun, socialtjänsten", AgencyKind.SOCIAL_SERVICES, "0181", "Stockholm"),
    ("Botkyrka kommun, socialtjänsten", AgencyKind.SOCIAL_SERVICES, "0127", "Stockholm"),
    ("Polisregion Stockholm", AgencyKind.POLICE, "", "Stockholm"),
    ("Kriminalvården", AgencyKind.PRISON_PROBATION, "", ""),
    ("Statens institutionsstyrelse (SiS)", AgencyKind.SIS, "", ""),
    ("Föreningen Ny Väg (demo)", AgencyKind.CIVIL_SOCIETY, "", "Stockholm"),
]

# username, first name, last name, agency index, role
USERS = [
    ("handlaggare", "Sara", "Lind", 0, Role.SOCIAL_WORKER),
    ("handlaggare2", "Johan", "Ek", 0, Role.SOCIAL_WORKER),
    ("samordnare", "Amir", "Haddad", 0, Role.COORDINATOR),
    ("polis", "Karin", "Berg", 2, Role.POLICE_OFFICER),
    ("loggkontroll", "Eva", "Holm", 0, Role.LOG_REVIEWER),
    ("admin", "Per", "Nilsson", 0, Role.AGENCY_ADMIN),
    ("botkyrka", "Lina", "Sjöberg", 1, Role.SOCIAL_WORKER),
    ("kriminalvarden", "Ola", "Strand", 3, Role.COORDINATOR),
    ("nyvag", "Mira", "Falk", 5, Role.COORDINATOR),
]


def demo_personnummer(born: date, serial: str) -> str:
    nine = f"{born:%y%m%d}{serial}"
    return f"{born:%Y%m%d}{serial}{luhn_check_digit(nine)}"


class Command(BaseCommand):
    help = f"Load demo agencies, users (password {DEMO_PASSWORD}) and cases. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production.")
        with transaction.atomic():
            agencies = [self._agency(*row) for row in AGENCIES]
            users = {row[0]: self._user(row, agencies) for row in USERS}
            support, created = User.objects.get_or_create(
                username="support", defaults={"is_staff": True, "is_superuser": True}
            )
            if created:
                support.set_password(DEMO_PASSWORD)
                support.save(update_fields=["password"])
                TOTPDevice.objects.create(
                    user=support, name="Demo", key=DEMO_TOTP_KEY, confirmed=True
                )
            if not Individual.objects.filter(personnummer__startswith="1995").exists():
                self._cases(users, agencies)
        self.stdout.write(
            f"Demo users (password {DEMO_PASSWORD}; one-time codes: "
            "`.venv/bin/python manage.py totp_code <user>`, or add the key "
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ to an authenticator app):"
        )
        for username, *_rest, role in USERS:
            self.stdout.write(f"  {username:<15} {role.label}")
        self.stdout.write(f"  {'support':<15} Django admin (support staff)")

    def _agency(self, name: str, kind: str, code: str, region: str) -> Agency:
        agency = Agency.objects.filter(name=name).first()
        if agency is None:
            agency = Agency(name=name, kind=kind, municipality_code=code, region=region)
            agency.address = "Box 1, 100 00 Stockholm"
            agency.save()
        return agency

    def _user(self, row: tuple, agencies: list[Agency]) -> User:
        username, first, last, index, role = row
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "agency": agencies[index],
                "role": role,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            TOTPDevice.objects.create(user=user, name="Demo", key=DEMO_TOTP_KEY, confirmed=True)
        return user

    def _cases(self, users: dict[str, User], agencies: list[Agency]) -> None:
        worker, coordinator, police = users["handlaggare"], users["samordnare"], users["polis"]
        today = timezone.localdate()
        adam = services.individual_create(
            by=worker,
            first_name="Adam",
            last_name="Demo",
            personnummer=demo_personnummer(date(1995, 3, 14), "123"),
            phone="070-000 00 01",
            address="Storgatan 1, 151 00 Södertälje",
        )
        case = services.case_create(
            by=worker, individual=adam, referral_source=ReferralSource.POLICE
        )
        for status in (
            CaseStatus.INITIAL_ASSESSMENT,
            CaseStatus.INVESTIGATION,
            CaseStatus.INTERVENTIONS,
        ):
            services.case_change_status(case=case, to_status=status, by=worker)
        services.intervention_create(
            case=case,
            by=worker,
            kind=InterventionKind.EMERGENCY_HOUSING,
            provider_name="Jourboende Syd (demo)",
            status=InterventionStatus.ONGOING,
            decision_date=today - timedelta(days=20),
            start_date=today - timedelta(days=19),
            follow_up_date=today - timedelta(days=2),
            goal="Tryggt boende under utredningen.",
        )
        consent = services.consent_create(
            individual=adam,
            case=case,
            by=coordinator,
            recipient=agencies[2],
            given_on=today - timedelta(days=21),
            valid_until=today + timedelta(days=365),
            document_reference="SAM-DEMO-1",
            scope_interventions=True,
            scope_threat_level=True,
        )
        services.case_share(case=case, agency=agencies[2], by=coordinator, consent=consent)
        services.threat_assessment_create(
            case=case,
            by=police,
            level=ThreatLevel.HIGH,
            summary="Hot från tidigare nätverk. Undvik Södertälje centrum.",
            details="Demo: uppgifter ur polisens underrättelser.",
            relocation=True,
            next_review_date=today + timedelta(days=30),
        )
        services.journal_entry_create(
            case=case, by=worker, text="Första samtal. Personen är motiverad."
        )

        protected = services.individual_create(
            by=worker,
            first_name="Bea",
            last_name="Skyddad",
            personnummer=demo_personnummer(date(1998, 7, 2), "456"),
            protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
            address="Hemlig väg 7, 000 00 Okänd ort",
        )
        services.case_create(
            by=worker,
            individual=protected,
            referral_source=ReferralSource.SELF,
            responsible=users["handlaggare2"],
        )
        reserve = services.individual_create(by=worker, first_name="Cem", last_name="Okänd")
        services.case_create(
            by=worker, individual=reserve, referral_source=ReferralSource.ORGANISATION
        )
