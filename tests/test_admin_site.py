"""The Django admin is for support staff and is no back door: support is not a superuser and
holds only the support group's permissions, the admin shows no sensitive field anywhere, answers
no lookup it did not declare, logs its changes and asks for the second factor."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from avhopp.admin import SUPPORT_GROUP, SUPPORT_PERMISSIONS, ensure_support_group
from avhopp.audit import audit_record
from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases.identity import format_identity_number
from cases.models import Case, CaseShare, Intervention, InterventionKind, JournalEntry
from devdata.factories import share_on_consent
from referrals.models import Referral, ReferralStatus
from tests.conftest import PASSWORD, UserFactory
from tests.support import authenticator_of

# Text that exists only in fields the admin must never show.
MOTIVATION = "Hemligmotivering Ugglebo"
CONDITIONS = "Villkorstext Snöklockan"
CLOSE_REASON = "Avslutsskäl Hägervik"
GOAL = "Insatsmål Lärkstigen"
OUTCOME = "Insatsresultat Tranbärsvägen"
PROVIDER = "Utförare Kråkslottet"
JOURNAL = "Journaltext Nattviolen"
CONSENT_DOCUMENT = "SAMTYCKE-Blåsippan-77"
CITATION = "Hänvisning Gullvivan"
REVOKED_REASON = "Återkallelse Smörblomman"
REFERRAL_REASON = "Remisskäl Vitsippan"
REFERRAL_SUMMARY = "Remissammanfattning Kabbeleka"
CONTACT = "Kontaktperson Styvmorsviol"
ANSWER = "Svarskommentar Blåklocka"
DOCUMENT_PATH = "referrals/hemlig-sokvag-prastkrage.pdf"
AUDIT_REASON = "Loggskäl Liljekonvalj"
ADDRESS = "Gömda gränd 7, 123 45 Ingenstans"


@pytest.fixture
def support(db: None) -> User:
    user = UserFactory(username="support", agency=None, role="", is_staff=True)
    user.groups.add(ensure_support_group())
    return user


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(username="root", agency=None, role="", is_staff=True, is_superuser=True)


@pytest.fixture
def secrets(
    make_case: Callable[..., Case],
    worker: User,
    coordinator: User,
    police_agency: Agency,
) -> list[str]:
    """One of every registered model, each holding sensitive text; the strings returned."""
    case = make_case(worker, address=ADDRESS)
    Case.objects.filter(pk=case.pk).update(
        motivation_notes=MOTIVATION, agreement_conditions=CONDITIONS, close_reason=CLOSE_REASON
    )
    Intervention.objects.create(
        case=case,
        kind=InterventionKind.PROTECTION,
        provider_name=PROVIDER,
        goal=GOAL,
        outcome=OUTCOME,
        created_by=worker,
    )
    JournalEntry.objects.create(case=case, author=worker, text=JOURNAL)
    share = share_on_consent(
        case,
        by=coordinator,
        recipient=police_agency,
        reference=CONSENT_DOCUMENT,
        given_on=timezone.localdate() - timedelta(days=1),
        valid_until=timezone.localdate() + timedelta(days=30),
        scope_interventions=True,
    )
    CaseShare.objects.filter(pk=share.pk).update(
        legal_basis_citation=CITATION, revoked_reason=REVOKED_REASON
    )
    Referral.objects.create(
        case=case,
        from_agency=worker.agency,
        to_agency=police_agency,
        reason=REFERRAL_REASON,
        summary=REFERRAL_SUMMARY,
        contact_person=CONTACT,
        answer_comment=ANSWER,
        document_path=DOCUMENT_PATH,
        document_sha256="ab" * 32,
        status=ReferralStatus.READY,
        created_by=coordinator,
        requested_start=date(2030, 1, 1),
    )
    audit_record(actor=worker, action=AuditAction.CASE_VIEW, obj=case, reason=AUDIT_REASON)
    static = StaticDevice.objects.create(user=worker, name="Reservkoder")
    StaticToken.objects.create(device=static, token="rk7q2m9x")
    number = case.individual.personnummer
    assert number is not None
    return [
        MOTIVATION,
        CONDITIONS,
        CLOSE_REASON,
        GOAL,
        OUTCOME,
        PROVIDER,
        JOURNAL,
        CONSENT_DOCUMENT,
        CITATION,
        REVOKED_REASON,
        REFERRAL_REASON,
        REFERRAL_SUMMARY,
        CONTACT,
        ANSWER,
        DOCUMENT_PATH,
        AUDIT_REASON,
        ADDRESS,
        "Gömda gränd",
        case.individual.first_name + " " + case.individual.last_name,
        number,
        format_identity_number(number),
        "070-123 45 67",
        authenticator_of(worker).key,
        "rk7q2m9x",
    ]


def admin_pages(model: type[Model]) -> list[str]:
    meta = model._meta
    pages = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
    obj = model._default_manager.order_by("pk").first()
    if obj is not None:
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk]))
    return pages


def unveiled(body: bytes) -> str:
    return html.unescape(body.decode())


# --- Support staff: permissions -----------------------------------------------------------


def test_the_demo_support_account_is_staff_not_superuser_and_holds_the_support_group(
    db: None,
) -> None:
    from devdata.demo import SUPPORT, load_demo

    load_demo()
    support = User.objects.get(username=SUPPORT)
    assert support.is_staff
    assert not support.is_superuser
    assert list(support.groups.filter(agency__isnull=True).values_list("name", flat=True)) == [
        SUPPORT_GROUP
    ]
    assert support.get_all_permissions() == set(SUPPORT_PERMISSIONS)


def test_the_support_group_is_kept_exact(db: None) -> None:
    group = Group.objects.get(name=SUPPORT_GROUP)  # made on migrate
    group.permissions.clear()
    ensure_support_group()
    granted = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert granted == set(SUPPORT_PERMISSIONS)


def test_support_switches_a_user_active_and_nothing_else(
    support: User,
    worker: User,
    other_municipality: Agency,
    login: Callable[[User], Client],
) -> None:
    client = login(support)
    url = reverse("admin:avhopp_user_change", args=[worker.pk])
    password = worker.password
    response = client.post(
        url,
        {
            "username": "renamed",
            "agency": str(other_municipality.pk),
            "role": Role.COORDINATOR,
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [str(Group.objects.get(name=SUPPORT_GROUP).pk)],
            "password": "pbkdf2_sha256$1$x$y",
            # is_active left out: unticked
        },
    )
    assert response.status_code == 302, response.content[:500]
    worker.refresh_from_db()
    assert not worker.is_active
    assert worker.username != "renamed"
    assert worker.role == Role.SOCIAL_WORKER
    assert worker.agency_id != other_municipality.pk
    assert not worker.is_superuser and not worker.is_staff
    assert worker.password == password
    assert not worker.groups.filter(name=SUPPORT_GROUP).exists()


def test_support_has_no_password_user_creation_authenticator_or_group_admin(
    support: User, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(support)
    device = authenticator_of(worker)
    password = worker.password
    # No password view: the path falls through to the change page's catch-all redirect.
    for path in ("password/", "password/change/"):
        url = f"/admin/avhopp/user/{worker.pk}/{path}"
        data = {"password1": "Nytt-lösenord-12345", "password2": "Nytt-lösenord-12345"}
        body = unveiled(client.post(url, data, follow=True).content)
        body += unveiled(client.get(url, follow=True).content)
        assert 'name="password1"' not in body
    worker.refresh_from_db()
    assert worker.password == password
    refused = [
        "/admin/avhopp/user/add/",
        "/admin/otp_totp/totpdevice/",
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        "/admin/otp_static/staticdevice/",
        "/admin/auth/group/",
        "/admin/axes/accessattempt/",
        "/admin/avhopp/auditevent/",
        "/admin/cases/case/",
    ]
    for url in refused:
        response = client.get(url)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert device.key not in unveiled(response.content)
    for model in (User, Agency, Referral):
        assert client.get(admin_pages(model)[0]).status_code == 200


def test_support_cannot_change_staff_or_themselves(
    support: User, superuser: User, login: Callable[[User], Client]
) -> None:
    client = login(support)
    for target in (support, superuser):
        url = reverse("admin:avhopp_user_change", args=[target.pk])
        assert client.post(url, {}).status_code == 403
        target.refresh_from_db()
        assert target.is_active


# --- Nothing sensitive shows ------------------------------------------------------------


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_no_admin_page_shows_sensitive_fields(
    who: str,
    request: pytest.FixtureRequest,
    secrets: list[str],
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(who))
    served = 0
    for model in list(admin.site._registry):
        for url in admin_pages(model):
            response = client.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            served += response.status_code == 200
            body = unveiled(response.content)
            leaked = [secret for secret in secrets if secret in body]
            assert leaked == [], (url, leaked)
    assert served >= 9  # users, agencies and referrals at least, each with a change page


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_search_finds_nothing_by_sensitive_text(
    who: str,
    request: pytest.FixtureRequest,
    secrets: list[str],
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(who))
    searched = 0
    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        url = admin_pages(model)[0]
        for secret in secrets:
            response = client.get(url, {"q": secret.split()[0]})
            if response.status_code == 403:
                continue
            searched += 1
            assert response.context["cl"].result_count == 0, (url, secret)
    assert searched > 0


def test_registered_admins_are_only_the_reviewed_ones(db: None) -> None:
    labels = {model._meta.label for model in admin.site._registry}
    assert labels == {
        "avhopp.Agency",
        "avhopp.IdentityProvider",  # superusers only: support staff have no permission on it
        "avhopp.User",
        "cases.Case",
        "cases.Intervention",
        "cases.Consent",
        "cases.CaseShare",
        "referrals.Referral",
        "retention.RetentionRule",  # the retention table: support adds rows, never deletes
    }


# --- No lookup oracle ---------------------------------------------------------------------

FORBIDDEN_LOOKUPS = [
    "motivation_notes__icontains",
    "case__motivation_notes__icontains",
    "individual__personnummer__startswith",
    "case__individual__personnummer__startswith",
    "case__individual__address__icontains",
    "document_reference__icontains",
    "consent__document_reference__icontains",
    "reason__icontains",
    "summary__icontains",
    "goal__icontains",
    "revoked_reason__icontains",
    "totpdevice__key__startswith",
    "password__startswith",
    "users__totpdevice__key__startswith",
    "agency__users__password__startswith",
    "role__icontains",
    "status__icontains",
]


@pytest.mark.parametrize("who", ["support", "superuser"])
def test_undeclared_lookups_are_refused_on_every_admin(
    who: str,
    request: pytest.FixtureRequest,
    secrets: list[str],
    login: Callable[[User], Client],
) -> None:
    client = login(request.getfixturevalue(who))
    for model in list(admin.site._registry):
        url = admin_pages(model)[0]
        if client.get(url).status_code == 403:
            continue
        fields = [
            f"{field.name}__icontains"
            for field in model._meta.get_fields()
            if field.concrete and not field.is_relation
        ]
        for lookup in FORBIDDEN_LOOKUPS + fields:
            for value in ("1", "zzz-no-such-text"):
                response = client.get(url, {lookup: value})
                # 400, never an answer whose size depends on the hidden text.
                assert response.status_code == 400, (url, lookup, response.status_code)


def test_declared_filters_still_work(
    support: User, secrets: list[str], login: Callable[[User], Client]
) -> None:
    client = login(support)
    referrals = reverse("admin:referrals_referral_changelist")
    response = client.get(referrals, {"status__exact": ReferralStatus.READY})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    users = reverse("admin:avhopp_user_changelist")
    response = client.get(users, {"is_active__exact": "1", "agency__kind__exact": "police"})
    assert response.status_code == 200


# --- Changes are logged -------------------------------------------------------------------


def test_an_admin_change_to_a_user_is_logged(
    support: User, worker: User, login: Callable[[User], Client]
) -> None:
    client = login(support)
    client.post(reverse("admin:avhopp_user_change", args=[worker.pk]), {})
    event = AuditEvent.objects.get(action=AuditAction.USER_UPDATE, object_id=str(worker.pk))
    assert (event.user_id, event.object_type) == (support.pk, "avhopp.User")
    assert "is_active" in event.reason


def test_an_admin_change_to_an_agency_is_logged(
    support: User, municipality: Agency, login: Callable[[User], Client]
) -> None:
    client = login(support)
    url = reverse("admin:avhopp_agency_change", args=[municipality.pk])
    data = {
        "name": municipality.name,
        "municipality_code": municipality.municipality_code,
        "region": "Ny region",
        "address": municipality.address,
        "password_sign_in": "on",
    }
    assert client.post(url, data).status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE)
    assert (event.user_id, event.object_type, event.object_id) == (
        support.pk,
        "avhopp.Agency",
        str(municipality.pk),
    )
    assert "region" in event.reason


# --- Second factor ------------------------------------------------------------------------


@pytest.mark.parametrize("require_two_factor", [True, False])
def test_the_admin_needs_the_second_factor(
    require_two_factor: bool, support: User, settings: object
) -> None:
    settings.REQUIRE_TWO_FACTOR = require_two_factor  # type: ignore[attr-defined]
    client = Client()
    client.force_login(support)  # password only
    for url in ("/admin/", "/admin/avhopp/user/", f"/admin/avhopp/user/{support.pk}/change/"):
        response = client.get(url, follow=True)
        assert response.redirect_chain, url
        assert response.wsgi_request.path == reverse("two_factor"), url
        body = unveiled(response.content)
        assert "administration för support" not in body
        assert support.username not in body


def test_the_admin_has_no_password_only_login(support: User) -> None:
    client = Client()
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    response = client.post("/admin/login/", {"username": "support", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_verified_user_without_staff_gets_no_admin(
    worker: User, login: Callable[[User], Client]
) -> None:
    client = login(worker)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/").status_code == 404


def test_support_adds_a_retention_rule_under_a_new_numbering_and_it_is_logged(
    support: User, login: Callable[[User], Client]
) -> None:
    from retention.models import RecordKind, RetentionRule
    from retention.services import rule_on

    client = login(support)
    response = client.post(
        reverse("admin:retention_retentionrule_add"),
        {
            "record_kind": RecordKind.CASE_FILE,
            "valid_from": "2027-01-01",
            "retention_years": "5",
            "legal_reference": "Test: a renumbered reference",
            "research_birth_days": "5,15,25",
            "research_reference": "Test: its research exception",
        },
    )
    assert response.status_code == 302, response.content[:500]
    rule = RetentionRule.objects.get(valid_from=date(2027, 1, 1))
    assert rule_on(date(2027, 3, 1)).pk == rule.pk
    assert rule_on(date(2026, 12, 31)).pk != rule.pk
    event = AuditEvent.objects.get(action=AuditAction.ADMIN_CHANGE)
    assert (event.object_type, event.object_id) == ("retention.RetentionRule", str(rule.pk))
    # The table keeps its history: no row is deleted through the admin.
    url = reverse("admin:retention_retentionrule_delete", args=[rule.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert RetentionRule.objects.filter(pk=rule.pk).exists()
