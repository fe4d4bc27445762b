"""Who may reach what: every URL that names an object, for every kind of viewer.

The expectation table below is the contract. A new URL that takes an id fails
`test_every_id_url_is_in_the_expectation_table` until it is added here with the status
each actor must get. Statuses follow cases.policy: 404 for a case the viewer cannot see
(unrelated agencies), 403 for an action the viewer's role may not take on a case it can
see, a redirect to the outside-assignment reason page for owning-agency staff who are not
responsible (then the real status once a reason is given), 405 for POST-only views.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm, get_perms

from avhopp.audit import audit_record
from avhopp.models import Agency, AgencyKind, AuditAction, AuditEvent, Role, User
from cases import services
from cases.identity import format_identity_number, mask_identity_number
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    Consent,
    ConsentScope,
    Intervention,
    JournalEntry,
    ProtectionLevel,
    ThreatAssessment,
)
from cases.selectors import cases_visible_to, visible_case_ids
from referrals import services as referral_services
from referrals.models import DocumentKind, Referral, ReferralStatus
from referrals.storage import write_document
from tests.conftest import AgencyFactory

# --- The expectation table ------------------------------------------------------------------

# Column order of every row below.
ACTORS = (
    "worker",  # owning agency, responsible social worker
    "colleague",  # owning agency, social worker, not responsible
    "coordinator",  # owning agency, coordinator, not responsible
    "log_reviewer",  # owning agency
    "agency_admin",  # owning agency
    "officer",  # police agency the case is shared with
    "outsider",  # social worker of another municipality
    "other_officer",  # a second police agency the case is NOT shared with
    "anonymous",
)
REASON_ACTORS = frozenset({"colleague", "coordinator"})

# Tokens: "200"/"403"/"404"/"405" = that status; "R<nnn>" = redirect to the outside-assignment
# reason page until a reason is given, then <nnn>; "LOGIN" = redirect to the login page.
# 405 = the view is POST-only and the viewer got past every access check (that is fine).


@dataclass(frozen=True)
class Expect:
    child: str | None  # which object a `pk` in the URL names
    methods: tuple[str, ...]  # methods the view accepts
    row: str  # one token per actor, in ACTORS order

    def token(self, actor: str) -> str:
        tokens = self.row.split()
        assert len(tokens) == len(ACTORS), f"row needs {len(ACTORS)} tokens: {self.row!r}"
        return tokens[ACTORS.index(actor)]


GET, POST, GET_POST = ("GET",), ("POST",), ("GET", "POST")

#                              worker colleague coord  logrev admin  police outsid oth-pol anon
TABLE: dict[str, Expect] = {
    "cases:detail": Expect(None, GET, "200 R200 R200 403 403 200 404 404 LOGIN"),
    "cases:outside_reason": Expect(None, GET_POST, "200 200 200 403 403 200 404 404 LOGIN"),
    "cases:reveal": Expect(None, GET_POST, "200 403 R200 403 403 403 404 404 LOGIN"),
    "cases:edit": Expect(None, GET_POST, "200 R200 R200 403 403 403 404 404 LOGIN"),
    "cases:individual_edit": Expect(None, GET_POST, "200 R200 R200 403 403 403 404 404 LOGIN"),
    "cases:status": Expect(None, POST, "405 R405 R405 403 403 403 404 404 LOGIN"),
    "cases:intervention_create": Expect(None, GET_POST, "200 R200 R200 403 403 403 404 404 LOGIN"),
    "cases:intervention_edit": Expect(
        "intervention", GET_POST, "200 R200 R200 403 403 403 404 404 LOGIN"
    ),
    "cases:journal_create": Expect(None, POST, "405 R405 R405 403 403 403 404 404 LOGIN"),
    # A part's own page is read like the case page, and only if the reader's share covers
    # it: the police's share here covers interventions and the threat, not the journal.
    "cases:status_history": Expect(None, GET, "200 R200 R200 403 403 200 404 404 LOGIN"),
    "cases:interventions": Expect(None, GET, "200 R200 R200 403 403 200 404 404 LOGIN"),
    "cases:threat_assessments": Expect(None, GET, "200 R200 R200 403 403 200 404 404 LOGIN"),
    "cases:journal": Expect(None, GET, "200 R200 R200 403 403 403 404 404 LOGIN"),
    "cases:threat_create": Expect(None, GET_POST, "403 403 403 403 403 200 404 404 LOGIN"),
    "cases:consent_create": Expect(None, GET_POST, "403 403 R200 403 403 403 404 404 LOGIN"),
    "cases:consent_withdraw": Expect("consent", POST, "403 403 R405 403 403 403 404 404 LOGIN"),
    "cases:share_create": Expect(None, GET_POST, "403 403 R200 403 403 403 404 404 LOGIN"),
    "cases:share_revoke": Expect("share", POST, "403 403 R405 403 403 403 404 404 LOGIN"),
    "audit:case_readers": Expect(None, GET, "403 403 R200 200 403 403 404 404 LOGIN"),
    "referrals:create": Expect(None, GET_POST, "403 403 R200 403 403 403 404 404 LOGIN"),
    "referrals:sip_create": Expect(None, GET_POST, "403 403 R200 403 403 403 404 404 LOGIN"),
    # A referral (and its PDF, which carries the person's name, interventions and journal)
    # is case content: owning-agency staff who are not responsible must give the same
    # outside-assignment reason as for the case itself. Log reviewers and agency admins
    # read no case content, and the referral was not sent to the police: 404.
    "referrals:detail": Expect("referral", GET, "200 R200 R200 404 404 404 404 404 LOGIN"),
    "referrals:download": Expect("referral", GET, "200 R200 R200 404 404 404 404 404 LOGIN"),
    # The status poll carries no case content.
    "referrals:status": Expect("referral", GET, "200 200 200 404 404 404 404 404 LOGIN"),
    # POST-only and method-checked before anything else: a GET is 405 for everyone.
    "referrals:retry": Expect("referral", POST, "405 405 405 405 405 405 405 405 405"),
    "referrals:send": Expect("referral", POST, "405 405 405 405 405 405 405 405 405"),
    "referrals:answer": Expect("referral", POST, "405 405 405 405 405 405 405 405 405"),
    # User administration: the role is checked before the user is looked up, so every
    # other role gets 403 whatever the id. An admin of another agency gets 404 (tested below).
    "users:edit": Expect("user", GET_POST, "403 403 403 403 200 403 403 403 LOGIN"),
    "users:end_sessions": Expect("user", POST, "405 405 405 405 405 405 405 405 LOGIN"),
}

SKIPPED_PREFIXES = ("admin/", "i18n/")


# --- URL discovery --------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovered:
    name: str  # namespaced, e.g. "cases:detail"
    route: str
    params: frozenset[str]


def _params_of(pattern: Any) -> set[str]:
    converters = getattr(pattern, "converters", None)
    if converters:
        return set(converters)
    regex = getattr(pattern, "regex", None)
    return set(regex.groupindex) if regex is not None else set()


def _walk(
    patterns: Iterable[URLPattern | URLResolver], namespaces: tuple[str, ...], route: str
) -> Iterator[Discovered]:
    for entry in patterns:
        here = route + str(entry.pattern)
        if here.startswith(SKIPPED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            params = _params_of(entry.pattern)
            for found in _walk(entry.url_patterns, inner, here):
                yield Discovered(found.name, found.route, found.params | params)
        elif entry.name:
            params = frozenset(_params_of(entry.pattern))
            yield Discovered(":".join((*namespaces, entry.name)), here, params)


def discover_id_patterns() -> list[Discovered]:
    """Every named URL (outside admin/ and i18n/) that takes a parameter."""
    found = _walk(get_resolver().url_patterns, (), "")
    return [pattern for pattern in found if pattern.params]


def test_discovery_finds_the_known_case_urls() -> None:
    names = {pattern.name for pattern in discover_id_patterns()}
    assert {"cases:detail", "cases:intervention_edit", "audit:case_readers"} <= names
    assert not any(name.startswith("admin:") for name in names)


def test_every_id_url_is_in_the_expectation_table() -> None:
    discovered = {pattern.name: pattern for pattern in discover_id_patterns()}
    missing = sorted(set(discovered) - set(TABLE))
    assert not missing, f"URL patterns with an id and no access expectation: {missing}"
    stale = sorted(set(TABLE) - set(discovered))
    assert not stale, f"expectations for URL patterns that no longer exist: {stale}"
    for name, pattern in discovered.items():
        known = {"case_pk", "pk"}
        assert pattern.params <= known, f"{name} takes unknown parameters {pattern.params}"
        assert ("pk" in pattern.params) == (TABLE[name].child is not None), name


# --- The world: one case of `municipality`, shared with the police ---------------------------


@dataclass
class World:
    case: Case
    users: dict[str, User]
    intervention: Intervention
    consent: Consent
    share: CaseShare
    referral: Referral
    journal: JournalEntry
    assessment: ThreatAssessment
    extra: dict[str, Any] = field(default_factory=dict)

    def children(self) -> dict[str, int]:
        return {
            "intervention": self.intervention.pk,
            "consent": self.consent.pk,
            "share": self.share.pk,
            "referral": self.referral.pk,
            "user": self.users["colleague"].pk,
        }

    def url(self, name: str, patterns: list[Discovered] | None = None) -> str:
        pattern = next(p for p in patterns or discover_id_patterns() if p.name == name)
        kwargs: dict[str, int] = {}
        if "case_pk" in pattern.params:
            kwargs["case_pk"] = self.case.pk
        if "pk" in pattern.params:
            child = TABLE[name].child
            assert child is not None
            kwargs["pk"] = self.children()[child]
        return reverse(name, kwargs=kwargs)

    def id_urls(self) -> dict[str, str]:
        """URLs of the covered patterns (an uncovered one fails the coverage test alone)."""
        patterns = [pattern for pattern in discover_id_patterns() if pattern.name in TABLE]
        return {pattern.name: self.url(pattern.name, patterns) for pattern in patterns}


def ready_referral(case: Case, by: User, to_agency: Agency) -> Referral:
    """A referral whose document is ready, so download answers 200 for those allowed."""
    referral = referral_services.referral_create(
        case=case,
        by=by,
        kind=DocumentKind.REFERRAL,
        to_agency=to_agency,
        contact_person="Kontakt Kontaktsson",
        reason="Behöver stöd",
    )
    relative = referral_services.document_filename(referral)
    write_document(relative, b"%PDF-1.4\n% test document\n")
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.READY,
        document_path=relative,
        document_sha256="0" * 64,
        document_size=24,
        page_count=1,
        generated_at=timezone.now(),
    )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def second_police(db: None) -> Agency:
    return AgencyFactory(name="Polisregion Syd", kind=AgencyKind.POLICE, municipality_code="")


@pytest.fixture
def other_officer(make_user: Callable[..., User], second_police: Agency) -> User:
    return make_user(second_police, Role.POLICE_OFFICER, username="otherofficer")


@pytest.fixture
def world(
    settings: Any,
    tmp_path: Any,
    case: Case,
    worker: User,
    colleague: User,
    coordinator: User,
    log_reviewer: User,
    agency_admin: User,
    officer: User,
    outsider: User,
    other_officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> World:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    share = share_with(
        case, police_agency, frozenset({ConsentScope.INTERVENTIONS, ConsentScope.THREAT_LEVEL})
    )
    intervention = services.intervention_create(
        case=case, by=worker, kind="work", provider_name="Arbetsförmedlingen", goal="Arbete"
    )
    journal = services.journal_entry_create(case=case, by=worker, text="Första samtalet.")
    assessment = services.threat_assessment_create(
        case=case,
        by=officer,
        level="elevated",
        summary="Förhöjd hotbild.",
        details="Uppgifter från källa.",
        next_review_date=timezone.localdate() + timedelta(days=30),
    )
    referral = ready_referral(case, coordinator, prison_agency)
    users = {
        "worker": worker,
        "colleague": colleague,
        "coordinator": coordinator,
        "log_reviewer": log_reviewer,
        "agency_admin": agency_admin,
        "officer": officer,
        "outsider": outsider,
        "other_officer": other_officer,
    }
    return World(
        case=case,
        users=users,
        intervention=intervention,
        consent=share.consent,
        share=share,
        referral=referral,
        journal=journal,
        assessment=assessment,
    )


def client_for(world: World, actor: str, login: Callable[[User], Client]) -> Client:
    return Client() if actor == "anonymous" else login(world.users[actor])


def give_outside_reason(client: Client, case: Case, reason: str = "joint_meeting") -> None:
    response = client.post(reverse("cases:outside_reason", args=[case.pk]), {"reason": reason})
    assert response.status_code == 302, response.status_code


# --- GET matrix -----------------------------------------------------------------------------


def _mismatch(name: str, url: str, token: str, response: Any, reason_url: str) -> str | None:
    got = response.status_code
    location = response.get("Location", "")
    if token.startswith("R"):
        want = "302 to the reason page"
        next_part = urlencode({"next": url})
        ok = got == 302 and location == f"{reason_url}?{next_part}"
    elif token == "LOGIN":
        want = "302 to login"
        ok = got == 302 and location.startswith(reverse("login"))
    else:
        want = token
        ok = got == int(token)
    return None if ok else f"{name} {url}: want {want}, got {got} {location}".rstrip()


@pytest.mark.parametrize("actor", ACTORS)
def test_get_on_every_id_url(actor: str, world: World, login: Callable[[User], Client]) -> None:
    client = client_for(world, actor, login)
    reason_url = reverse("cases:outside_reason", args=[world.case.pk])
    urls = world.id_urls()
    failures = [
        _mismatch(name, url, TABLE[name].token(actor), client.get(url), reason_url)
        for name, url in urls.items()
    ]
    if actor in REASON_ACTORS:
        give_outside_reason(client, world.case)
        failures += [
            _mismatch(
                name, url, TABLE[name].token(actor).removeprefix("R"), client.get(url), reason_url
            )
            for name, url in urls.items()
        ]
    problems = [failure for failure in failures if failure]
    assert not problems, f"{actor}:\n" + "\n".join(problems)


def test_reason_redirect_keeps_where_the_reader_was_going(
    world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users["colleague"])
    target = world.url("cases:edit")
    response = client.get(target)
    assert response.status_code == 302
    response = client.post(response["Location"], {"reason": "covering", "next": target})
    assert response.status_code == 302
    assert response["Location"] == target
    assert client.get(target).status_code == 200


def test_reason_is_per_case_expires_and_never_redirects_off_site(
    world: World,
    settings: Any,
    make_case: Callable[..., Case],
    login: Callable[[User], Client],
) -> None:
    other_case = make_case(world.users["worker"])
    client = login(world.users["colleague"])
    reason_url = reverse("cases:outside_reason", args=[world.case.pk])
    response = client.post(reason_url, {"reason": "urgent", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == world.case.get_absolute_url()
    assert client.get(world.case.get_absolute_url()).status_code == 200
    # A reason given for one case does not open another.
    assert client.get(other_case.get_absolute_url()).status_code == 302
    # Once the reason is older than AVHOPP_REASON_TTL it must be given again.
    settings.AVHOPP_REASON_TTL = timedelta(0)
    assert client.get(world.case.get_absolute_url()).status_code == 302


@pytest.mark.parametrize("case_id", [987654, 2**63 - 1, 2**70])
def test_unknown_case_ids_look_like_invisible_ones(
    case_id: int, world: World, login: Callable[[User], Client]
) -> None:
    """No oracle: a missing case answers exactly like another agency's case, never 500."""
    client = login(world.users["worker"])
    for url in (f"/arenden/{case_id}/", f"/arenden/{case_id}/andra/", f"/logg/arenden/{case_id}/"):
        assert client.get(url).status_code == 404, url


