"""A realistic national dataset for benchmarks: `manage.py seed_scale --cases N`.

Agencies and users are made by the development loaders' shared builders (devdata/factories.py:
bulk_create, a few thousand rows, and every model field gets its default). The big tables are
written with PostgreSQL COPY through psycopg 3, with explicit ids so the rows can refer to each
other without a round trip per row, and with the shared names and identity numbers. Everything
is generated from a fixed random seed, so two runs with the same N are equal.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import connection, models, transaction
from django.utils import timezone

from avhopp.audit_partitions import add_months
from avhopp.models import Agency, AgencyKind, AuditAction, AuditEvent, AuditShownCase, Role, User
from cases.models import (
    END_REASONS,
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseStatus,
    CaseStatusChange,
    Consent,
    Individual,
    Intervention,
    InterventionKind,
    InterventionStatus,
    JournalEntry,
    LegalBasis,
    ProtectionLevel,
    ReferralSource,
    ThreatAssessment,
    ThreatLevel,
)
from devdata.audit_volume import create_months, seed_audit_events
from devdata.factories import (
    FIRST_NAMES,
    LAST_NAMES,
    AgencySpec,
    UserSpec,
    ensure_agencies,
    ensure_users,
    identity_number,
)
from referrals.models import Referral, ReferralStatus

SEED_PASSWORD = "Avhopp-bench-2026"

# Real county codes, their number of municipalities (290 in all) and police region.
COUNTIES: list[tuple[str, str, int, str]] = [
    ("01", "Stockholm", 26, "Stockholm"),
    ("03", "Uppsala", 8, "Mitt"),
    ("04", "Södermanland", 9, "Öst"),
    ("05", "Östergötland", 13, "Öst"),
    ("06", "Jönköping", 13, "Öst"),
    ("07", "Kronoberg", 8, "Syd"),
    ("08", "Kalmar", 12, "Syd"),
    ("09", "Gotland", 1, "Stockholm"),
    ("10", "Blekinge", 5, "Syd"),
    ("12", "Skåne", 33, "Syd"),
    ("13", "Halland", 6, "Väst"),
    ("14", "Västra Götaland", 49, "Väst"),
    ("17", "Värmland", 16, "Bergslagen"),
    ("18", "Örebro", 12, "Bergslagen"),
    ("19", "Västmanland", 10, "Bergslagen"),
    ("20", "Dalarna", 15, "Bergslagen"),
    ("21", "Gävleborg", 10, "Mitt"),
    ("22", "Västernorrland", 7, "Mitt"),
    ("23", "Jämtland", 8, "Nord"),
    ("24", "Västerbotten", 15, "Nord"),
    ("25", "Norrbotten", 14, "Nord"),
]
POLICE_REGIONS = ["Nord", "Mitt", "Stockholm", "Öst", "Väst", "Syd", "Bergslagen"]
CIVIL_SOCIETY = 30

_PLACE_HEADS = [
    "Björk", "Ek", "Lind", "Ask", "Gran", "Tall", "Sjö", "Berg", "Dal", "Ström", "Å", "Hag",
    "Kvarn", "Sand", "Sten", "Mal", "Ny", "Norr", "Söder", "Väster", "Öster", "Hög", "Lill",
    "Stor", "Älv", "Hav", "Fors", "Mo", "Rön", "Al",
]  # fmt: skip
_PLACE_TAILS = [
    "by", "vik", "köping", "holm", "sund", "berga", "hult", "fors", "näs", "stad", "torp",
    "ås", "dal", "å", "hamn", "tuna", "landa", "ryd",
]  # fmt: skip
STREETS = ["Storgatan", "Kyrkogatan", "Skolgatan", "Järnvägsgatan", "Parkvägen", "Ringvägen"]

# Weighted choices: (value, weight). Cases' status mix and the size of each case.
STATUS_MIX = [
    (CaseStatus.REPORTED, 10),
    (CaseStatus.INITIAL_ASSESSMENT, 10),
    (CaseStatus.INVESTIGATION, 15),
    (CaseStatus.INTERVENTIONS, 25),
    (CaseStatus.FOLLOW_UP, 10),
    (CaseStatus.CLOSED, 20),
    (CaseStatus.DROPPED_OUT, 10),
]
PATH = [
    CaseStatus.REPORTED,
    CaseStatus.INITIAL_ASSESSMENT,
    CaseStatus.INVESTIGATION,
    CaseStatus.INTERVENTIONS,
    CaseStatus.FOLLOW_UP,
    CaseStatus.CLOSED,
]
# Mean 5.0 interventions and 2.0 threat assessments per case, with a long tail.
INTERVENTIONS_PER_CASE = [
    (0, 8), (1, 8), (2, 9), (3, 11), (4, 12), (5, 12), (6, 11), (8, 11), (10, 10), (15, 6),
    (25, 2), (40, 0.6),
]  # fmt: skip
ASSESSMENTS_PER_CASE = [
    (0, 33), (1, 20), (2, 15), (3, 12), (4, 9), (5, 5), (6, 3), (8, 2), (12, 0.8), (20, 0.2),
]  # fmt: skip
JOURNAL_PER_CASE = [(0, 20), (1, 25), (2, 20), (3, 15), (5, 12), (8, 6), (15, 2)]
# A case with this many interventions is a long, intensive one (about 2.6 % of cases): it
# also has years of notes, so the largest cases are large in every part (bench/run.py).
INTENSIVE_CASE_INTERVENTIONS = 25
INTENSIVE_CASE_EXTRA_NOTES = (50, 150)
AUDIT_PER_CASE = 20

CASE_AUDIT_ACTIONS = [
    (AuditAction.CASE_VIEW, 60),
    (AuditAction.INTERVENTION_CREATE, 6),
    (AuditAction.INTERVENTION_UPDATE, 5),
    (AuditAction.JOURNAL_CREATE, 8),
    (AuditAction.CASE_UPDATE, 4),
    (AuditAction.CASE_STATUS, 4),
    (AuditAction.THREAT_CREATE, 3),
    (AuditAction.THREAT_DETAILS_VIEW, 3),
    (AuditAction.OUTSIDE_ASSIGNMENT_READ, 3),
    (AuditAction.CASE_SHARE, 2),
    (AuditAction.REFERRAL_CREATE, 1),
    (AuditAction.IDENTITY_REVEAL, 1),
]
USER_AUDIT_ACTIONS = [
    (AuditAction.CASE_LIST, 45),
    (AuditAction.CASE_SEARCH, 15),
    (AuditAction.LOGIN, 20),
    (AuditAction.LOGOUT, 15),
    (AuditAction.LOGIN_FAILED, 3),
    (AuditAction.ACCESS_DENIED, 2),
]


def _cumulative(choices: list[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    values, weights, total = [], [], 0.0
    for value, weight in choices:
        total += weight
        values.append(value)
        weights.append(total)
    return values, weights


@dataclass
class Plan:
    cases: int
    municipalities: int = 290
    users_per_municipality: int = 16
    officers_per_region: int = 40
    audit_per_case: int = AUDIT_PER_CASE
    seed: int = 2026
    # A log of this many events written by PostgreSQL over 24 months (devdata.audit_volume),
    # instead of audit_per_case events a case through COPY.
    audit_events: int | None = None
    # share of all cases each police region sees (5 % of N, i.e. 5,000 at N = 100,000)
    police_share_fraction: float = 0.05


@dataclass
class Seeded:
    timings: dict[str, tuple[int, float]] = field(default_factory=dict)

    def timed(self, name: str, action: Callable[[], int]) -> int:
        started = time.perf_counter()
        rows = action()
        self.timings[name] = (rows, time.perf_counter() - started)
        return rows


# --- COPY ------------------------------------------------------------------------------------


def copy_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY rows into the model's table. Fields not named get their model default, so a
    column added later by a migration (with a default) does not break the seeder."""
    now = timezone.now()
    tail_columns: list[str] = []
    tail: list[Any] = []
    for model_field in model._meta.concrete_fields:
        if model_field.column in columns or model_field.primary_key:
            continue
        tail_columns.append(model_field.column)
        if model_field.has_default():
            tail.append(model_field.get_default())
        elif getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            tail.append(now)
        elif model_field.null:
            tail.append(None)
        else:
            tail.append("")
    names = ", ".join(f'"{name}"' for name in [*columns, *tail_columns])
    extra = tuple(tail)
    count = 0
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f'COPY "{model._meta.db_table}" ({names}) FROM STDIN') as copy,
    ):
        write = copy.write_row
        for row in rows:
            write(row + extra)
            count += 1
    return count


