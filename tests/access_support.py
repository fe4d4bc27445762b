"""Shared by the access-matrix tests (tests/test_access_*.py): the expectation table, URL
discovery, the world every actor is checked against, and what more than one section uses.

The expectation table below is the contract. A new URL that takes an id fails
`test_every_id_url_is_in_the_expectation_table` (tests/test_access_table.py) until it is added
here with the status each actor must get. Statuses follow cases.policy: 404 for a case the viewer
cannot see (unrelated agencies), 403 for an action the viewer's role may not take on a case it can
see, a redirect to the outside-assignment reason page for owning-agency staff who are not
responsible (then the real status once a reason is given), 405 for POST-only views.

The fixtures here (`world`, `foreign_case`, `second_police`, `other_officer`) are registered for
the whole suite through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from avhopp.models import (
    Agency,
    AgencyKind,
    AuditAction,
    AuditEvent,
    NotificationKind,
    Role,
    User,
    roles_of_kind,
)
from avhopp.notifications import notify
from avhopp.storage import write_document
from cases import services
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseTeamMember,
    Consent,
    ConsentScope,
    Intervention,
    JournalEntry,
    JournalExtract,
    JournalExtractStatus,
    LegalBasis,
    ThreatAssessment,
)
from followup.models import QuarterlyReport
from method import services as method_services
from method.models import ConditionKind, Delegation
from method.services import ConditionSpec
from referrals import services as referral_services
from referrals.models import DocumentKind, Referral, ReferralStatus
from research.models import ExtractRequest
from retention.models import (
    DocumentStatus,
    Extract,
    ExtractKind,
    GallringProposal,
    LegalHold,
)
from tests.conftest import AgencyFactory, UserFactory
from tests.relocation_support import relocation_consent
from tests.relocation_support import request as request_relocation
from tests.support import assess_threat

# --- The expectation table ------------------------------------------------------------------

# Column order of every row below: every role of every agency that has a part in the case,
# then one of each kind of stranger.
ACTORS = (
    "worker",  # owning municipality, responsible social worker
    "colleague",  # owning municipality, social worker, not responsible
    "coordinator",  # owning municipality, coordinator, not responsible
    "log_reviewer",  # owning municipality
    "agency_admin",  # owning municipality
    "officer",  # police agency the case is shared with
    "police_reviewer",  # police agency the case is shared with, log reviewer
    "police_admin",  # police agency the case is shared with, agency admin
    "recipient",  # Kriminalvården, coordinator: the case's referral is addressed to it
    "recipient_reviewer",  # Kriminalvården, log reviewer
    "recipient_admin",  # Kriminalvården, agency admin
    "outsider",  # social worker of another municipality
    "other_officer",  # a second police agency the case is NOT shared with
    "other_admin",  # agency admin of another municipality
    "anonymous",
)
REASON_ACTORS = frozenset({"colleague", "coordinator"})


def stranger_actors() -> dict[str, str]:
    """Every other role of every agency kind, in an agency with no part in the case, mapped
    to the column it must answer like: every role in every kind of agency."""
    return {
        f"{role}@{kind}": "other_admin" if role == Role.AGENCY_ADMIN else "outsider"
        for kind in AgencyKind.values
        for role in roles_of_kind(kind)
    }


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
        return tokens[ACTORS.index(stranger_actors().get(actor, actor))]


GET, POST, GET_POST = ("GET",), ("POST",), ("GET", "POST")

# A relocation's POST-only steps (relocations.urls).
RELOCATION_STEPS = (
    "avoid",
    "propose",
    "clearance",
    "offer",
    "offer_answer",
    "placement",
    "moved",
    "handover",
    "handover_answer",
    "ivo",
    "abort",
)

# Columns: owning municipality (worker colleague coordinator log reviewer admin), the police
# the case is shared with (officer reviewer admin), Kriminalvården (coordinator reviewer
# admin), strangers (social worker, police officer, admin), anonymous.
TABLE: dict[str, Expect] = {
    "cases:detail": Expect(
        None, GET, "200 R200 R200 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:outside_reason": Expect(
        None, GET_POST, "200 200 200 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:reveal": Expect(
        None, GET_POST, "200 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:edit": Expect(
        None, GET_POST, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:individual_edit": Expect(
        None, GET_POST, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:status": Expect(
        None, POST, "405 R405 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:intervention_create": Expect(
        None, GET_POST, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:intervention_edit": Expect(
        "intervention",
        GET_POST,
        "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN",
    ),
    "cases:journal_create": Expect(
        None, POST, "405 R405 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # A part's own page is read like the case page, and only if the reader's share covers
    # it: the police's share here covers interventions and the threat, not the journal.
    "cases:status_history": Expect(
        None, GET, "200 R200 R200 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:interventions": Expect(
        None, GET, "200 R200 R200 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:threat_assessments": Expect(
        None, GET, "200 R200 R200 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:journal": Expect(
        None, GET, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # The journal as a PDF: ordered by a reader of the journal, followed and downloaded by
    # the reader who ordered it alone (the world's extract is the responsible worker's: the
    # colleague and coordinator, past the reason, find none of theirs).
    "cases:journal_extract_create": Expect(
        None, POST, "405 R405 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    **{
        f"cases:{name}": Expect(
            "journal_extract",
            GET,
            "200 R404 R404 403 403  403 403 403  404 404 404  404 404 404  LOGIN",
        )
        for name in ("journal_extract", "journal_extract_status", "journal_extract_download")
    },
    "cases:threat_create": Expect(
        None, GET_POST, "403 403 403 403 403  200 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:consent_create": Expect(
        None, GET_POST, "403 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:consent_withdraw": Expect(
        "consent", POST, "403 403 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:share_create": Expect(
        None, GET_POST, "403 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:share_revoke": Expect(
        "share", POST, "403 403 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # The team is changed by the responsible worker and the owning agency's coordinators.
    "cases:team_add": Expect(
        None, GET_POST, "200 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "cases:team_remove": Expect(
        "team_member", POST, "405 403 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "audit:case_readers": Expect(
        None, GET, "403 403 R200 200 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # Marking an event of the month's sample reviewed: POST-only, checked before anything
    # else; an event outside the poster's own sample answers 404 (tests/test_log_reviewer.py).
    "audit:sample_review": Expect(
        "sampled_event", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    "referrals:create": Expect(
        None, GET_POST, "403 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "referrals:sip_create": Expect(
        None, GET_POST, "403 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # A referral (and its PDF, which carries the person's name, interventions and journal)
    # is case content: owning-agency staff who are not responsible must give the same
    # outside-assignment reason as for the case itself. Log reviewers and agency admins
    # read no case content; the referral is not sent yet, so its recipient sees nothing.
    "referrals:detail": Expect(
        "referral", GET, "200 R200 R200 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    "referrals:download": Expect(
        "referral", GET, "200 R200 R200 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    # The status poll carries no case content.
    "referrals:status": Expect(
        "referral", GET, "200 200 200 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    # POST-only and method-checked before anything else: a GET is 405 for everyone.
    "referrals:retry": Expect(
        "referral", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    # Sending is the case's coordinators' (the GET is the confirmation step, the POST sends),
    # and so is the document's preview inside that step; whoever else may read the referral
    # gets 403, the rest 404. The world's referral is not sent yet: its recipient sees nothing.
    "referrals:send": Expect(
        "referral", GET_POST, "403 403 R200 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    "referrals:preview": Expect(
        "referral", GET, "403 403 R200 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    "referrals:answer": Expect(
        "referral", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    # User administration: the role is checked before the user is looked up, so every
    # other role gets 403 whatever the id; an admin of another agency gets 404.
    # A relocation is read by those taking part: the responsible worker and the coordinators
    # of the sending municipality (the coordinator after giving a reason, as for the case),
    # the police region covering it (the officer), and none of the others, who get 404.
    "relocations:request": Expect(
        None, GET_POST, "403 403 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "relocations:detail": Expect(
        "relocation", GET, "200 404 R200 404 404  200 404 404  404 404 404  404 404 404  LOGIN"
    ),
    # No agreement before a placement: 409 for the sending side, who may download it then.
    "relocations:agreement": Expect(
        "relocation", GET, "409 404 R409 404 404  403 404 404  404 404 404  404 404 404  LOGIN"
    ),
    **{
        f"relocations:{step}": Expect(
            "relocation", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
        )
        for step in RELOCATION_STEPS
    },
    # A research extract is seen by its requester and the national coordination it names:
    # nobody of the case's world, who get 404 (405 for the POST-only decision).
    **{
        f"research:{name}": Expect(
            "research_extract",
            GET,
            "404 404 404 404 404  404 404 404  404 404 404  404 404 404  LOGIN",
        )
        for name in ("detail", "status", "download")
    },
    # A quarterly report is its orderer's agency's: none of the case's world.
    **{
        f"followup:{name}": Expect(
            "report", GET, "404 404 404 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
        )
        for name in ("report", "report_status", "report_download")
    },
    "research:decide": Expect(
        "research_extract", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    # Method support on a case (method app): read like the owner's details, written like
    # the case. The agreement's PDF is not made yet: 409 for those who may download it. The
    # world's case is open, so no outcome is due: 404 once past the checkpoint.
    "method:step": Expect(
        "case_step",
        GET_POST,
        "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN",
    ),
    "method:agreement_create": Expect(
        None, GET_POST, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:agreement": Expect(
        "agreement", GET, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:agreement_sign": Expect(
        "agreement", POST, "405 R405 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:agreement_entry": Expect(
        "agreement", POST, "405 R405 R405 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:agreement_pdf": Expect(
        "agreement", GET, "409 R409 R409 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:agreement_status": Expect(
        "agreement", GET, "200 R200 R200 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    "method:outcome": Expect(
        None, GET_POST, "404 R404 R404 403 403  403 403 403  404 404 404  404 404 404  LOGIN"
    ),
    # A step of the owning municipality's own checklist template: only its coordinators keep
    # it; to everyone else the step is not theirs (404).
    "method:template_step": Expect(
        "template_step",
        GET_POST,
        "404 404 200 404 404  404 404 404  404 404 404  404 404 404  LOGIN",
    ),
    "method:template_step_remove": Expect(
        "template_step",
        POST,
        "405 405 405 405 405  405 405 405  405 405 405  405 405 405  LOGIN",
    ),
    "method:delegation_end": Expect(
        "delegation", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  LOGIN"
    ),
    "users:edit": Expect(
        "user", GET_POST, "403 403 403 403 200  403 403 404  403 403 404  403 403 404  LOGIN"
    ),
    "users:end_sessions": Expect(
        "user", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  LOGIN"
    ),
    "users:invite": Expect(
        "user", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  LOGIN"
    ),
    # A notification is its user's alone (the worker's here): opening it marks it read and
    # redirects to the page it names, which decides again. Everyone else gets 404.
    "notifications:open": Expect(
        "notification", GET, "302 404 404 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    # Gallring is the owning agency's archive officer's, who is in no column: a proposal is
    # 404 to everyone else (a stranger archive officer answers like the outsider).
    "retention:proposal": Expect(
        "proposal", GET, "404 404 404 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
    "retention:approve": Expect(
        "proposal", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    "retention:hold_lift": Expect(
        "hold", POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    "retention:extract_create": Expect(
        None, POST, "405 405 405 405 405  405 405 405  405 405 405  405 405 405  405"
    ),
    # A person's extract is handed over by the responsible worker alone.
    "retention:extract_download": Expect(
        "extract", GET, "200 404 404 404 404  404 404 404  404 404 404  404 404 404  LOGIN"
    ),
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
            **{name: obj.pk for name, obj in self.extra.items()},
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


# The world case's person, notes, intervention, journal and threat assessment: a page that
# shows any of them shows case content.
CONTENT_MARKERS = (
    "Testsson",
    "Ekorrvägen",
    "Arbetsförmedlingen",
    "Första samtalet",
    "Förhöjd hotbild",
)


def ready_referral(case: Case, by: User, to_agency: Agency) -> Referral:
    """A referral whose document is ready, so download answers 200 for those allowed."""
    referral = referral_services.referral_create(
        case=case,
        by=by,
        kind=DocumentKind.REFERRAL,
        to_agency=to_agency,
        contact_person="Kontakt Kontaktsson",
        legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
        legal_basis_citation="OSL 10 kap. 2 §, beslut i ärendet",
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
    national_agency: Agency,
    make_user: Callable[..., User],
) -> World:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    share = share_with(
        case, police_agency, frozenset({ConsentScope.INTERVENTIONS, ConsentScope.THREAT_LEVEL})
    )
    services.case_update(case=case, by=worker, motivation_notes="Vill bort från Ekorrvägen.")
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
    # The officer is in the case's team: no column's answers change (the police are never
    # asked for a reason), and the membership is there to be removed.
    team_member = services.case_team_add(case=case, member=officer, by=worker)
    # A requested relocation; the municipality's police region is the officer's.
    case.owning_agency.police_region = police_agency
    case.owning_agency.save(update_fields=["police_region"])
    relocation = request_relocation(
        case, coordinator, relocation_consent(case, coordinator, national_agency)
    )
    users = {
        "worker": worker,
        "colleague": colleague,
        "coordinator": coordinator,
        "log_reviewer": log_reviewer,
        "agency_admin": agency_admin,
        "officer": officer,
        "police_reviewer": make_user(police_agency, Role.LOG_REVIEWER, username="polreviewer"),
        "police_admin": make_user(police_agency, Role.AGENCY_ADMIN, username="poladmin"),
        "recipient": make_user(prison_agency, Role.COORDINATOR, username="kvcoord"),
        "recipient_reviewer": make_user(prison_agency, Role.LOG_REVIEWER, username="kvreviewer"),
        "recipient_admin": make_user(prison_agency, Role.AGENCY_ADMIN, username="kvadmin"),
        "outsider": outsider,
        "other_officer": other_officer,
        "other_admin": make_user(outsider.agency, Role.AGENCY_ADMIN, username="otheradmin"),
    }
    template = method_services.template_copy(by=coordinator)
    agreement = method_services.agreement_create(
        case=case,
        by=worker,
        start_date=timezone.localdate(),
        review_date=timezone.localdate() + timedelta(days=90),
        conditions=[ConditionSpec(ConditionKind.NO_CRIME)],
    )
    method = {
        "case_step": case.checklist.steps.order_by("pk").first(),
        "agreement": agreement,
        "template_step": template.versions.get().steps.order_by("pk").first(),
        "delegation": Delegation.objects.filter(user=worker).first(),
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
        extra={
            "team_member": team_member,
            "notification": notify(
                users=[worker], kind=NotificationKind.FOLLOW_UP_DUE, url=case.get_absolute_url()
            )[0],
            "relocation": relocation,
            "sampled_event": AuditEvent.objects.filter(case_id=case.pk).earliest("pk"),
            **retention_objects(case, worker),
            "research_extract": _extract(national_agency),
            "journal_extract": _journal_extract(case, worker),
            "report": QuarterlyReport.objects.create(
                agency=national_agency,
                requested_by=UserFactory(agency=national_agency, role=Role.NATIONAL_COORDINATOR),
                year=2025,
                quarter=1,
            ),
            **method,
        },
    )


def _journal_extract(case: Case, worker: User) -> JournalExtract:
    """A journal extract the responsible worker ordered, ready to download."""
    extract = JournalExtract.objects.create(
        case=case,
        requested_by=worker,
        status=JournalExtractStatus.READY,
        document_path=f"journal/world-{case.pk}.pdf",
    )
    write_document(extract.document_path, b"%PDF-1.4\n% test journal extract\n")
    return extract


def _extract(national_agency: Agency) -> ExtractRequest:
    """A research extract requested of the national coordination by a researcher."""
    research = AgencyFactory(
        name="Forskningshuvudman", kind=AgencyKind.RESEARCH, municipality_code=""
    )
    researcher = UserFactory(agency=research, role=Role.RESEARCHER, username="researcher")
    return ExtractRequest.objects.create(
        requested_by=researcher,
        research_agency=research,
        coordinating_agency=national_agency,
        purpose="Uppföljning av insatser för dem som lämnar gäng.",
        variables=["gender"],
        ethics_reference="2024-01234-01",
    )


def retention_objects(case: Case, worker: User) -> dict[str, Any]:
    """A gallring proposal of the owning agency, a legal hold on the case, and a ready
    register extract of its person."""
    extract = Extract.objects.create(
        kind=ExtractKind.REGISTER,
        case=case,
        individual_id=case.individual_id,
        requested_by=worker,
        identity_checked="Pass",
        status=DocumentStatus.READY,
        document_path=f"extracts/world-{case.pk}.pdf",
        document_sha256="0" * 64,
    )
    write_document(extract.document_path, b"%PDF-1.4\n% test extract\n")
    return {
        "proposal": GallringProposal.objects.create(
            agency=case.owning_agency, as_of=timezone.localdate(), legal_reference="SoL"
        ),
        "hold": LegalHold.objects.create(case=case, kind="ivo", reason="IVO.", placed_by=worker),
        "extract": extract,
    }


def stranger(actor: str) -> User:
    """A user with the role, in a new agency of the kind, of an actor in stranger_actors()."""
    role, kind = actor.split("@")
    serial = next(_stranger_serial)
    agency = AgencyFactory(
        name=f"Främling {serial}",
        kind=kind,
        municipality_code=f"{serial:04d}" if kind == AgencyKind.SOCIAL_SERVICES else "",
    )
    return UserFactory(agency=agency, role=role, username=f"stranger{serial}")


# Unique within a test (each test's database is rolled back); reused across a long session.
_stranger_serial = itertools.cycle(range(9000, 9999))


def client_for(world: World, actor: str, login: Callable[[User], Client]) -> Client:
    if actor == "anonymous":
        return Client()
    return login(world.users[actor] if actor in world.users else stranger(actor))


def give_outside_reason(client: Client, case: Case, reason: str = "joint_meeting") -> None:
    response = client.post(reverse("cases:outside_reason", args=[case.pk]), {"reason": reason})
    assert response.status_code == 302, response.status_code


# --- Snapshot of a case (GET matrix, POST from unrelated users) -----------------------------


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
        "journal_extracts": JournalExtract.objects.filter(case=case).count(),
        "threats": ThreatAssessment.objects.filter(case=case).count(),
        "consents": list(
            Consent.objects.filter(individual=case.individual).values_list("pk", "withdrawn_at")
        ),
        "shares": list(CaseShare.objects.filter(case=case).values_list("pk", "revoked_at")),
        "team": sorted(CaseTeamMember.objects.filter(case=case).values_list("pk", "user_id")),
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


# --- Another municipality's case (GET matrix, leak check) -----------------------------------

FOREIGN_FIRST, FOREIGN_LAST = "Zlatislava", "Quarnbergsdotter"
FOREIGN_ADDRESS = "Gömda gränd 77, 147 91 Grödinge"
FOREIGN_DETAILS = "Källan Korpgluggen uppger kontrakt utfärdat i Vårby gård"
FOREIGN_SUMMARY = "Hotbild från nätverket Svartkråkan"
FOREIGN_JOURNAL = "Journalanteckning Blåmesvägen hemligt möte"
FOREIGN_GOAL = "Insatsmål Lindormsgatan boende"
FOREIGN_PROVIDER = "Jourhemmet Ugglemossen"
FOREIGN_CONDITION = "Ingen kontakt med Hökgänget i Fittja"


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
    agreement = method_services.agreement_create(
        case=case,
        by=outsider,
        start_date=timezone.localdate(),
        review_date=timezone.localdate() + timedelta(days=30),
        conditions=[ConditionSpec(ConditionKind.NO_CONTACT, details=FOREIGN_CONDITION)],
    )
    method_services.agreement_entry_add(
        agreement=agreement,
        case=case,
        by=outsider,
        kind="meeting",
        occurred_on=timezone.localdate() + timedelta(days=2),
        note=FOREIGN_CONDITION,
    )
    return case


# --- Response bodies, query counts and a filled case ----------------------------------------


def body_of(response: Any) -> str:
    if getattr(response, "streaming", False):
        raw = b"".join(
            chunk if isinstance(chunk, bytes) else str(chunk).encode()
            for chunk in response.streaming_content
        )
    else:
        raw = response.content
    return raw.decode("utf-8", errors="replace")


def count_queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


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
        assess_threat(
            case,
            officer,
            level="low",
            summary=f"Sammanfattning {index}",
            details=f"Detaljer {index}",
            next_review_date=timezone.localdate() + timedelta(days=30),
        )
