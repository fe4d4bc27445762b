"""Shared fixtures: agencies, one user per role, cases built through the real services."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import factory
import pytest
from django.test import Client
from django.utils import timezone

from avhopp.models import Agency, AgencyKind, Role, User
from cases import services
from cases.hooks import DecisionKind
from cases.models import Case, Consent, ConsentScope, ProtectionLevel, ReferralSource
from devdata.factories import delegate, identity_number, new_case, share_on_consent
from tests.support import sign_in, verify_second_factor

if TYPE_CHECKING:
    from tests.axe_support import AxeChecker

# Django refuses ORM calls from a thread with a running event loop; Playwright's sync API
# runs one in the test thread, while the database work it checks is plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Correct-horse-battery-9"
# A valid personnummer for a birth date and a three-digit serial (the tests' name for it).
make_personnummer = identity_number

# Fixtures and helpers shared by the sections of the access matrix and of the hostile-input
# tests (tests/test_access_*.py, tests/test_hostile_*.py), and the accessibility check of every
# browser test (axe_support, used by `new_page` below). Loaded as plugins, so their fixtures
# are found by every test and their asserts are rewritten like a test module's. Pytest marks
# each for rewriting only as it comes to it: relocation_support first, as access_support
# imports it.
pytest_plugins = (
    "tests.relocation_support",
    "tests.access_support",
    "tests.hostile_support",
    "tests.oidc_support",
    "tests.axe_support",
    "tests.mail_support",
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Production hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Kommun {n}")
    kind = AgencyKind.SOCIAL_SERVICES
    municipality_code = factory.Sequence(lambda n: f"{1000 + n:04d}")
    region = "Stockholm"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    agency = factory.SubFactory(AgencyFactory)
    role = Role.SOCIAL_WORKER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _saved(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


@pytest.fixture
def municipality(db: None) -> Agency:
    return AgencyFactory(name="Södertälje kommun", municipality_code="0181")


@pytest.fixture
def other_municipality(db: None) -> Agency:
    return AgencyFactory(name="Botkyrka kommun", municipality_code="0127")


@pytest.fixture
def police_agency(db: None) -> Agency:
    return AgencyFactory(name="Polisregion Stockholm", kind=AgencyKind.POLICE, municipality_code="")


@pytest.fixture
def prison_agency(db: None) -> Agency:
    return AgencyFactory(
        name="Kriminalvården", kind=AgencyKind.PRISON_PROBATION, municipality_code=""
    )


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(agency: Agency, role: Role = Role.SOCIAL_WORKER, **kwargs: Any) -> User:
        return UserFactory(agency=agency, role=role, **kwargs)

    return make


# The municipality's delegation order (method.models.Delegation) gives the responsible worker
# the decisions on support and on closing a case, and the coordinator those and requests for
# relocation; the colleague has none.
@pytest.fixture
def worker(make_user: Callable[..., User], municipality: Agency) -> User:
    user = make_user(municipality, Role.SOCIAL_WORKER, username="worker")
    delegate(user, DecisionKind.SUPPORT, DecisionKind.CLOSURE)
    return user


@pytest.fixture
def colleague(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(municipality, Role.SOCIAL_WORKER, username="colleague")


@pytest.fixture
def coordinator(make_user: Callable[..., User], municipality: Agency) -> User:
    user = make_user(municipality, Role.COORDINATOR, username="coordinator")
    delegate(user, *DecisionKind.values)
    return user


@pytest.fixture
def log_reviewer(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(municipality, Role.LOG_REVIEWER, username="reviewer")


@pytest.fixture
def agency_admin(make_user: Callable[..., User], municipality: Agency) -> User:
    return make_user(municipality, Role.AGENCY_ADMIN, username="agencyadmin")


@pytest.fixture
def officer(make_user: Callable[..., User], police_agency: Agency) -> User:
    return make_user(police_agency, Role.POLICE_OFFICER, username="officer")


@pytest.fixture
def outsider(make_user: Callable[..., User], other_municipality: Agency) -> User:
    return make_user(other_municipality, Role.SOCIAL_WORKER, username="outsider")


# Identity numbers' serials: unique within a test (each test's database is rolled back), and
# reused across a session that makes more cases than the three digits hold.
_serial = itertools.cycle(range(100, 999))


@pytest.fixture
def make_case(db: None) -> Callable[..., Case]:
    """A case created through the services, as the application itself would."""

    def make(
        by: User,
        *,
        protection_level: str = ProtectionLevel.NONE,
        first_name: str = "Adam",
        last_name: str = "Testsson",
        born: date = date(1995, 3, 14),
        address: str = "Storgatan 1, 151 00 Södertälje",
        responsible: User | None = None,
    ) -> Case:
        return new_case(
            by,
            first_name=first_name,
            last_name=last_name,
            born=born,
            serial=next(_serial),
            protection_level=protection_level,
            address=address,
            phone="070-123 45 67",
            referral_source=ReferralSource.POLICE,
            responsible=responsible,
        )

    return make


@pytest.fixture
def case(make_case: Callable[..., Case], worker: User) -> Case:
    return make_case(worker)


@pytest.fixture
def share_with(coordinator: User, make_user: Callable[..., User]) -> Callable[..., Any]:
    """Share a case with an agency on a fresh consent covering the given scopes, by a
    coordinator of the owning agency."""

    def share(
        case: Case, agency: Agency, scopes: frozenset[ConsentScope] = frozenset(ConsentScope)
    ):
        by = coordinator
        if case.owning_agency_id != coordinator.agency_id:
            by = make_user(case.owning_agency, Role.COORDINATOR)
        return share_on_consent(
            case,
            by=by,
            recipient=agency,
            reference="SAM-1",
            given_on=timezone.localdate() - timedelta(days=1),
            valid_until=timezone.localdate() + timedelta(days=180),
            **{f"scope_{scope.value}": True for scope in scopes},
        )

    return share


@pytest.fixture
def owned_case(make_case: Callable[..., Case], worker: User, coordinator: User) -> Case:
    """The coordinator is responsible, so case views need no outside-assignment reason."""
    return make_case(worker, responsible=coordinator)


@pytest.fixture
def consent_to(coordinator: User) -> Callable[..., Consent]:
    def make(
        case: Case,
        agency: Agency,
        *,
        interventions: bool = True,
        threat_level: bool = True,
        journal: bool = False,
        reference: str = "SAMTYCKE-2024-0117",
    ) -> Consent:
        today = timezone.localdate()
        return services.consent_create(
            individual=case.individual,
            case=case,
            by=coordinator,
            recipient=agency,
            given_on=today - timedelta(days=3),
            valid_until=today + timedelta(days=180),
            document_reference=reference,
            scope_interventions=interventions,
            scope_threat_level=threat_level,
            scope_journal=journal,
        )

    return make


@pytest.fixture
def doc_root(settings: Any, tmp_path: Path) -> Path:
    """Generated documents in a folder of the test's own."""
    root = tmp_path / "documents"
    settings.DOCUMENT_ROOT = root
    return root


@pytest.fixture
def login() -> Callable[[User], Client]:
    """A client signed in with password and second factor, as after a real login."""

    def log_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        verify_second_factor(client, user)
        return client

    return log_in


# --- Browser tests -------------------------------------------------------------------------

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("AVHOPP_CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Any, live_server: Any, axe: AxeChecker) -> Iterator[Callable[[], Any]]:
    """Pages in new browser contexts (separate cookies, so separately signed-in users), each
    checked by axe on every page it shows. The only way browser tests open pages: a guard in
    tests/test_accessibility.py fails any other `new_context`."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(base_url=live_server.url, locale="sv-SE")
        context.set_default_timeout(15_000)
        axe.watch(context)
        contexts.append(context)
        return context.new_page()

    yield open_page
    try:
        for context in contexts:
            for opened in context.pages:
                axe.check(opened)  # the last page each showed, left by no navigation
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Callable[[], Any]) -> Any:
    return new_page()


@pytest.fixture
def browser_login(page: Any) -> Callable[[User], Any]:
    def log_in(user: User) -> Any:
        return sign_in(page, user, PASSWORD)

    return log_in
