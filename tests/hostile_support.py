"""Shared by the hostile-input tests (tests/test_hostile_*.py): hostile values, requests
and checks, the stage every form is posted on, and what more than one section uses.

Hostile input to every form and endpoint, generated with hypothesis.

Very long strings, control characters, mixed scripts, HTML/SQL/template payloads, ids that do
not exist or belong to others, wrong HTTP methods and missing CSRF tokens. The contract:

* nothing answers 500 (the test client re-raises a view's exception; it is reported here);
* nothing is rendered unescaped (no HTML page ever carries a payload's raw markup);
* a form either succeeds (a redirect, and the data round-trips as typed, stripped of
  surrounding whitespace) or answers 4xx and saves nothing at all;
* a redirect never leaves the site.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, Phase, event
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from avhopp.models import Agency, Role, User
from cases import services
from cases.models import (
    Case,
    CaseShare,
    CaseStatusChange,
    Consent,
    ConsentScope,
    Individual,
    Intervention,
    JournalEntry,
    ProtectionLevel,
    ThreatAssessment,
)
from referrals.models import Referral, ReferralStatus
from tests.access_support import ready_referral
from tests.conftest import PASSWORD

# --- Hostile values -------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg/onload=alert(1)>"
# What must never appear in an HTML page: the markup of the payloads above, unescaped.
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror", "<svg/onload")

PAYLOADS = [
    SCRIPT,
    IMG,
    SVG,
    "</textarea><script>alert(1)</script>",
    "javascript:alert(1)",
    "'; DROP TABLE cases_case; --",
    "' OR '1'='1",
    "1 UNION SELECT username, password FROM avhopp_user --",
    "{{ 7*7 }}",
    "{% debug %}",
    "${7*7}",
    "%s%s%n%x",
    "%(agency)s",
    "../../etc/passwd",
    "=cmd|' /C calc'!A0",
    "+SUM(1,1)",
    "@SUM(1,1)",
    "-2+3",
    "\u202egnp.exe",
    "\u200b\u200c\u200d\ufeff",
    "Åsa Öberg-Ärlig",
    "Мария Иванова",
    "محمد العلي",
    "李小龙",
    "🙂🧨👩‍👩‍👧‍👦",
    "Z̷̢̛a̸l̶g̵o̴",
    "\r\nSet-Cookie: x=1",
    "\x00",
    "a\x00b",
    "\x1b[31mred",
    " ",
    "",
]

_control = st.text(
    alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs"]),
    min_size=1,
    max_size=40,
)
_mixed = st.lists(st.sampled_from(PAYLOADS), min_size=2, max_size=5).map("".join)
_long = st.builds(
    lambda base, size: (base * (size // max(len(base), 1) + 1))[:size],
    st.sampled_from(["A", "å", "€", SCRIPT, "محمد", "🙂", "a\x00"]),
    st.integers(min_value=201, max_value=20_000),
)
hostile_text = st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=120), _control, _mixed, _long)
# Field names the forms do not know.
extra_fields = st.dictionaries(
    st.sampled_from(["id", "pk", "case", "owning_agency", "created_by", "is_staff", SCRIPT]),
    hostile_text,
    max_size=3,
)
hostile_date = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat),
    st.sampled_from(["", "0000-00-00", "2024-02-30", "99999-01-01", "-1-01-01", "tomorrow"]),
    hostile_text,
)
huge_ints = st.one_of(
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 2**70, 10**40]),
    st.integers(min_value=0, max_value=10**30),
)
hostile_id = st.one_of(
    huge_ints.map(str), st.integers(max_value=-1).map(str), hostile_text, st.just("")
)
checkbox = st.sampled_from(["", "on", "on", "true", "1", "0", "false", SCRIPT, "\x00"])


def mostly(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Seven times in eight `usual`: a form with many fields then still succeeds now and then,
    so both the round trip and the refusal are exercised."""
    # An inner value picks `other`: hypothesis favours the bounds of a range.
    return st.integers(min_value=0, max_value=7).flatmap(lambda n: other if n == 3 else usual)


