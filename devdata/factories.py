"""What every development loader makes, built one way.

The demo loader (`load_demo`), the load-test seed (`seed_loadtest`) and the national dataset
(`seed_scale`, devdata/seeding.py) take their names, identity numbers, agencies and users from
here, and the first two (and the tests' fixtures) open their cases, start interventions and
share through here, i.e. through the
application's services, so the grants and the audit trail are the app's own. The national
dataset still writes its big tables (people, cases, grants, ...) with COPY, but with the
identity numbers and names below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.models import Agency, User
from cases import services
from cases.identity import luhn_check_digit
from cases.models import Case, CaseShare, Intervention, InterventionStatus
from method import services as method_services
from method.models import Delegation

FIRST_NAMES = [
    "Adam", "Ahmed", "Ali", "Alexander", "Amir", "Anton", "Axel", "Elias", "Emil", "Erik",
    "Filip", "Gustav", "Hassan", "Hugo", "Isak", "Jakob", "Jonathan", "Karl", "Leo", "Liam",
    "Linus", "Lucas", "Ludvig", "Mohammed", "Noah", "Oliver", "Omar", "Oscar", "Rasmus",
    "Sebastian", "Theo", "Viktor", "William", "Yusuf", "Zakaria", "Alva", "Amina", "Ebba",
    "Elin", "Ella", "Emma", "Fatima", "Hanna", "Ida", "Julia", "Leila", "Maja", "Moa",
    "Nora", "Sara", "Sofia", "Tilde", "Wilma", "Yasmin", "Dragan", "Mehmet", "Nikola",
    "Samir", "Tobias", "Marcus",
]  # fmt: skip
LAST_NAMES = [
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Lindström", "Olofsson",
    "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren",
    "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Ali",
    "Mohammed", "Hassan", "Ahmed", "Abdi", "Yilmaz", "Kaya", "Nguyen", "Popović", "Nowak",
    "Haddad", "Khalil", "Omar", "Ibrahim", "Jovanović", "Forsberg", "Sjöberg", "Wallin",
    "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk", "Holm",
]  # fmt: skip


def identity_number(born: date, serial: int, *, coordination: bool = False) -> str:
    """A valid twelve-digit personnummer (YYYYMMDDNNNC), or a samordningsnummer (the day of
    birth plus 60), with its Luhn check digit."""
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    return f"{born:%Y}{nine[2:]}{luhn_check_digit(nine)}"


class AgencySpec(NamedTuple):
    name: str
    kind: str
    municipality_code: str = ""
    region: str = ""
    address: str = ""


def ensure_agencies(specs: Sequence[AgencySpec]) -> list[Agency]:
    """The agencies named, in the order given: those that exist as they are, the others
    created with their group in a few bulk inserts (thousands of rows for the national
    dataset). The group is named as Agency.save names it."""
    agencies = Agency.objects.in_bulk([spec.name for spec in specs], field_name="name")
    missing = [spec for spec in specs if spec.name not in agencies]
    if missing:
        names = [f"agency:{spec.name}" for spec in missing]
        groups = Group.objects.in_bulk(names, field_name="name")
        groups |= {
            group.name: group
            for group in Group.objects.bulk_create(
                [Group(name=name) for name in names if name not in groups]
            )
        }
        created = Agency.objects.bulk_create(
            [
                Agency(**spec._asdict(), group=groups[name])
                for spec, name in zip(missing, names, strict=True)
            ]
        )
        agencies |= {agency.name: agency for agency in created}
    return [agencies[spec.name] for spec in specs]


class UserSpec(NamedTuple):
    username: str
    first_name: str
    last_name: str
    agency: Agency | None  # None only for support staff
    role: str
    email: str = ""
    support: bool = False  # Django admin (is_staff, never a superuser), no agency


def ensure_users(
    specs: Sequence[UserSpec],
    *,
    password: str,
    device: str = "",
    totp_key: Callable[[str], str] | None = None,
) -> dict[str, User]:
    """The users named, by user name in the order given: those that exist as they are, the
    others created in bulk, each in its agency's group and, with `totp_key` (user name to
    hex key), with a confirmed authenticator called `device`.

    `password` is already hashed (make_password once: Argon2 is slow by design)."""
    users = User.objects.in_bulk([spec.username for spec in specs], field_name="username")
    created = User.objects.bulk_create(
        [
            User(
                username=spec.username,
                password=password,
                first_name=spec.first_name,
                last_name=spec.last_name,
                email=spec.email,
                agency=spec.agency,
                role=spec.role,
                is_staff=spec.support,
            )
            for spec in specs
            if spec.username not in users
        ],
        batch_size=1000,
    )
    # bulk_create sends no post_save, so the membership avhopp.signals keeps is added here.
    through = User.groups.through
    through.objects.bulk_create(
        [
            through(user_id=user.pk, group_id=user.agency.group_id)
            for user in created
            if user.agency
        ],
        batch_size=2000,
    )
    if totp_key is not None:
        TOTPDevice.objects.bulk_create(
            [
                TOTPDevice(user=user, name=device, key=totp_key(user.username), confirmed=True)
                for user in created
            ]
        )
    users |= {user.username: user for user in created}
    return {spec.username: users[spec.username] for spec in specs}


def new_case(
    by: User,
    *,
    first_name: str,
    last_name: str,
    referral_source: str,
    born: date | None = None,
    serial: int = 0,
    responsible: User | None = None,
    **person: Any,
) -> Case:
    """A person and their case through the services (the owning agency's group gets its
    grant, the audit trail its rows). With `born`, the person has a valid identity number;
    without, the services give a reserve number."""
    if born is not None:
        person["personnummer"] = identity_number(born, serial)
    individual = services.individual_create(
        by=by, first_name=first_name, last_name=last_name, **person
    )
    return services.case_create(
        by=by, individual=individual, referral_source=referral_source, responsible=responsible
    )


def ongoing_intervention(
    case: Case, *, by: User, kind: str, provider_name: str, goal: str, **dates: date
) -> Intervention:
    """An intervention under way (start_date=..., and any other dates), through the services."""
    return services.intervention_create(
        case=case,
        by=by,
        kind=kind,
        provider_name=provider_name,
        status=InterventionStatus.ONGOING,
        goal=goal,
        **dates,
    )


def share_on_consent(
    case: Case,
    *,
    by: User,
    recipient: Agency,
    reference: str,
    given_on: date,
    valid_until: date,
    **scopes: bool,
) -> CaseShare:
    """The person's consent to share with `recipient` (scope_interventions=True, ...) and the
    share that rests on it."""
    consent = services.consent_create(
        individual=case.individual,
        case=case,
        by=by,
        recipient=recipient,
        given_on=given_on,
        valid_until=valid_until,
        document_reference=reference,
        **scopes,
    )
    return services.case_share(case=case, agency=recipient, by=by, consent=consent)


def delegate(user: User, *kinds: str, reference: str = "Delegationsordning SN, punkt 4") -> None:
    """Lines of the municipality's delegation order for `user`, valid from today on; loaded
    as an agency admin would enter them (method.services.delegation_create)."""
    today = timezone.localdate()
    for kind in kinds:
        Delegation.objects.get_or_create(
            agency_id=user.agency_id,
            user=user,
            kind=kind,
            defaults={"reference": reference, "valid_from": today - timedelta(days=365)},
        )


def settle_required_steps(case: Case, by: User) -> None:
    """Do the required steps of the phases the case is in (method.services), so it may move on."""
    for case_step in method_services.open_required_steps(case, case.status):
        method_services.step_complete(case_step=case_step, case=case, by=by)


def advance(
    case: Case, by: User, to_status: str, *, reason: str = "", end_reason: str = ""
) -> None:
    """Move the case one step on through its checklist, as a worker would."""
    case.refresh_from_db()
    settle_required_steps(case, by)
    services.case_change_status(
        case=case, to_status=to_status, by=by, reason=reason, end_reason=end_reason
    )
    case.refresh_from_db()
