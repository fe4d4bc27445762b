"""Browser journeys of notifications and invitations, in headless Chromium: an invitation
read from the loopback SMTP server to the first sign-in with a new authenticator, and each
kind of notification in its recipient's header count and list, opened through to its page."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from avhopp.models import Agency, Notification, NotificationKind, Role, User
from cases import services as case_services
from cases.models import Case, Consent
from method import services as method_services
from method.followup import last_anchor
from referrals import services as referral_services
from relocations.models import Relocation
from tests.access_support import ready_referral
from tests.conftest import PASSWORD
from tests.mail_support import Inbox
from tests.relocation_support import Parties
from tests.support import send_referral, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Nora-valde-ett-eget-losen-7"


def field(page: Page, label: str) -> Any:
    """A form control by its label; required fields' labels end in an aria-hidden " *"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s*\*)?$"))


@pytest.fixture
def fresh_page(new_page: Callable[[], Page]) -> Callable[[], Page]:
    """Pages in new browser contexts (another person's browser), checked by axe."""
    return new_page


def test_an_invitation_from_the_mail_to_the_first_sign_in(
    page: Page,
    browser_login: Callable[[User], Page],
    fresh_page: Callable[[], Page],
    agency_admin: User,
    mailbox: Inbox,
    settings: Any,
    live_server: Any,
) -> None:
    settings.AVHOPP_BASE_URL = live_server.url
    browser_login(agency_admin)
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Användare").click()
    expect(page.get_by_label("Lösenord")).to_have_count(0)  # the admin chooses none
    field(page, "Användarnamn").fill("nora.nyberg")
    field(page, "Förnamn").fill("Nora")
    field(page, "Efternamn").fill("Nyberg")
    field(page, "E-postadress").fill("nora@example.se")
    field(page, "Roll").select_option(label="Handläggare")
    page.get_by_role("button", name="Skapa användare").click()
    expect(page.get_by_role("status")).to_contain_text("en inbjudan är skickad")

    [invitation] = mailbox.to("nora@example.se")
    link = invitation.links[0]
    assert link.startswith(f"{live_server.url}/logga-in/inbjudan/?u=")

    # Nora, in her own browser: the link, her own password, then the sign-in.
    nora = fresh_page()
    nora.goto(link)
    expect(nora.get_by_role("heading", level=1)).to_have_text("Välj lösenord")
    assert "t=" not in nora.url  # the token left the address bar at once
    field(nora, "Nytt lösenord").fill(NEW_PASSWORD)
    field(nora, "Bekräfta nytt lösenord").fill(NEW_PASSWORD)
    nora.get_by_role("button", name="Spara lösenord").click()
    expect(nora.get_by_role("status")).to_contain_text("Ditt lösenord är valt")
    nora.get_by_label("Användarnamn").fill("nora.nyberg")
    nora.get_by_label("Lösenord").fill(NEW_PASSWORD)
    nora.get_by_role("button", name="Logga in").click()

    # The first sign-in sets up the second factor: the key in text, as an app would read it.
    expect(nora.get_by_role("heading", level=1)).to_have_text("Aktivera tvåfaktorsinloggning")
    secret = nora.get_by_test_id("totp-secret").inner_text().strip()
    field(nora, "Engångskod").fill(f"{totp(base64.b32decode(secret)):06d}")
    nora.get_by_role("button", name="Aktivera").click()
    expect(nora.get_by_role("heading", level=1)).to_have_text("Dina reservkoder")
    nora.get_by_role("link", name="Fortsätt").click()
    expect(nora.get_by_test_id("whoami")).to_contain_text("Nora Nyberg")

    # The link is used up.
    again = fresh_page()
    again.goto(link)
    expect(again.get_by_test_id("invitation-invalid")).to_contain_text("fungerar inte längre")


# --- Each notification in the header and the list -------------------------------------------