# Hostile text a form should accept: markup, SQL, template syntax, other scripts, short.
accepted_text = st.one_of(
    st.sampled_from([p for p in PAYLOADS if p.strip() and "\x00" not in p]),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40
    ).filter(str.strip),
    _mixed.map(lambda text: text.replace("\x00", "")[:40]).filter(str.strip),
)
field_text = mostly(accepted_text, hostile_text)


def choice(values: list[str]) -> st.SearchStrategy[str]:
    """Mostly a valid choice, sometimes anything at all."""
    return mostly(st.sampled_from(values), hostile_text)


def one_of_ids(valid: list[str]) -> st.SearchStrategy[str]:
    return mostly(st.sampled_from(valid), hostile_id)


def future_date() -> st.SearchStrategy[str]:
    today = timezone.localdate()
    valid = st.dates(min_value=today + timedelta(days=1), max_value=date(9999, 12, 31))
    return mostly(valid.map(date.isoformat), hostile_date)


def past_date() -> st.SearchStrategy[str]:
    today = timezone.localdate()
    valid = st.dates(min_value=date(1900, 1, 1), max_value=today)
    return mostly(valid.map(date.isoformat), hostile_date)


# Each example makes several requests, so shrinking a failure takes minutes: it is off unless
# AVHOPP_HYPOTHESIS_SHRINK is set. The explicit @example()s pin the issues found so far.
# AVHOPP_HYPOTHESIS_EXAMPLES raises the number of examples for a longer exploratory run, and
# AVHOPP_HYPOTHESIS_EXPLORE skips the pinned examples so the search looks past them.
_SKIPPED = {
    Phase.shrink: not os.environ.get("AVHOPP_HYPOTHESIS_SHRINK"),
    Phase.explicit: bool(os.environ.get("AVHOPP_HYPOTHESIS_EXPLORE")),
}
_PHASES = tuple(phase for phase in Phase if not _SKIPPED.get(phase, False))
_EXAMPLES = int(os.environ.get("AVHOPP_HYPOTHESIS_EXAMPLES", "20"))
HOSTILE = hypothesis_settings(
    max_examples=_EXAMPLES,
    deadline=None,
    database=None,
    phases=_PHASES,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
FEW = hypothesis_settings(HOSTILE, max_examples=max(_EXAMPLES // 2, 8))


# --- Redirect targets (forms on a case, users and login) ------------------------------------

hostile_next = st.one_of(
    st.sampled_from(
        [
            "",
            "/arenden/",
            "//evil.example/",
            "https://evil.example/",
            "/\\evil.example",
            "\\\\evil.example",
            " //evil.example",
            "\x00//evil.example",
            "\t//evil.example",
            "javascript:alert(1)",
            "evil",
            IMG,
            "/arenden/\r\nSet-Cookie: x=1",
            f"/arenden/?q={SCRIPT}",
        ]
    ),
    field_text,
)


# --- Requests and checks --------------------------------------------------------------------

COUNTED: tuple[type[models.Model], ...] = (
    Individual,
    Case,
    CaseStatusChange,
    Intervention,
    JournalEntry,
    ThreatAssessment,
    Consent,
    CaseShare,
    Referral,
    User,
    Agency,
)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def grown(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {name: after[name] - before[name] for name in before if after[name] != before[name]}


def snapshot(*objects: models.Model) -> list[dict[str, Any]]:
    fresh = [type(obj).objects.get(pk=obj.pk) for obj in objects]
    return [{**model_to_dict(obj), "pk": obj.pk} for obj in fresh]


def body_of(response: HttpResponse) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def send(client: Client, method: str, url: str, data: Any = None, **extra: Any) -> HttpResponse:
    """One request, in a savepoint so a database error cannot poison the next example.

    Django's test client re-raises the exception a view raised; in production that is a 500.
    """
    try:
        with transaction.atomic():
            if method == "get":
                return client.get(url, data or {}, **extra)
            if method == "post":
                return client.post(url, data or {}, **extra)
            return client.generic(method.upper(), url, data or "", **extra)
    except Exception as error:  # the 500 the user would get
        raise AssertionError(
            f"{method.upper()} {url} raised {type(error).__name__}: {str(error)[:300]}"
        ) from error


def assert_escaped(response: HttpResponse, where: str) -> None:
    if "html" not in response.get("Content-Type", ""):
        return
    body = body_of(response)
    for markup in RAW_MARKUP:
        assert markup not in body, f"{where}: unescaped {markup!r} in the page"


def assert_stays_on_site(response: HttpResponse, where: str) -> None:
    location = response["Location"]
    parts = urlsplit(location)
    assert parts.scheme in {"", "http", "https"}, f"{where}: redirect to {location!r}"
    assert parts.netloc in {"", "testserver"}, f"{where}: redirect off-site to {location!r}"
    assert not location.startswith(("//", "/\\")), f"{where}: redirect to {location!r}"


def submit(client: Client, method: str, url: str, data: Any = None, **extra: Any) -> HttpResponse:
    """Send, check status and escaping; on a redirect, check where and follow it once."""
    where = f"{method.upper()} {url}"
    response = send(client, method, url, data, **extra)
    assert response.status_code < 500, f"{where}: {response.status_code}"
    assert_escaped(response, where)
    if response.status_code in {301, 302, 303, 307, 308}:
        assert_stays_on_site(response, where)
        target = response["Location"]
        landed = send(client, "get", target)
        assert landed.status_code < 500, f"{where} -> {target}: {landed.status_code}"
        assert_escaped(landed, f"{where} -> {target}")
    return response


def assert_outcome(
    response: HttpResponse,
    before: dict[str, int],
    *,
    saves: dict[str, int],
    unchanged: list[dict[str, Any]] | None = None,
    objects: tuple[models.Model, ...] = (),
) -> bool:
    """Either a redirect that saved exactly `saves`, or a 4xx that saved nothing."""
    delta = grown(before, counts())
    event(f"answered {response.status_code}")  # see --hypothesis-show-statistics
    if response.status_code == 302:
        assert delta == saves, f"success saved {delta}, expected {saves}"
        return True
    assert 400 <= response.status_code < 500, response.status_code
    assert delta == {}, f"answered {response.status_code} yet saved {delta}"
    if unchanged is not None:
        assert snapshot(*objects) == unchanged, "answered 4xx yet changed the object"
    return False


def isolated(test: Callable[..., None]) -> Callable[..., None]:
    """Run one hypothesis example in a savepoint that is rolled back, so every example starts
    from the same stage (function-scoped fixtures are shared by all examples)."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            test(*args, **kwargs)
            transaction.set_rollback(True)

    return run


def stripped(value: str) -> str:
    return value.strip()


# --- The stage ------------------------------------------------------------------------------


@dataclass(repr=False)
class Stage:
    case: Case  # worker responsible; shared with the police
    coordinated: Case  # coordinator responsible; has a consent for the prison service
    protected: Case  # worker responsible; protected registration
    foreign: Case  # another municipality's case
    intervention: Intervention
    consent: Consent
    share: CaseShare
    referral: Referral  # from coordinated, ready
    received: Referral  # sent to the prison service, awaiting an answer
    prison: Agency
    users: dict[str, User]
    foreign_objects: dict[str, int]

    def __repr__(self) -> str:  # keeps hypothesis' failure reports short
        return f"Stage(case={self.case.pk}, coordinated={self.coordinated.pk})"


@pytest.fixture
def prison_officer(make_user: Callable[..., User], prison_agency: Agency) -> User:
    return make_user(prison_agency, Role.COORDINATOR, username="kvvhandlaggare")


@pytest.fixture
def foreign_admin(make_user: Callable[..., User], other_municipality: Agency) -> User:
    return make_user(other_municipality, Role.AGENCY_ADMIN, username="foreignadmin")


def _consent(case: Case, by: User, recipient: Agency) -> Consent:
    return services.consent_create(
        individual=case.individual,
        case=case,
        by=by,
        recipient=recipient,
        given_on=timezone.localdate() - timedelta(days=1),
        valid_until=timezone.localdate() + timedelta(days=180),
        document_reference="SAM-1",
        **{f"scope_{scope.value}": True for scope in ConsentScope},
    )


@pytest.fixture
def stage(
    settings: Any,
    tmp_path: Any,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    share_with: Callable[..., CaseShare],
    worker: User,
    colleague: User,
    coordinator: User,
    log_reviewer: User,
    agency_admin: User,
    officer: User,
    outsider: User,
    foreign_admin: User,
    prison_officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    other_municipality: Agency,
) -> Stage:
    settings.DOCUMENT_ROOT = tmp_path / "documents"
    case = make_case(worker)
    share = share_with(case, police_agency)
    intervention = services.intervention_create(
        case=case, by=worker, kind="work", provider_name="Arbetsförmedlingen", goal="Arbete"
    )
    services.journal_entry_create(case=case, by=worker, text="Första samtalet.")
    coordinated = make_case(worker, responsible=coordinator)
    consent = _consent(coordinated, coordinator, prison_agency)
    referral = ready_referral(coordinated, coordinator, prison_agency)
    received = ready_referral(coordinated, coordinator, prison_agency)
    Referral.objects.filter(pk=received.pk).update(
        status=ReferralStatus.SENT, sent_at=timezone.now()
    )
    protected = make_case(worker, protection_level=ProtectionLevel.PROTECTED_REGISTRATION)

    foreign = make_case(outsider, first_name="Främling")
    foreign_share = share_with(foreign, police_agency)
    foreign_intervention = services.intervention_create(
        case=foreign, by=outsider, kind="work", provider_name="Annan", goal="Annat"
    )
    foreign_coordinator = make_user(other_municipality, Role.COORDINATOR)
    foreign_referral = ready_referral(foreign, foreign_coordinator, prison_agency)
    foreign_user = User.objects.create_user(
        "foreignworker", password=PASSWORD, agency=other_municipality, role=Role.SOCIAL_WORKER
    )
    return Stage(
        case=case,
        coordinated=coordinated,
        protected=protected,
        foreign=foreign,
        intervention=intervention,
        consent=consent,
        share=share,
        referral=referral,
        received=Referral.objects.get(pk=received.pk),
        prison=prison_agency,
        users={
            "worker": worker,
            "colleague": colleague,
            "coordinator": coordinator,
            "log_reviewer": log_reviewer,
            "agency_admin": agency_admin,
            "officer": officer,
            "outsider": outsider,
            "foreign_admin": foreign_admin,
            "prison_officer": prison_officer,
        },
        foreign_objects={
            "intervention": foreign_intervention.pk,
            "consent": foreign_share.consent_id or 0,
            "share": foreign_share.pk,
            "referral": foreign_referral.pk,
            "user": foreign_user.pk,
        },
    )


# --- Ids: the case, child object and actor of each URL (ids, methods) -----------------------

ACTOR_OF = {
    "users:edit": "agency_admin",
    "users:end_sessions": "agency_admin",
    "users:invite": "agency_admin",
}
CASE_OF = {
    "referrals:create": "coordinated",
    "referrals:sip_create": "coordinated",
    "cases:consent_withdraw": "coordinated",
    "cases:consent_create": "coordinated",
    "cases:share_create": "coordinated",
    "audit:case_readers": "coordinated",
}
CHILD_OF = {
    "cases:intervention_edit": "intervention",
    "cases:consent_withdraw": "consent",
    "cases:share_revoke": "share",
    "users:edit": "user",
    "users:end_sessions": "user",
    "users:invite": "user",
}


def actor_for(name: str) -> str:
    if name in ACTOR_OF:
        return ACTOR_OF[name]
    return "coordinator" if CASE_OF.get(name) == "coordinated" else "worker"


@contextmanager
def nothing_changes(stage: Stage) -> Iterator[None]:
    before = counts()
    watched = (
        stage.case,
        stage.coordinated,
        stage.consent,
        stage.share,
        stage.referral,
        stage.intervention,
        stage.users["colleague"],
        stage.case.individual,
    )
    state = snapshot(*watched)
    yield
    assert grown(before, counts()) == {}
    assert snapshot(*watched) == state
