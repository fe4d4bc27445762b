"""Demo agencies, one user per role, and a few cases: what `make run` shows (`load_demo`)."""

from __future__ import annotations

from datetime import date, time, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from avhopp.admin import ensure_support_group
from avhopp.models import Agency, AgencyKind, Role, User
from cases import services
from cases.hooks import DecisionKind
from cases.models import (
    Case,
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
    advance,
    delegate,
    ensure_agencies,
    ensure_users,
    new_case,
    ongoing_intervention,
    share_on_consent,
)
from method import services as method_services
from method.models import (
    ChecklistTemplate,
    ConditionKind,
    Consequence,
    DrugTestResult,
    EntryKind,
    Phase,
)
from method.services import ConditionSpec
from relocations import services as relocation_services
from relocations.models import HousingNeed, Relocation, RelocationStatus, Urgency

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
    ("Nationell samordning avhopp", AgencyKind.NATIONAL_COORDINATION, "", ""),
    ("Umeå kommun, socialtjänsten", AgencyKind.SOCIAL_SERVICES, "2480", "Västerbotten"),
    ("Polisregion Nord", AgencyKind.POLICE, "", "Norr"),
    ("Stockholms universitet (demo)", AgencyKind.RESEARCH, "", ""),
]
# Which police region clears relocations to each municipality (by index in AGENCIES).
POLICE_REGIONS = {0: 2, 1: 2, 7: 8}

# username, first name, last name, agency index, role
USERS = [
    ("handlaggare", "Sara", "Lind", 0, Role.SOCIAL_WORKER),
    ("handlaggare2", "Johan", "Ek", 0, Role.SOCIAL_WORKER),
    ("samordnare", "Amir", "Haddad", 0, Role.COORDINATOR),
    ("polis", "Karin", "Berg", 2, Role.POLICE_OFFICER),
    ("loggkontroll", "Eva", "Holm", 0, Role.LOG_REVIEWER),
    ("admin", "Per", "Nilsson", 0, Role.AGENCY_ADMIN),
    ("arkiv", "Ingrid", "Lund", 0, Role.ARCHIVE_OFFICER),
    ("botkyrka", "Lina", "Sjöberg", 1, Role.SOCIAL_WORKER),
    ("kriminalvarden", "Ola", "Strand", 3, Role.COORDINATOR),
    ("nyvag", "Mira", "Falk", 5, Role.COORDINATOR),
    ("samordnare_nationell", "Nora", "Vik", 6, Role.NATIONAL_COORDINATOR),
    ("umea", "Elin", "Lundin", 7, Role.COORDINATOR),
    ("polis_nord", "Oskar", "Nyberg", 8, Role.POLICE_OFFICER),
    ("forskare", "Rut", "Lund", 9, Role.RESEARCHER),
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
    for municipality, police in POLICE_REGIONS.items():
        agencies[municipality].police_region = agencies[police]
        agencies[municipality].save(update_fields=["police_region"])
    _method(users)
    if not Individual.objects.filter(personnummer__startswith="1995").exists():
        _cases(users, agencies)
    if not Relocation.objects.exists():
        _relocations(users, agencies)


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
        advance(case, worker, status)
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
    _agreement(case, worker)
    _closed_with_outcomes_due(worker)


def _method(users: dict[str, User]) -> None:
    """The delegation order of the demo municipalities, and Södertälje's adapted checklist
    (the national default comes with the migrations, method.national)."""
    order = "Delegationsordning SN 2026"
    delegate(users["handlaggare"], DecisionKind.SUPPORT, DecisionKind.CLOSURE, reference=order)
    delegate(users["handlaggare2"], DecisionKind.SUPPORT, reference=order)
    for coordinator in (users["samordnare"], users["umea"]):
        delegate(coordinator, *DecisionKind.values, reference=f"{order}, punkt 7")
    coordinator = users["samordnare"]
    if ChecklistTemplate.objects.filter(agency_id=coordinator.agency_id).exists():
        return
    template = method_services.template_copy(by=coordinator)
    sip = template.versions.get().steps.get(title="SIP när flera aktörer är inblandade")
    method_services.template_step_save(
        by=coordinator,
        template=template,
        step=sip,
        phase=sip.phase,
        title=sip.title,
        required=True,
        guidance=f"{sip.guidance} Södertälje: boka SIP-mötet via regionens samordnare.",
        links=sip.links,
    )
    method_services.template_step_save(
        by=coordinator,
        template=template,
        step=None,
        phase=Phase.INITIAL_ASSESSMENT,
        title="Kontakt med skolan eller arbetsgivaren (vid behov)",
        required=False,
        guidance="Bara med personens samtycke.",
        links="",
    )
    method_services.template_publish(by=coordinator, template=template)


def _agreement(case: Case, worker: User) -> None:
    today = timezone.localdate()
    agreement = method_services.agreement_create(
        case=case,
        by=worker,
        start_date=today - timedelta(days=14),
        review_date=today + timedelta(days=76),
        conditions=[
            ConditionSpec(ConditionKind.NO_CRIME),
            ConditionSpec(ConditionKind.NO_DRUGS),
            ConditionSpec(ConditionKind.DRUG_TESTS, interval_days=14),
            ConditionSpec(ConditionKind.MEETINGS, interval_days=7),
            ConditionSpec(ConditionKind.NO_CONTACT, details="Tidigare nätverk i Ronna (demo)"),
        ],
    )
    method_services.agreement_sign(
        agreement=agreement, case=case, by=worker, signed_on=today - timedelta(days=14)
    )
    entries = [
        {"kind": EntryKind.MEETING, "occurred_on": today - timedelta(days=7)},
        {
            "kind": EntryKind.DRUG_TEST,
            "occurred_on": today - timedelta(days=6),
            "result": DrugTestResult.NEGATIVE,
        },
        {
            "kind": EntryKind.BREACH,
            "occurred_on": today - timedelta(days=2),
            "condition": agreement.conditions.get(kind=ConditionKind.MEETINGS),
            "consequence": Consequence.TALK,
            "note": "Uteblev från mötet; samtal om villkoren.",
        },
        {"kind": EntryKind.MEETING, "occurred_on": today + timedelta(days=5), "at_time": time(10)},
    ]
    for entry in entries:
        method_services.agreement_entry_add(agreement=agreement, case=case, by=worker, **entry)


def _closed_with_outcomes_due(worker: User) -> None:
    """A case closed seven months ago: its six-month outcomes are due on the start page."""
    case = new_case(
        worker,
        first_name="Gustav",
        last_name="Avslutad",
        born=date(1993, 1, 20),
        serial=789,
        referral_source=ReferralSource.SELF,
    )
    for status in (
        CaseStatus.INITIAL_ASSESSMENT,
        CaseStatus.INVESTIGATION,
        CaseStatus.INTERVENTIONS,
        CaseStatus.FOLLOW_UP,
    ):
        advance(case, worker, status)
    advance(case, worker, CaseStatus.CLOSED, reason="Målen i planen är nådda.")
    # Demo history: as if it had closed seven months ago.
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=213))