def next_id(model: type[models.Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')  # noqa: S608
        return int(cursor.fetchone()[0])


# Tables filled by COPY, which bypasses the id sequences: they are reset afterwards.
COPIED_MODELS: tuple[type[models.Model], ...] = (
    Individual,
    Case,
    CaseStatusChange,
    Consent,
    CaseShare,
    CaseGroupObjectPermission,
    ThreatAssessment,
    Intervention,
    JournalEntry,
    Referral,
    AuditEvent,
    AuditShownCase,
)


def reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    with connection.cursor() as cursor:
        for model in model_list:
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
                f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)',
                [table],
            )


def truncate_all() -> None:
    """Empty every table the seeder writes (TRUNCATE: the audit trigger only blocks
    UPDATE and DELETE)."""
    tables = [
        model._meta.db_table
        for config in ("cases", "referrals", "avhopp")
        for model in apps.get_app_config(config).get_models(include_auto_created=True)
    ]
    tables += ["auth_group", "django_session"]
    for optional in ("guardian_groupobjectpermission", "guardian_userobjectpermission"):
        if optional in connection.introspection.table_names():
            tables.append(optional)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )


# --- Generation ------------------------------------------------------------------------------


class Seeder:
    def __init__(self, plan: Plan, log: Callable[[str], None] = print) -> None:
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.log = log
        self.result = Seeded()
        self.now = timezone.now().astimezone(UTC).replace(microsecond=0)
        self.today = timezone.localdate()
        self.intensive_cases: set[int] = set()  # filled by `interventions`

    # Helpers

    def pick(self, cumulative: tuple[list[Any], list[float]]) -> Any:
        values, weights = cumulative
        return self.rng.choices(values, cum_weights=weights)[0]

    def ago(self, max_days: float, min_days: float = 0.0) -> datetime:
        return self.now - timedelta(seconds=self.rng.uniform(min_days, max_days) * 86400)

    def step(self, name: str, action: Callable[[], int]) -> int:
        rows = self.result.timed(name, action)
        rows_done, seconds = self.result.timings[name]
        self.log(f"  {name:<28} {rows_done:>10,} rows  {seconds:7.1f} s")
        return rows

    # Steps

    def run(self) -> Seeded:
        started = time.perf_counter()
        with transaction.atomic():
            self.step("agencies + groups", self.agencies)
            self.step("users", self.users)
            self.step("individuals", self.individuals)
            self.step("cases", self.cases)
            self.step("status changes", self.status_changes)
            self.step("consents", self.consents)
            self.step("shares", self.shares)
            self.step("group permissions", self.grants)
            self.step("threat assessments", self.assessments)
            self.step("interventions", self.interventions)
            self.step("journal entries", self.journal)
            self.step("referrals", self.referrals)
            self.step("audit log partitions", self.audit_partitions)
            if self.plan.audit_events is None:
                self.step("audit events", self.audit)
            else:
                self.step("audit events (SQL)", self.audit_volume)
            reset_sequences(COPIED_MODELS)
        self.step("vacuum analyze", self.analyze)
        self.result.timings["total"] = (0, time.perf_counter() - started)
        return self.result

    def agencies(self) -> int:
        plan, rng = self.plan, self.rng
        rows: list[tuple[str, str, str, str]] = []  # name, kind, code, region
        places: set[str] = set()
        municipalities = []
        for county_code, county, count, police_region in COUNTIES:
            for index in range(count):
                while True:
                    place = rng.choice(_PLACE_HEADS) + rng.choice(_PLACE_TAILS)
                    if place not in places:
                        places.add(place)
                        break
                code = f"{county_code}{14 + index * 2 if count < 43 else 14 + index:02d}"
                municipalities.append(
                    (f"{place} kommun, socialtjänsten", code, county, police_region)
                )
        # Fewer municipalities for small test runs: an even spread over the counties.
        if plan.municipalities < len(municipalities):
            stride = len(municipalities) / plan.municipalities
            municipalities = [municipalities[int(i * stride)] for i in range(plan.municipalities)]
        for name, code, county, _region in municipalities:
            rows.append((name, AgencyKind.SOCIAL_SERVICES, code, county))
        for region in POLICE_REGIONS:
            rows.append((f"Polisregion {region}", AgencyKind.POLICE, "", region))
        rows.append(("Kriminalvården", AgencyKind.PRISON_PROBATION, "", ""))
        rows.append(("Statens institutionsstyrelse (SiS)", AgencyKind.SIS, "", ""))
        for index in range(CIVIL_SOCIETY):
            rows.append(
                (
                    f"Föreningen {_PLACE_HEADS[index]}vägen (stöd vid avhopp)",
                    AgencyKind.CIVIL_SOCIETY,
                    "",
                    "",
                )
            )
        specs = []
        for i, row in enumerate(rows):
            post_code = f"{rng.randint(100, 989)} {rng.randint(10, 99)}"
            specs.append(AgencySpec(*row, address=f"Box {100 + i}, {post_code}"))
        agencies = ensure_agencies(specs)
        self.municipalities = [a for a in agencies if a.kind == AgencyKind.SOCIAL_SERVICES]
        self.police = {a.region: a for a in agencies if a.kind == AgencyKind.POLICE}
        self.prison = next(a for a in agencies if a.kind == AgencyKind.PRISON_PROBATION)
        self.sis = next(a for a in agencies if a.kind == AgencyKind.SIS)
        self.civil = [a for a in agencies if a.kind == AgencyKind.CIVIL_SOCIETY]
        region_of_county = {county: region for _c, county, _n, region in COUNTIES}
        self.region_of = {
            m.pk: self.police[region_of_county[m.region]] for m in self.municipalities
        }
        self.agencies_by_id = {a.pk: a for a in agencies}
        return len(agencies)

    def users(self) -> int:
        plan, rng = self.plan, self.rng
        specs: list[UserSpec] = []

        def add(agency: Agency, role: str, username: str) -> None:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            specs.append(UserSpec(username, first, last, agency, role, f"{username}@example.se"))

        per = plan.users_per_municipality
        roles = (
            [Role.SOCIAL_WORKER] * max(1, per - 4)
            + [Role.COORDINATOR] * 2
            + [Role.LOG_REVIEWER, Role.AGENCY_ADMIN]
        )
        for agency in self.municipalities:
            for index, role in enumerate(roles):
                add(agency, role, f"k{agency.municipality_code}_{role[:5]}{index:02d}")
        for region, agency in self.police.items():
            slug = region.lower().replace("ö", "o").replace("ä", "a")
            for index in range(plan.officers_per_region):
                add(agency, Role.POLICE_OFFICER, f"polis_{slug}_{index:02d}")
            add(agency, Role.AGENCY_ADMIN, f"polis_{slug}_admin")
        for agency, slug, count in ((self.prison, "kvv", 30), (self.sis, "sis", 20)):
            for index in range(count):
                add(agency, Role.COORDINATOR, f"{slug}_{index:02d}")
        for number, agency in enumerate(self.civil):
            for index in range(2):
                add(agency, Role.COORDINATOR, f"org{number:02d}_{index}")
        created = list(ensure_users(specs, password=make_password(SEED_PASSWORD)).values())
        self.staff: dict[int, dict[str, list[int]]] = {}
        for user in created:
            self.staff.setdefault(user.agency_id, {}).setdefault(user.role, []).append(user.pk)
        self.all_users = [(u.pk, u.username, u.agency_id, u.role) for u in created]
        return len(created)

    def individuals(self) -> int:
        plan, rng = self.plan, self.rng
        first_id = next_id(Individual)
        taken: set[str] = set()
        protection = _cumulative(
            [
                (ProtectionLevel.NONE, 95),
                (ProtectionLevel.CONFIDENTIALITY_MARKING, 3),
                (ProtectionLevel.PROTECTED_REGISTRATION, 1.5),
                (ProtectionLevel.FICTITIOUS_IDENTITY, 0.5),
            ]
        )
        earliest = date(1960, 1, 1)
        span = (date(2008, 12, 31) - earliest).days
        self.individual_ids: list[int] = []

        def rows() -> Iterator[tuple]:
            for index in range(plan.cases):
                pk = first_id + index
                self.individual_ids.append(pk)
                born = earliest + timedelta(days=rng.randrange(span))
                personnummer = reserve = None
                if rng.random() < 0.01:  # identity unknown: a reserve number
                    reserve = f"R{self.today:%Y}{pk:08d}"
                else:
                    coordination = rng.random() < 0.02  # a samordningsnummer
                    while True:
                        number = identity_number(
                            born, rng.randrange(1000), coordination=coordination
                        )
                        if number not in taken:
                            taken.add(number)
                            personnummer = number
                            break
                yield (
                    pk,
                    rng.choice(FIRST_NAMES),
                    rng.choice(LAST_NAMES),
                    personnummer,
                    reserve,
                    born,
                    "male" if rng.random() < 0.85 else "female",
                    self.pick(protection),
                    f"07{rng.randrange(10**8):08d}",
                    f"{rng.choice(STREETS)} {rng.randint(1, 80)}, {rng.randint(100, 989)} 00",
                    self.ago(2000),
                )

        return copy_rows(
            Individual,
            [
                "id",
                "first_name",
                "last_name",
                "personnummer",
                "reserve_number",
                "birth_date",
                "gender",
                "protection_level",
                "phone",
                "address",
                "created_at",
            ],
            rows(),
        )

    def cases(self) -> int:
        plan, rng = self.plan, self.rng
        first_id = next_id(Case)
        # Municipalities differ in size: a skewed (log-normal) weight for each.
        weights = [rng.lognormvariate(0, 0.8) for _ in self.municipalities]
        owners = rng.choices(self.municipalities, weights=weights, k=plan.cases)
        statuses = _cumulative(STATUS_MIX)
        sources = list(ReferralSource.values)
        # Each case: (id, owner agency id, responsible id, status, opened, first support,
        # closed). Kept for the dependent tables.
        self.case_rows: list[tuple[int, int, int, str, datetime, datetime | None]] = []
        self.case_threat: dict[int, tuple[str, date]] = {}

        def rows() -> Iterator[tuple]:
            for index in range(plan.cases):
                pk = first_id + index
                owner = owners[index]
                staff = self.staff[owner.pk]
                if rng.random() < 0.9:
                    responsible = rng.choice(staff[Role.SOCIAL_WORKER])
                else:
                    responsible = rng.choice(staff[Role.COORDINATOR])
                status = self.pick(statuses)
                opened = self.ago(6 * 365, 1)
                age = (self.now - opened).total_seconds()
                first_support = closed = None
                position = PATH.index(status) if status in PATH else rng.randrange(4)
                if position >= 3:
                    first_support = opened + timedelta(seconds=age * rng.uniform(0.05, 0.3))
                close_reason = end_reason = ""
                if status in (CaseStatus.CLOSED, CaseStatus.DROPPED_OUT):
                    end_reason = rng.choice(END_REASONS[status])
                    closed = opened + timedelta(seconds=age * rng.uniform(0.5, 0.95))
                    close_reason = (
                        "Målen i överenskommelsen uppnådda."
                        if status == CaseStatus.CLOSED
                        else "Personen avbröt programmet."
                    )
                agreement = (opened + timedelta(days=20)).date() if position >= 2 else None
                self.case_rows.append((pk, owner.pk, responsible, status, opened, closed))
                self._path_positions.append(position)
                yield (
                    pk,
                    self.individual_ids[index],
                    owner.pk,
                    responsible,
                    status,
                    rng.choice(sources),
                    "Vill lämna gänget och börja arbeta.",
                    agreement,
                    "Drogfrihet, inga nya brott." if agreement else "",
                    opened,
                    first_support,
                    closed,
                    close_reason,
                    end_reason,
                    "",
                    None,
                    closed or self.now,
                )

        self._path_positions: list[int] = []
        return copy_rows(
            Case,
            [
                "id",
                "individual_id",
                "owning_agency_id",
                "responsible_id",
                "status",
                "referral_source",
                "motivation_notes",
                "agreement_signed_on",
                "agreement_conditions",
                "opened_at",
                "first_support_at",
                "closed_at",
                "close_reason",
                "end_reason",
                "threat_level",
                "threat_review_due",
                "updated_at",
            ],
            rows(),
        )

    def status_changes(self) -> int:
        def rows() -> Iterator[tuple]:
            for (pk, _owner, responsible, status, opened, closed), position in zip(
                self.case_rows, self._path_positions, strict=True
            ):
                end = closed or self.now
                steps = PATH[: position + 1]
                if status == CaseStatus.DROPPED_OUT:
                    steps = [*steps, CaseStatus.DROPPED_OUT]
                span = (end - opened).total_seconds()
                previous = ""
                for number, to_status in enumerate(steps):
                    last = number == len(steps) - 1
                    if number == 0:
                        when = opened
                    elif last and closed is not None:
                        when = closed
                    else:
                        when = opened + timedelta(seconds=span * number / (len(steps) + 1))
                    reason = ""
                    if last and to_status in (CaseStatus.CLOSED, CaseStatus.DROPPED_OUT):
                        reason = (
                            "Avslut enligt plan." if to_status == CaseStatus.CLOSED else "Avbrott."
                        )
                    yield (pk, previous, to_status, responsible, when, reason)
                    previous = to_status

        return copy_rows(
            CaseStatusChange,
            ["case_id", "from_status", "to_status", "changed_by_id", "changed_at", "reason"],
            rows(),
        )

    def consents(self) -> int:
        """Decide every share first; consent-based ones get their consent row here."""
        plan, rng = self.plan, self.rng
        first_consent = next_id(Consent)
        cases_per_region: dict[int, int] = {}
        for _pk, owner, *_rest in self.case_rows:
            region = self.region_of[owner].pk
            cases_per_region[region] = cases_per_region.get(region, 0) + 1
        police_p = {
            region: min(0.9, plan.police_share_fraction * plan.cases / count)
            for region, count in cases_per_region.items()
        }
        # (case pk, owner, agency, consent id or None, expires_on, revoked_at, scopes)
        self.share_rows: list[tuple] = []
        consent_rows: list[tuple] = []
        consent_id = first_consent
        for index, (pk, owner, responsible, _status, opened, _closed) in enumerate(self.case_rows):
            recipients = []
            police = self.region_of[owner]
            if rng.random() < police_p[police.pk]:
                recipients.append(police)
            if rng.random() < 0.04:
                recipients.append(self.prison)
            if rng.random() < 0.02:
                recipients.append(self.sis)
            if rng.random() < 0.03:
                recipients.append(rng.choice(self.civil))
            for agency in recipients:
                created = min(opened + timedelta(days=rng.randint(1, 60)), self.now)
                given = min(created.date(), self.today)
                roll = rng.random()
                scopes = (rng.random() < 0.8, rng.random() < 0.7, rng.random() < 0.3)
                revoked = None
                if roll < 0.04:
                    revoked = created + (self.now - created) * rng.random()
                if agency.kind == AgencyKind.POLICE and rng.random() < 0.25:
                    self.share_rows.append(
                        (pk, owner, agency, None, None, revoked, scopes, created)
                    )
                    continue
                if roll > 0.97:  # run out, but the periodic job has not revoked it yet
                    valid_until = self.today - timedelta(days=rng.randint(1, 20))
                    given = min(given, valid_until - timedelta(days=30))
                else:
                    valid_until = max(given, self.today) + timedelta(days=rng.randint(30, 700))
                consent_rows.append(
                    (
                        consent_id,
                        self.individual_ids[index],
                        agency.pk,
                        given,
                        valid_until,
                        f"SAM-{consent_id}",
                        revoked,
                        responsible,
                        *scopes,
                    )
                )
                self.share_rows.append(
                    (pk, owner, agency, consent_id, valid_until, revoked, scopes, created)
                )
                consent_id += 1
        return copy_rows(
            Consent,
            [
                "id",
                "individual_id",
                "recipient_id",
                "given_on",
                "valid_until",
                "document_reference",
                "withdrawn_at",
                "created_by_id",
                "scope_interventions",
                "scope_threat_level",
                "scope_journal",
            ],
            consent_rows,
        )

    def shares(self) -> int:
        rng = self.rng
        coordinators = {a: s.get(Role.COORDINATOR, []) for a, s in self.staff.items()}

        def rows() -> Iterator[tuple]:
            for pk, owner, agency, consent, expires, revoked, scopes, created in self.share_rows:
                legal = "" if consent else LegalBasis.SUSPECTED_CRIME
                reason = ("consent_withdrawn" if consent else "unshared") if revoked else ""
                yield (
                    pk,
                    agency.pk,
                    consent,
                    legal,
                    "OSL 10 kap. 21 §, förundersökning" if legal else "",
                    expires,
                    rng.choice(coordinators[owner]),
                    created,
                    revoked,
                    reason,
                    *scopes,
                )

        return copy_rows(
            CaseShare,
            [
                "case_id",
                "agency_id",
                "consent_id",
                "legal_basis",
                "legal_basis_citation",
                "expires_on",
                "created_by_id",
                "created_at",
                "revoked_at",
                "revoked_reason",
                "scope_interventions",
                "scope_threat_level",
                "scope_journal",
            ],
            rows(),
        )

    def grants(self) -> int:
        view = Permission.objects.get(content_type__app_label="cases", codename="view_case")
        change = Permission.objects.get(content_type__app_label="cases", codename="change_case")
        group_of = {pk: agency.group_id for pk, agency in self.agencies_by_id.items()}

        def rows() -> Iterator[tuple]:
            for pk, owner, *_rest in self.case_rows:
                yield (pk, group_of[owner], view.pk)
                yield (pk, group_of[owner], change.pk)
            for pk, _owner, agency, _consent, _expires, revoked, *_rest in self.share_rows:
                if revoked is None:  # a revoked share has had its grant removed
                    yield (pk, agency.group_id, view.pk)

        return copy_rows(
            CaseGroupObjectPermission, ["content_object_id", "group_id", "permission_id"], rows()
        )

    def assessments(self) -> int:
        rng = self.rng
        sizes = _cumulative(ASSESSMENTS_PER_CASE)
        levels = list(ThreatLevel.values)
        updates: list[tuple[int, str, date]] = []

        def rows() -> Iterator[tuple]:
            for pk, owner, _responsible, _status, opened, closed in self.case_rows:
                count = self.pick(sizes)
                if not count:
                    continue
                officers = self.staff[self.region_of[owner].pk][Role.POLICE_OFFICER]
                end = closed or self.now
                span = (end - opened).total_seconds()
                times = sorted(
                    opened + timedelta(seconds=span * rng.random()) for _ in range(count)
                )
                level = ""
                review = self.today
                for when in times:
                    level = rng.choice(levels)
                    review = when.date() + timedelta(days=rng.randint(30, 120))
                    yield (
                        pk,
                        level,
                        "Sammanfattning av hotbilden för ärendegruppen.",
                        "Uppgifter från underrättelse; endast polis.",
                        rng.random() < 0.2,
                        rng.random() < 0.1,
                        rng.random() < 0.05,
                        "",
                        rng.choice(officers),
                        when,
                        review,
                    )
                updates.append((pk, level, review))

        count = copy_rows(
            ThreatAssessment,
            [
                "case_id",
                "level",
                "summary",
                "details",
                "protected_address",
                "relocation",
                "personal_protection",
                "other_measures",
                "assessed_by_id",
                "assessed_at",
                "next_review_date",
            ],
            rows(),
        )
        # Case.threat_level/threat_review_due mirror the newest assessment.
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE seed_threat (case_id bigint, level text, due date) "
                "ON COMMIT DROP"
            )
        copy_rows_raw("seed_threat", ["case_id", "level", "due"], updates)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE cases_case c SET threat_level = t.level, threat_review_due = t.due "
                "FROM seed_threat t WHERE t.case_id = c.id"
            )
            cursor.execute("DROP TABLE seed_threat")
        return count

    def interventions(self) -> int:
        rng = self.rng
        sizes = _cumulative(INTERVENTIONS_PER_CASE)
        kinds = list(InterventionKind.values)
        providers = [self.prison.pk, self.sis.pk, *[a.pk for a in self.civil]]
        external = ["Arbetsförmedlingen", "Folkhögskola", "Beroendemottagningen", "Bostadsbolaget"]

        def rows() -> Iterator[tuple]:
            for pk, _owner, responsible, status, opened, closed in self.case_rows:
                count = self.pick(sizes)
                if status in (CaseStatus.REPORTED, CaseStatus.INITIAL_ASSESSMENT):
                    count //= 2
                if count >= INTENSIVE_CASE_INTERVENTIONS:
                    self.intensive_cases.add(pk)
                end = closed or self.now
                span = (end - opened).total_seconds()
                for _ in range(count):
                    decided = (opened + timedelta(seconds=span * rng.random())).date()
                    start = decided + timedelta(days=rng.randint(0, 30))
                    roll = rng.random()
                    if closed is not None or roll < 0.4:
                        state = InterventionStatus.COMPLETED
                        stop = start + timedelta(days=rng.randint(10, 200))
                    elif roll < 0.5:
                        state, stop = InterventionStatus.CANCELLED, start + timedelta(days=5)
                    elif roll < 0.8:
                        state, stop = InterventionStatus.ONGOING, None
                    else:
                        state, stop = InterventionStatus.PLANNED, None
                    agency = rng.choice(providers) if rng.random() < 0.3 else None
                    yield (
                        pk,
                        rng.choice(kinds),
                        agency,
                        "" if agency else rng.choice(external),
                        state,
                        decided,
                        start,
                        stop,
                        start + timedelta(days=rng.randint(30, 180)),
                        "Stabil vardag utan brott.",
                        "Genomförd enligt plan." if state == InterventionStatus.COMPLETED else "",
                        responsible,
                        opened,
                        opened,
                    )

        return copy_rows(
            Intervention,
            [
                "case_id",
                "kind",
                "provider_agency_id",
                "provider_name",
                "status",
                "decision_date",
                "start_date",
                "end_date",
                "follow_up_date",
                "goal",
                "outcome",
                "created_by_id",
                "created_at",
                "updated_at",
            ],
            rows(),
        )

    def journal(self) -> int:
        rng = self.rng
        sizes = _cumulative(JOURNAL_PER_CASE)
        first_id = next_id(JournalEntry)
        counter = [first_id]

        def rows() -> Iterator[tuple]:
            for pk, _owner, responsible, _status, opened, closed in self.case_rows:
                end = closed or self.now
                span = (end - opened).total_seconds()
                previous = None
                count = self.pick(sizes)
                if pk in self.intensive_cases:
                    count += rng.randint(*INTENSIVE_CASE_EXTRA_NOTES)
                for _ in range(count):
                    entry = counter[0]
                    counter[0] += 1
                    corrects = previous if previous and rng.random() < 0.03 else None
                    yield (
                        entry,
                        pk,
                        responsible,
                        opened + timedelta(seconds=span * rng.random()),
                        "Samtal med personen om boende och arbete. Planen följs upp nästa vecka.",
                        corrects,
                    )
                    previous = entry

        return copy_rows(
            JournalEntry,
            ["id", "case_id", "author_id", "created_at", "text", "corrects_id"],
            rows(),
        )

    def referrals(self) -> int:
        rng = self.rng
        recipients = [self.prison.pk, self.sis.pk, *[a.pk for a in self.civil]]

        def rows() -> Iterator[tuple]:
            for pk, owner, _responsible, _status, opened, _closed in self.case_rows:
                if rng.random() >= 0.02:
                    continue
                failed = rng.random() < 0.2
                coordinator = rng.choice(self.staff[owner][Role.COORDINATOR])
                yield (
                    "referral",
                    pk,
                    owner,
                    rng.choice(recipients),
                    rng.choice(list(InterventionKind.values)),
                    "Behov av stöd i avhoppet.",
                    "Personen har påbörjat programmet.",
                    "Samordnare, tel. 08-123 456",
                    coordinator,
                    opened + timedelta(days=rng.randint(10, 90)),
                    ReferralStatus.FAILED if failed else ReferralStatus.DRAFT,
                    "Tillfälligt fel kvarstod efter flera försök." if failed else "",
                )

        return copy_rows(
            Referral,
            [
                "kind",
                "case_id",
                "from_agency_id",
                "to_agency_id",
                "intervention_kind",
                "reason",
                "summary",
                "contact_person",
                "created_by_id",
                "created_at",
                "status",
                "error_message",
            ],
            rows(),
        )

    def audit_partitions(self) -> int:
        """The log's months from 25 months back to three ahead, made before any event is
        written, so the seeded months get partitions of their own, not the DEFAULT one."""
        month = self.now.date().replace(day=1)
        return create_months(add_months(month, -25), add_months(month, 3))

    def audit_volume(self) -> int:
        events, shown = seed_audit_events(
            self.plan.audit_events or 0,
            now=self.now,
            seed=self.plan.seed,
            case_actions=CASE_AUDIT_ACTIONS,
            user_actions=USER_AUDIT_ACTIONS,
            log=self.log,
        )
        self.log(f"    {shown:,} shown-case rows")
        return events

    def audit(self) -> int:
        plan, rng = self.plan, self.rng
        total = plan.cases * plan.audit_per_case
        case_actions = _cumulative(CASE_AUDIT_ACTIONS)
        user_actions = _cumulative(USER_AUDIT_ACTIONS)
        agency_name = {pk: a.name for pk, a in self.agencies_by_id.items()}
        users = self.all_users
        start = self.now - timedelta(days=730)
        step = 730 * 86400 / max(total, 1)
        case_rows = self.case_rows
        shares_by_case: dict[int, list[int]] = {}
        for pk, _owner, agency, *_rest in self.share_rows:
            shares_by_case.setdefault(pk, []).append(agency.pk)
        random_ = rng.random
        randrange = rng.randrange

        def rows() -> Iterator[tuple]:
            for index in range(total):
                when = start + timedelta(seconds=step * index + random_() * step)
                ip = f"10.{randrange(256)}.{randrange(256)}.{randrange(1, 255)}"
                request_id = f"{rng.getrandbits(64):016x}"
                if random_() < 0.7:
                    pk, owner, responsible, *_rest = case_rows[randrange(len(case_rows))]
                    action = self.pick(case_actions)
                    agency = owner
                    shared = shares_by_case.get(pk)
                    if shared and random_() < 0.3:
                        agency = rng.choice(shared)
                    staff = self.staff[agency]
                    if agency == owner and random_() < 0.6:
                        user = responsible
                    else:
                        pool = staff.get(Role.POLICE_OFFICER) or staff.get(Role.COORDINATOR)
                        user = rng.choice(pool or staff[Role.SOCIAL_WORKER])
                    role = self._roles[user]
                    yield (
                        when,
                        user,
                        self._usernames[user],
                        agency,
                        agency_name[agency],
                        role,
                        action,
                        "cases.Case",
                        str(pk),
                        pk,
                        pk if action == AuditAction.CASE_VIEW else None,
                        ip,
                        request_id,
                        "supervision" if action == AuditAction.OUTSIDE_ASSIGNMENT_READ else "",
                    )
                else:
                    user, username, agency, role = users[randrange(len(users))]
                    action = self.pick(user_actions)
                    yield (
                        when,
                        user,
                        username,
                        agency,
                        agency_name[agency],
                        role,
                        action,
                        "",
                        "",
                        None,
                        None,
                        ip,
                        request_id,
                        "",
                    )

        self._usernames = {pk: name for pk, name, _agency, _role in users}
        self._roles = {pk: role for pk, _name, _agency, role in users}
        return copy_rows(
            AuditEvent,
            [
                "occurred_at",
                "user_id",
                "username",
                "agency_id",
                "agency_name",
                "role",
                "action",
                "object_type",
                "object_id",
                "case_id",
                "individual_id",
                "ip_address",
                "request_id",
                "reason",
            ],
            rows(),
        )

    def analyze(self) -> int:
        tables = [m._meta.db_table for m in (Agency, User, *COPIED_MODELS)]
        tables.append(User.groups.through._meta.db_table)
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f'{verb} "{table}"')
        return len(tables)


def copy_rows_raw(table: str, columns: list[str], rows: Iterable[tuple]) -> int:
    count = 0
    names = ", ".join(columns)
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
