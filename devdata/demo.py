"""Demo agencies, one user per role, and a few cases: what `make run` shows (`load_demo`)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from avhopp.admin import ensure_support_group
from avhopp.models import Agency, AgencyKind, Role, User
from cases import services
from cases.models import (
    CaseStatus,
    Individual,
    InterventionKind,
    ProtectionLevel,
    ReferralSource,
    ThreatLevel,
)
from devdata.factories import (
    AgencySpec,
    UserSpec,
    ensure_agencies,
    ensure_users,
    new_case,
    ongoing_intervention,
    share_on_consent,
)

DEMO_PASSWORD = "Avhopp-demo-2026"
# RFC 6238's test key ("12345678901234567890"), base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ:
# add it to any authenticator app, or run `manage.py totp_code <user>`.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_ADDRESS = "Box 1, 100 00 Stockholm"

AGENCIES = [
    ("Södertälje kommun, socialtjänsten", AgencyKind.SOCIAL_SERVICES, "0181", "Stockholm"),
    ("Botkyrka kommun, socialtjänsten", AgencyKind.SOCIAL_SERVICES, "0127", "Stockholm"),
    ("Polisregion Stockholm", AgencyKind.POLICE, "", "Stockholm"),
    ("Kriminalvården", AgencyKind.PRISON_PROBATION, "", ""),
    ("Statens institutionsstyrelse (SiS)", AgencyKind.SIS, "", ""),
    ("Föreningen Ny Väg (demo)", AgencyKind.CIVIL_SOCIETY, "", "Stockholm"),
    ("Stockholms universitet (demo)", AgencyKind.RESEARCH, "", ""),
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
    ("forskare", "Rut", "Lund", 6, Role.RESEARCHER),
]
SUPPORT = "support"  # Django admin (support staff: is_staff in the support group, no superuser)


@transaction.atomic
def load_demo() -> None:
    """Add what is missing: run again, it adds nothing twice."""
    agencies = ensure_agencies([AgencySpec(*row, address=DEMO_ADDRESS) for row in AGENCIES])
    specs = [
        UserSpec(username, first, last, agencies[index], role)
        for username, first, last, index, role in USERS
    ]
    specs.append(UserSpec(SUPPORT, "", "", None, "", support=True))
    users = ensure_users(
        specs,
        password=make_password(DEMO_PASSWORD),
        device="Demo",
        totp_key=lambda _username: DEMO_TOTP_KEY,
    )
    _support_staff(users[SUPPORT])
    if not Individual.objects.filter(personnummer__startswith="1995").exists():
        _cases(users, agencies)


def _support_staff(user: User) -> None:
    """Support gets the support group's permissions and no more; a demo database made when
    the account was a superuser is corrected too."""
    if user.is_superuser or not user.is_staff:
        user.is_superuser = False
        user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
    user.groups.add(ensure_support_group())


def _cases(users: dict[str, User], agencies: list[Agency]) -> None:
    worker, coordinator, police = users["handlaggare"], users["samordnare"], users["polis"]
    today = timezone.localdate()
    case = new_case(
        worker,
        first_name="Adam",
        last_name="Demo",
        born=date(1995, 3, 14),
        serial=123,
        phone="070-000 00 01",
        address="Storgatan 1, 151 00 Södertälje",
        referral_source=ReferralSource.POLICE,
    )
    for status in (
        CaseStatus.INITIAL_ASSESSMENT,
        CaseStatus.INVESTIGATION,
        CaseStatus.INTERVENTIONS,
    ):
        services.case_change_status(case=case, to_status=status, by=worker)
    ongoing_intervention(
        case,
        by=worker,
        kind=InterventionKind.EMERGENCY_HOUSING,
        provider_name="Jourboende Syd (demo)",
        goal="Tryggt boende under utredningen.",
        decision_date=today - timedelta(days=20),
        start_date=today - timedelta(days=19),
        follow_up_date=today - timedelta(days=2),
    )
    share_on_consent(
        case,
        by=coordinator,
        recipient=agencies[2],
        reference="SAM-DEMO-1",
        given_on=today - timedelta(days=21),
        valid_until=today + timedelta(days=365),
        scope_interventions=True,
        scope_threat_level=True,
    )
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

    new_case(
        worker,
        first_name="Bea",
        last_name="Skyddad",
        born=date(1998, 7, 2),
        serial=456,
        protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
        address="Hemlig väg 7, 000 00 Okänd ort",
        referral_source=ReferralSource.SELF,
        responsible=users["handlaggare2"],
    )
    new_case(
        worker, first_name="Cem", last_name="Okänd", referral_source=ReferralSource.ORGANISATION
    )