def _relocations(users: dict[str, User], agencies: list[Agency]) -> None:
    """Relocations in several steps, to walk through: one waiting for matching, one offered
    to Umeå, one moved there and waiting for the handover."""
    coordinator, police = users["samordnare"], users["polis"]
    national, umea, nord = users["samordnare_nationell"], users["umea"], users["polis_nord"]
    today = timezone.localdate()
    for serial, first, step in (
        (611, "Dana", RelocationStatus.MATCHING),
        (612, "Erik", RelocationStatus.OFFERED),
        (613, "Fia", RelocationStatus.MOVED),
    ):
        case = new_case(
            users["handlaggare"],
            first_name=first,
            last_name="Omplacering",
            born=date(1997, 5, 10),
            serial=serial,
            referral_source=ReferralSource.POLICE,
            responsible=users["handlaggare"],
        )
        # The police assess the threat on a case shared with them.
        share_on_consent(
            case,
            by=coordinator,
            recipient=agencies[2],
            reference=f"SAM-DEMO-{serial}",
            given_on=today - timedelta(days=5),
            valid_until=today + timedelta(days=365),
            scope_threat_level=True,
        )
        services.threat_assessment_create(
            case=case,
            by=police,
            level=ThreatLevel.SEVERE,
            summary="Allvarlig hotbild i hemkommunen.",
            details="Demo: polisens uppgifter.",
            relocation=True,
            next_review_date=today + timedelta(days=30),
        )
        consent = services.consent_create(
            individual=case.individual,
            case=case,
            by=coordinator,
            recipient=agencies[6],
            given_on=today - timedelta(days=5),
            valid_until=today + timedelta(days=365),
            document_reference=f"OMP-DEMO-{serial}",
            relocation=True,
        )
        relocation = relocation_services.relocation_request(
            case=case,
            by=coordinator,
            consent=consent,
            urgency=Urgency.PLANNED,
            housing_need=HousingNeed.LONG_TERM,
            needs_summary="Lägenhet och stöd till arbete. Vill bo nära en större stad.",
            avoided_regions=["Skåne"],
            avoid_reason="Tidigare nätverk finns där.",
        )
        if step == RelocationStatus.MATCHING:
            continue
        (candidate,) = relocation_services.candidates_propose(
            relocation=relocation, by=national, municipalities=[agencies[7]]
        )
        relocation_services.clearance_answer(candidate=candidate, by=nord, cleared=True)
        relocation_services.offer_send(candidate=candidate, by=national)
        if step == RelocationStatus.OFFERED:
            continue
        relocation_services.offer_answer(
            candidate=candidate, by=umea, accepted=True, intake_contact="Elin Lundin 090-16 10 00"
        )
        relocation.refresh_from_db()  # the services read who receives from the row
        relocation_services.placement_record(
            relocation=relocation,
            by=umea,
            housing=HousingNeed.LONG_TERM,
            address="Demogatan 3, 903 25 Umeå",
            move_date=today,
        )
        relocation_services.move_confirm(relocation=relocation, by=umea, moved_on=today)