@pytest.fixture
def every_kind(
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    tmp_path: Any,
    parties: Parties,
    relocation: Relocation,
    case: Case,
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    make_user: Callable[..., User],
    share_with: Callable[..., Any],
) -> dict[str, User]:
    """Every trigger on one case: a relocation requested (in the fixture), a share with the
    police, a referral sent and answered, and the reminders of a threat review, a follow-up,
    the consents and the outcomes at follow-up, all coming due. Whom each tells is in
    tests/test_notification_triggers and tests/test_method_outcome_reminders."""
    settings.DOCUMENT_ROOT = tmp_path
    # The referral's document is made by the test (ready_referral), not by a job.
    monkeypatch.setattr(referral_services, "enqueue_generation", lambda referral_id: True)
    receiver = make_user(prison_agency, Role.COORDINATOR, username="kvcoord")
    share_with(case, police_agency)
    referral = ready_referral(case, coordinator, prison_agency)
    send_referral(referral, coordinator)
    referral.refresh_from_db()
    referral_services.referral_answer(referral=referral, by=receiver, accepted=True, comment="Ja")
    today = timezone.localdate()
    Case.objects.filter(pk=case.pk).update(threat_review_due=today + timedelta(days=5))
    Consent.objects.update(valid_until=today + timedelta(days=10))
    case_services.intervention_create(
        case=case,
        by=worker,
        kind="work",
        provider_name="Arbetsförmedlingen",
        follow_up_date=today + timedelta(days=7),
    )
    case_services.reminders_send()
    # The case's support began six months before a day within the window: its outcomes.
    settings.AVHOPP_OUTCOME_FROM = "support"
    support_began = last_anchor(today + timedelta(days=9), 6)
    Case.objects.filter(pk=case.pk).update(
        first_support_at=timezone.make_aware(datetime.combine(support_began, time(12)))
    )
    method_services.outcome_reminders_send()
    return {
        "officer": officer,
        "kvcoord": receiver,
        "coordinator": coordinator,
        "worker": worker,
        "national": parties.national,
    }


@pytest.mark.parametrize(
    ("recipient", "kinds"),
    [
        ("officer", {NotificationKind.CASE_SHARED, NotificationKind.THREAT_REVIEW_DUE}),
        ("kvcoord", {NotificationKind.REFERRAL_RECEIVED}),
        ("coordinator", {NotificationKind.REFERRAL_ANSWERED, NotificationKind.CONSENT_EXPIRING}),
        (
            "worker",
            {
                NotificationKind.THREAT_REVIEW_DUE,
                NotificationKind.FOLLOW_UP_DUE,
                NotificationKind.CONSENT_EXPIRING,
                NotificationKind.OUTCOMES_DUE,
            },
        ),
        ("national", {NotificationKind.RELOCATION_STEP}),
    ],
)
def test_each_notification_is_counted_in_the_header_and_opened_from_the_list(
    recipient: str,
    kinds: set[NotificationKind],
    every_kind: dict[str, User],
    page: Page,
) -> None:
    user = every_kind[recipient]
    assert set(Notification.objects.filter(user=user).values_list("kind", flat=True)) == kinds
    unread = Notification.objects.filter(user=user).count()
    sign_in(page, user, PASSWORD)
    header = page.get_by_role("banner")
    while unread:
        # The count, and a name that says what it counts.
        expect(header.get_by_test_id("unread-count")).to_have_text(str(unread))
        word = "oläst" if unread == 1 else "olästa"
        link = header.get_by_role("link", name=f"Notiser {unread} {word}", exact=True)
        link.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Notiser")
        rows = page.get_by_test_id("notifications").locator("tbody tr")
        expect(rows).to_have_count(Notification.objects.filter(user=user).count())
        for kind in kinds:
            expect(rows.filter(has_text=str(kind.label)).first).to_be_visible()
        new_rows = page.get_by_test_id("notifications").locator("tbody tr.unread")
        expect(new_rows).to_have_count(unread)
        new_rows.first.get_by_role("link").click()
        # The page it names, as that page's own policy answers: never the 404.
        expect(page.get_by_role("heading", level=1)).not_to_have_text("Sidan finns inte")
        unread -= 1
    expect(header.get_by_test_id("unread-count")).to_have_count(0)
    expect(header.get_by_role("link", name="Notiser", exact=True)).to_be_visible()
    assert not Notification.objects.filter(user=user, read_at__isnull=True).exists()