def test_child_ids_of_another_case_are_404(
    world: World,
    foreign_case: Case,
    make_user: Callable[..., User],
    other_municipality: Agency,
    login: Callable[[User], Client],
) -> None:
    """An id in the URL must belong to the case in the URL (no IDOR through a visible case)."""
    foreign_intervention = foreign_case.interventions.get()
    foreign_share = foreign_case.shares.get()
    foreign_entry = foreign_case.journal_entries.get()
    foreign_coordinator = User.objects.get(username="fcoord")
    foreign_referral = ready_referral(foreign_case, foreign_coordinator, world.case.owning_agency)
    foreign_user = make_user(other_municipality, Role.SOCIAL_WORKER, username="fworker")
    pk = world.case.pk
    worker = login(world.users["worker"])
    coordinator = login(world.users["coordinator"])
    give_outside_reason(coordinator, world.case)
    admin = login(world.users["agency_admin"])
    before = snapshot(foreign_case)
    attempts = [
        (worker, "get", reverse("cases:intervention_edit", args=[pk, foreign_intervention.pk])),
        (
            worker,
            "post",
            reverse("cases:intervention_edit", args=[pk, foreign_intervention.pk]),
        ),
        (coordinator, "post", reverse("cases:share_revoke", args=[pk, foreign_share.pk])),
        (
            coordinator,
            "post",
            reverse("cases:consent_withdraw", args=[pk, foreign_share.consent_id]),
        ),
        (worker, "get", reverse("referrals:detail", args=[foreign_referral.pk])),
        (worker, "get", reverse("referrals:download", args=[foreign_referral.pk])),
        (coordinator, "post", reverse("referrals:send", args=[foreign_referral.pk])),
        (admin, "get", reverse("users:edit", args=[foreign_user.pk])),
        (admin, "post", reverse("users:edit", args=[foreign_user.pk])),
    ]
    failures = []
    for client, method, url in attempts:
        data = {
            "kind": "work",
            "provider_name": "X",
            "status": "cancelled",
            "role": "agency_admin",
        }
        response = client.get(url) if method == "get" else client.post(url, data)
        if response.status_code != 404:
            failures.append(f"{method.upper()} {url}: {response.status_code}")
    # A correction must correct an entry of the same case.
    correction = {"text": "Rättelse", "corrects": foreign_entry.pk}
    response = worker.post(reverse("cases:journal_create", args=[pk]), correction)
    if response.status_code != 404:
        failures.append(f"journal correction of a foreign entry: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert snapshot(foreign_case) == before
    assert not JournalEntry.objects.filter(case=world.case, text="Rättelse").exists()
    foreign_user.refresh_from_db()
    assert foreign_user.role == Role.SOCIAL_WORKER


# --- POST from unrelated users ----------------------------------------------------------------


def _post_data(name: str, world: World) -> dict[str, Any]:
    future = (timezone.localdate() + timedelta(days=60)).isoformat()
    today = timezone.localdate().isoformat()
    outsider_agency = world.users["outsider"].agency_id
    return {
        "cases:outside_reason": {"reason": "urgent"},
        "cases:reveal": {"reason": "urgent"},
        "cases:edit": {"motivation_notes": "INTRÅNG"},
        "cases:individual_edit": {
            "first_name": "INTRÅNG",
            "last_name": "INTRÅNG",
            "protection_level": "none",
            "address": "INTRÅNG",
        },
        "cases:status": {"to_status": "initial_assessment"},
        "cases:intervention_create": {"kind": "work", "provider_name": "X", "status": "planned"},
        "cases:intervention_edit": {
            "kind": "work",
            "provider_name": "X",
            "status": "cancelled",
            "goal": "INTRÅNG",
        },
        "cases:journal_create": {"text": "INTRÅNG"},
        "cases:threat_create": {
            "level": "severe",
            "summary": "INTRÅNG",
            "next_review_date": future,
        },
        "cases:consent_create": {
            "recipient": outsider_agency,
            "scope_journal": "on",
            "given_on": today,
            "document_reference": "INTRÅNG",
        },
        "cases:consent_withdraw": {},
        "cases:share_create": {
            "agency": outsider_agency,
            "legal_basis": "osl_10_2",
            "legal_basis_citation": "INTRÅNG",
            "scopes": ["journal"],
        },
        "cases:share_revoke": {},
        "referrals:create": {"to_agency": outsider_agency, "contact_person": "INTRÅNG"},
        "referrals:sip_create": {
            "overall_responsibility": "INTRÅNG",
            "next_follow_up": future,
            "contact_person": "INTRÅNG",
            "consent": world.consent.pk,
        },
        "referrals:retry": {},
        "referrals:send": {},
        "referrals:answer": {"decision": "accept"},
        "users:edit": {"role": "agency_admin", "is_active": ""},
        "users:end_sessions": {},
    }.get(name, {})


def snapshot(case: Case) -> dict[str, Any]:
    """Everything an unauthorised POST could change about the case."""
    case.refresh_from_db()
    person = case.individual
    person.refresh_from_db()
    return {
        "case": (case.status, case.motivation_notes, case.threat_level, case.updated_at),
        "person": (
            person.first_name,
            person.last_name,
            person.protection_level,
            person.address,
            person.phone,
        ),
        "interventions": list(
            Intervention.objects.filter(case=case).values_list("pk", "status", "goal")
        ),
        "journal": JournalEntry.objects.filter(case=case).count(),
        "threats": ThreatAssessment.objects.filter(case=case).count(),
        "consents": list(
            Consent.objects.filter(individual=case.individual).values_list("pk", "withdrawn_at")
        ),
        "shares": list(CaseShare.objects.filter(case=case).values_list("pk", "revoked_at")),
        "referrals": list(Referral.objects.filter(case=case).values_list("pk", "status")),
        "grants": sorted(
            CaseGroupObjectPermission.objects.filter(content_object=case).values_list(
                "group_id", "permission_id"
            )
        ),
        "events": AuditEvent.objects.exclude(action=AuditAction.ACCESS_DENIED).count(),
        "users": sorted(
            User.objects.filter(agency_id=case.owning_agency_id).values_list(
                "pk", "role", "is_active", "session_generation"
            )
        ),
    }


@pytest.mark.parametrize("actor", ["outsider", "other_officer"])
def test_post_from_unrelated_users_is_refused_and_changes_nothing(
    actor: str, world: World, login: Callable[[User], Client]
) -> None:
    client = login(world.users[actor])
    before = snapshot(world.case)
    failures = []
    posted = 0
    for name, url in world.id_urls().items():
        if "POST" not in TABLE[name].methods:
            continue
        posted += 1
        # 404 once the object is looked up; a view that checks the role first (user admin)
        # refuses with the same 403 as for a GET, whatever the id.
        token = TABLE[name].token(actor)
        want = 403 if token == "403" or name.startswith("users:") else 404
        response = client.post(url, _post_data(name, world))
        if response.status_code != want:
            failures.append(f"{name} {url}: want {want}, got {response.status_code}")
    assert posted >= 15
    assert not failures, "\n".join(failures)
    assert snapshot(world.case) == before


def test_agency_admin_of_another_agency_cannot_edit_our_users(
    world: World, make_user: Callable[..., User], other_municipality: Agency, login: Callable
) -> None:
    foreign_admin = make_user(other_municipality, Role.AGENCY_ADMIN, username="fadmin")
    client = login(foreign_admin)
    url = world.url("users:edit")
    before = snapshot(world.case)
    assert client.get(url).status_code == 404
    assert client.post(url, _post_data("users:edit", world)).status_code == 404
    assert client.post(world.url("users:end_sessions")).status_code == 404
    assert snapshot(world.case) == before


# --- Leak check -----------------------------------------------------------------------------

FOREIGN_FIRST, FOREIGN_LAST = "Zlatislava", "Quarnbergsdotter"
FOREIGN_ADDRESS = "Gömda gränd 77, 147 91 Grödinge"
FOREIGN_DETAILS = "Källan Korpgluggen uppger kontrakt utfärdat i Vårby gård"
FOREIGN_SUMMARY = "Hotbild från nätverket Svartkråkan"
FOREIGN_JOURNAL = "Journalanteckning Blåmesvägen hemligt möte"
FOREIGN_GOAL = "Insatsmål Lindormsgatan boende"
FOREIGN_PROVIDER = "Jourhemmet Ugglemossen"


@pytest.fixture
def foreign_case(
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    other_municipality: Agency,
    outsider: User,
    other_officer: User,
    second_police: Agency,
) -> Case:
    """A case of another municipality, shared with a police agency other than `officer`'s."""
    foreign_coordinator = make_user(other_municipality, Role.COORDINATOR, username="fcoord")
    case = make_case(
        outsider,
        first_name=FOREIGN_FIRST,
        last_name=FOREIGN_LAST,
        born=date(1988, 11, 23),
        address=FOREIGN_ADDRESS,
    )
    consent = services.consent_create(
        individual=case.individual,
        case=case,
        by=foreign_coordinator,
        recipient=second_police,
        given_on=timezone.localdate() - timedelta(days=1),
        valid_until=timezone.localdate() + timedelta(days=100),
        document_reference="F-1",
        scope_interventions=True,
        scope_threat_level=True,
        scope_journal=True,
    )
    services.case_share(case=case, agency=second_police, by=foreign_coordinator, consent=consent)
    services.threat_assessment_create(
        case=case,
        by=other_officer,
        level="severe",
        summary=FOREIGN_SUMMARY,
        details=FOREIGN_DETAILS,
        next_review_date=timezone.localdate() + timedelta(days=10),
    )
    services.intervention_create(
        case=case,
        by=outsider,
        kind="protected_housing",
        provider_name=FOREIGN_PROVIDER,
        goal=FOREIGN_GOAL,
    )
    services.journal_entry_create(case=case, by=outsider, text=FOREIGN_JOURNAL)
    return case


def foreign_strings(case: Case) -> list[str]:
    number = case.individual.personnummer
    assert number is not None
    return [
        FOREIGN_FIRST,
        FOREIGN_LAST,
        number,
        format_identity_number(number),
        f"{number[2:8]}-{number[8:]}",
        FOREIGN_ADDRESS,
        "Gömda gränd",
        FOREIGN_DETAILS,
        "Korpgluggen",
        FOREIGN_SUMMARY,
        FOREIGN_JOURNAL,
        FOREIGN_GOAL,
        FOREIGN_PROVIDER,
    ]


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(
            chunk if isinstance(chunk, bytes) else str(chunk).encode()
            for chunk in response.streaming_content
        )
    else:
        raw = response.content
    return raw.decode("utf-8", errors="replace")


def without_echo(body: str, query: str, full_path: str) -> str:
    """Remove the places a page legitimately echoes the viewer's own search input."""
    for echoed in (query, full_path):
        for form in {echoed, html.escape(echoed), html.escape(echoed, quote=False)}:
            body = body.replace(f'value="{form}"', 'value=""')
    return body


LEAK_ACTORS = ("worker", "colleague", "coordinator", "log_reviewer", "agency_admin", "officer")


@pytest.mark.parametrize("actor", LEAK_ACTORS)
def test_nothing_of_a_foreign_case_leaks(
    actor: str, world: World, foreign_case: Case, login: Callable[[User], Client]
) -> None:
    client = login(world.users[actor])
    if actor in REASON_ACTORS:
        give_outside_reason(client, world.case)
    number = foreign_case.individual.personnummer
    assert number is not None
    name = f"{FOREIGN_FIRST} {FOREIGN_LAST}"
    searches = [
        ("/arenden/", {"q": name}),
        ("/arenden/", {"q": FOREIGN_LAST}),
        ("/arenden/", {"q": number}),
        ("/arenden/", {"q": format_identity_number(number)}),
        ("/arenden/nytt/", {"q": name}),
        ("/arenden/nytt/", {"q": number}),
    ]
    plain = ["/", "/arenden/", "/remisser/", "/logg/", "/logg/export.csv", "/admin/"]
    plain += list(world.id_urls().values())
    requests: list[tuple[str, dict[str, str]]] = [(url, {}) for url in plain] + searches
    needles = foreign_strings(foreign_case)
    content = actor in {"worker", "colleague", "coordinator", "officer"}
    expected = {
        "/": 200,
        "/arenden/": 200 if content else 403,
        "/arenden/nytt/": 200 if actor in REASON_ACTORS | {"worker"} else 403,
        "/remisser/": 200 if content else 403,
        "/logg/": 200 if actor == "log_reviewer" else 403,
        "/logg/export.csv": 200 if actor == "log_reviewer" else 403,
        "/admin/": 302,  # non-staff are sent to the admin login
    }
    leaks = []
    for url, params in requests:
        response = client.get(url, params)
        if url in expected:
            assert response.status_code == expected[url], (url, params, response.status_code)
        body = body_of(response)
        if params:
            body = without_echo(body, params["q"], response.wsgi_request.get_full_path())
        for needle in needles:
            if needle in body:
                leaks.append(f"{url} {params}: {needle!r}")
    assert not leaks, "foreign data in responses:\n" + "\n".join(leaks)


def test_leak_check_would_notice_the_foreign_case(
    foreign_case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    """The needles are real: the owner of the foreign case does see them."""
    client = login(outsider)
    body = body_of(client.get(reverse("cases:detail", args=[foreign_case.pk])))
    number = foreign_case.individual.personnummer
    assert number is not None
    needles = (FOREIGN_FIRST, FOREIGN_ADDRESS, format_identity_number(number), FOREIGN_PROVIDER)
    for needle in needles:
        assert needle in body


# --- Threat details -------------------------------------------------------------------------


def test_threat_details_only_for_police(world: World, login: Callable[[User], Client]) -> None:
    url = world.url("cases:detail")
    summary, details = world.assessment.summary, world.assessment.details
    body = login(world.users["officer"]).get(url).content.decode()
    assert summary in body
    assert details in body
    assert 'data-testid="threat-details"' in body
    for actor in ("worker", "coordinator", "colleague"):
        client = login(world.users[actor])
        if actor in REASON_ACTORS:
            give_outside_reason(client, world.case)
        response = client.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert summary in text, actor
        assert details not in text, actor
        assert 'data-testid="threat-details"' not in text, actor


# --- Protected identity ---------------------------------------------------------------------

PROTECTED_ADDRESS = "Skyddsvägen 9, 111 22 Hemlunda"


@pytest.fixture
def protected_case(
    make_case: Callable[..., Case],
    worker: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> Case:
    case = make_case(
        worker,
        first_name="Sigrid",
        last_name="Skyddad",
        born=date(1990, 6, 1),
        protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
        address=PROTECTED_ADDRESS,
    )
    share_with(case, police_agency)
    return case


@pytest.mark.parametrize("actor", ["worker", "colleague", "coordinator", "officer"])
def test_protected_identity_is_masked_in_list_and_detail(
    actor: str, protected_case: Case, request: pytest.FixtureRequest, login: Callable
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    number = protected_case.individual.personnummer
    assert number is not None
    masked = mask_identity_number(number)
    assert masked == f"{number[:8]}-****"
    listing = client.get(reverse("cases:list")).content.decode()
    detail = client.get(reverse("cases:detail", args=[protected_case.pk]))
    assert detail.status_code == 200
    detail_body = detail.content.decode()
    assert protected_case.reference in listing
    for body in (listing, detail_body):
        assert masked in body
        assert number not in body
        assert format_identity_number(number) not in body
        assert PROTECTED_ADDRESS not in body
        assert "Skyddsvägen" not in body
        assert protected_case.individual.phone not in body
    # The list has no address column at all; the detail page says the address is protected.
    assert "Skyddad adress" in detail_body


@pytest.mark.parametrize(
    ("actor", "finds"),
    [("worker", True), ("coordinator", True), ("colleague", False), ("officer", False)],
)
def test_search_by_protected_number(
    actor: str,
    finds: bool,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    number = protected_case.individual.personnummer
    assert number is not None
    for page in (reverse("cases:list"), reverse("cases:create")):
        for query in (number, format_identity_number(number)):
            response = client.get(page, {"q": query})
            if actor == "officer" and page == reverse("cases:create"):
                assert response.status_code == 403  # police do not register cases
                continue
            body = response.content.decode()
            assert (protected_case.reference in body) is finds, (page, query)


@pytest.mark.parametrize("actor", ["worker", "coordinator"])
def test_reveal_shows_full_identity_and_is_logged(
    actor: str,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    reveal = reverse("cases:reveal", args=[protected_case.pk])
    detail = reverse("cases:detail", args=[protected_case.pk])
    number = protected_case.individual.personnummer
    assert number is not None
    assert client.get(reveal).status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).count() == 0
    response = client.post(reveal, {"reason": "other", "other": "Kontakt med Skatteverket"})
    assert response.status_code == 302
    events = AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL)
    assert events.count() == 1
    event = events.get()
    assert event.reason == "other: Kontakt med Skatteverket"
    assert event.case_id == protected_case.pk
    assert event.individual_id == protected_case.individual_id
    assert event.user_id == request.getfixturevalue(actor).pk
    body = client.get(detail).content.decode()
    assert format_identity_number(number) in body
    assert PROTECTED_ADDRESS in body
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).count() == 1


@pytest.mark.parametrize("actor", ["colleague", "officer"])
def test_reveal_is_forbidden(
    actor: str,
    protected_case: Case,
    request: pytest.FixtureRequest,
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(actor))
    if actor in REASON_ACTORS:
        give_outside_reason(client, protected_case)
    reveal = reverse("cases:reveal", args=[protected_case.pk])
    assert client.get(reveal).status_code == 403
    assert client.post(reveal, {"reason": "urgent"}).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL).exists()
    body = client.get(reverse("cases:detail", args=[protected_case.pk])).content.decode()
    number = protected_case.individual.personnummer
    assert number is not None
    assert format_identity_number(number) not in body
    assert PROTECTED_ADDRESS not in body


def test_person_form_hides_protected_fields_until_revealed(
    protected_case: Case, colleague: User, coordinator: User, login: Callable[[User], Client]
) -> None:
    url = reverse("cases:individual_edit", args=[protected_case.pk])
    for user in (colleague, coordinator):
        client = login(user)
        give_outside_reason(client, protected_case)
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert PROTECTED_ADDRESS not in body
        assert protected_case.individual.phone not in body


def test_protection_cannot_be_lifted_by_someone_who_may_not_reveal(
    protected_case: Case, colleague: User, login: Callable[[User], Client]
) -> None:
    """Downgrading protection would unmask the address to a reader the policy keeps it from."""
    client = login(colleague)
    give_outside_reason(client, protected_case)
    person = protected_case.individual
    client.post(
        reverse("cases:individual_edit", args=[protected_case.pk]),
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "gender": person.gender,
            "protection_level": ProtectionLevel.NONE,
        },
    )
    person.refresh_from_db()
    assert person.protection_level == ProtectionLevel.PROTECTED_REGISTRATION
    body = client.get(reverse("cases:detail", args=[protected_case.pk])).content.decode()
    assert PROTECTED_ADDRESS not in body


# --- Audit ----------------------------------------------------------------------------------


def _events(action: str) -> Any:
    return AuditEvent.objects.filter(action=action)


def test_case_detail_view_is_logged_once(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    event = _events(AuditAction.CASE_VIEW).get()
    assert (event.user_id, event.case_id, event.individual_id) == (
        worker.pk,
        case.pk,
        case.individual_id,
    )


def test_denied_access_is_logged_once_with_the_case_id(
    case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    client = login(outsider)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    event = _events(AuditAction.ACCESS_DENIED).get()
    assert (event.user_id, event.case_id) == (outsider.pk, case.pk)
    assert not _events(AuditAction.CASE_VIEW).exists()


def test_outside_assignment_reason_is_logged_once(
    case: Case, colleague: User, login: Callable[[User], Client]
) -> None:
    client = login(colleague)
    give_outside_reason(client, case, reason="supervision")
    event = _events(AuditAction.OUTSIDE_ASSIGNMENT_READ).get()
    assert event.action == "outside_assignment"
    assert (event.user_id, event.case_id, event.reason) == (colleague.pk, case.pk, "supervision")
    # The reason is remembered: reading the case does not ask, or log a reason, again.
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert _events(AuditAction.OUTSIDE_ASSIGNMENT_READ).count() == 1


def test_csv_export_is_logged_once(
    case: Case, log_reviewer: User, login: Callable[[User], Client]
) -> None:
    response = login(log_reviewer).get(reverse("audit:export"))
    assert response.status_code == 200
    text = body_of(response)
    assert text.startswith("occurred_at,username")
    assert _events(AuditAction.AUDIT_EXPORT).count() == 1
    assert _events(AuditAction.AUDIT_EXPORT).get().user_id == log_reviewer.pk


def _raises_database_error(operation: Callable[[], Any]) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        operation()


def test_audit_log_is_append_only(worker: User) -> None:
    event = audit_record(actor=worker, action=AuditAction.CASE_LIST, reason="original")
    table = AuditEvent._meta.db_table

    def raw(sql: str) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk])

        return run

    _raises_database_error(lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="x"))
    _raises_database_error(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    _raises_database_error(event.delete)
    _raises_database_error(raw(f"UPDATE {table} SET reason = 'x' WHERE id = %s"))
    _raises_database_error(raw(f"DELETE FROM {table} WHERE id = %s"))
    event.refresh_from_db()
    assert event.reason == "original"


# --- Query counts ---------------------------------------------------------------------------


def count_queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _shared_cases(
    number: int, make_case: Callable[..., Case], worker: User, police: Agency, share_with: Any
) -> None:
    for _ in range(number):
        share_with(make_case(worker), police)


@pytest.mark.parametrize("viewer", ["officer", "worker"])
def test_case_list_queries_do_not_grow_with_cases(
    viewer: str,
    request: pytest.FixtureRequest,
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(viewer))
    url = reverse("cases:list")
    _shared_cases(2, make_case, worker, police_agency, share_with)
    few = count_queries(client, url)
    _shared_cases(28, make_case, worker, police_agency, share_with)
    many = count_queries(client, url)
    assert Case.objects.count() == 30
    assert few == many
    # 3 for the list (count and page on the grant index, then the page's rows), 4 for the
    # session, user, second factor and audit row.
    assert many <= 7


def fill_case(case: Case, size: int, worker: User, officer: User, provider: Agency) -> None:
    previous = None
    for index in range(size):
        services.intervention_create(
            case=case,
            by=worker,
            kind="education",
            provider_agency=provider if index % 2 else None,
            provider_name="" if index % 2 else "Folkhögskola",
            goal=f"Mål {index}",
        )
        previous = services.journal_entry_create(
            case=case, by=worker, text=f"Anteckning {index}", corrects=previous
        )
        services.threat_assessment_create(
            case=case,
            by=officer,
            level="low",
            summary=f"Sammanfattning {index}",
            details=f"Detaljer {index}",
            next_review_date=timezone.localdate() + timedelta(days=30),
        )


@pytest.mark.parametrize("viewer", ["officer", "worker"])
def test_case_detail_queries_do_not_grow_with_content(
    viewer: str,
    request: pytest.FixtureRequest,
    settings: Any,
    tmp_path: Any,
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    coordinator: User,
    police_agency: Agency,
    prison_agency: Agency,
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    small, big = make_case(worker), make_case(worker)
    for case, size in ((small, 1), (big, 20)):
        share_with(case, police_agency)
        fill_case(case, size, worker, officer, prison_agency)
    share_with(big, prison_agency)  # more grants and consents on the big one
    for index in range(3):
        extra = AgencyFactory(name=f"Extra myndighet {index}", kind=AgencyKind.OTHER)
        share_with(big, extra)
    ready_referral(big, coordinator, prison_agency)
    client = login(request.getfixturevalue(viewer))
    few = count_queries(client, reverse("cases:detail", args=[small.pk]))
    many = count_queries(client, reverse("cases:detail", args=[big.pk]))
    assert few == many
    # The session, user and second factor; the case; one query per part shown (the officer's
    # share has no journal); the owner's consents and shares; the referrals; the audit row, or
    # the officer's two (threat details read) in one insert between BEGIN and COMMIT.
    assert many <= {"worker": 12, "officer": 11}[viewer]


def test_cases_visible_to_is_one_query_on_the_permission_tables(
    case: Case, officer: User, police_agency: Agency, share_with: Callable[..., CaseShare]
) -> None:
    share_with(case, police_agency)
    queryset = cases_visible_to(officer)
    sql = str(queryset.query)
    # The grants are a subquery on guardian's direct foreign-key table, never a list of ids.
    assert "cases_casegroupobjectpermission" in sql
    assert f"IN ({case.pk})" not in sql
    assert "NOT (EXISTS(" in sql  # the read-time check for shares whose consent ran out
    with CaptureQueriesContext(connection) as captured:
        found = list(queryset)
    assert found == [case]
    assert len(captured.captured_queries) == 1
    assert get_perms(officer, case) == ["view_case"]


def test_the_kept_permission_queries_read_afresh_and_by_the_day(
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    """The built permission querysets are kept per agency and day (cases.selectors): each
    read gets a copy, so what it reads is never a kept result, and a share that runs out
    today is gone tomorrow."""
    first, second = make_case(worker), make_case(worker)
    share = share_with(first, police_agency)
    assert cases_visible_to(officer) is not cases_visible_to(officer)
    assert list(cases_visible_to(officer)) == [first]
    share_with(second, police_agency)
    assert set(cases_visible_to(officer)) == {first, second}
    assert set(visible_case_ids(officer)) == {first.pk, second.pk}
    today = timezone.localdate()
    CaseShare.objects.filter(pk=share.pk).update(expires_on=today)
    assert set(cases_visible_to(officer)) == {first, second}
    tomorrow = today + timedelta(days=1)
    with mock.patch("cases.selectors.timezone.localdate", return_value=tomorrow):
        assert list(cases_visible_to(officer)) == [second]
        assert list(visible_case_ids(officer)) == [second.pk]
    # Another agency's reader gets its own queryset, not the police region's.
    assert set(cases_visible_to(worker)) == {first, second}


def test_a_grant_to_a_single_user_does_not_open_a_case(
    case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    """Grants are made per agency; a user-level row (say, made by hand in the admin) opens
    nothing, so no one sees more than their agency."""
    assign_perm("cases.view_case", outsider, case)
    assert get_perms(outsider, case) == ["view_case"]
    assert not cases_visible_to(outsider).exists()
    assert not visible_case_ids(outsider).exists()
    assert login(outsider).get(reverse("cases:detail", args=[case.pk])).status_code == 404


def test_the_grant_ids_agree_with_the_visible_cases(
    make_case: Callable[..., Case],
    worker: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., CaseShare],
) -> None:
    """The unfiltered list is paged and counted on the grants alone; expired and revoked
    shares drop out of it exactly as they drop out of `cases_visible_to`."""
    active, expired, revoked, _never_shared = (make_case(worker) for _ in range(4))
    share_with(active, police_agency)
    expiring = share_with(expired, police_agency)
    CaseShare.objects.filter(pk=expiring.pk).update(
        expires_on=timezone.localdate() - timedelta(days=1)
    )
    services.case_unshare(share=share_with(revoked, police_agency), by=worker)
    assert list(cases_visible_to(officer)) == [active]
    assert list(visible_case_ids(officer)) == [active.pk]
    newest_first = cases_visible_to(worker).order_by("-pk").values_list("pk", flat=True)
    assert list(visible_case_ids(worker)) == list(newest_first)
    assert visible_case_ids(worker).count() == 4
