"""What notifies whom: referrals received and answered, shares, each relocation step, and the
reminders of threat reviews, follow-ups and expiring consents (and of outcomes at follow-up:
tests/test_method_outcome_reminders.py), sent once per thing and due date however often (and
however concurrently) the job runs. The recipients are those the target page's policy lets
act; the e-mails carry no case content."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from django.db.models import Value
from django.db.models.functions import Concat
from django.utils import timezone

from avhopp.models import Agency, Notification, NotificationKind, ReminderSent, Role, User
from cases import services as case_services
from cases.models import Case, CaseStatus, Consent, ConsentScope
from method import services as method_services
from method.followup import last_anchor
from referrals import services as referral_services
from referrals.models import Referral
from relocations import services as relocation_services
from relocations.models import Relocation, RelocationStatus
from tests.access_support import ready_referral
from tests.mail_support import Inbox
from tests.relocation_support import (
    DESTINATION_ADDRESS,
    DESTINATION_NAME,
    Parties,
    advance,
)
from tests.support import assess_threat, at_once, send_referral

pytestmark = pytest.mark.django_db


def _told(kind: NotificationKind) -> set[str]:
    """The user names notified of `kind`."""
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


def _clear() -> None:
    Notification.objects.all().delete()


# --- Referrals ------------------------------------------------------------------------------


@pytest.fixture
def prison_staff(make_user: Callable[..., User], prison_agency: Agency) -> dict[str, User]:
    return {
        role: make_user(prison_agency, role, username=f"kv_{role}")
        for role in (Role.COORDINATOR, Role.LOG_REVIEWER, Role.AGENCY_ADMIN)
    }


def test_a_referral_sent_tells_the_receiving_agencys_users_who_may_answer(
    settings: Any,
    tmp_path: Any,
    case: Case,
    coordinator: User,
    prison_agency: Agency,
    prison_staff: dict[str, User],
    outsider: User,
) -> None:
    settings.DOCUMENT_ROOT = tmp_path
    referral = ready_referral(case, coordinator, prison_agency)
    assert _told(NotificationKind.REFERRAL_RECEIVED) == set()  # not before it is sent
    send_referral(referral, coordinator)
    # The coordinator answers referrals; the log reviewer and the admin read no content.
    assert _told(NotificationKind.REFERRAL_RECEIVED) == {"kv_coordinator"}
    [notification] = Notification.objects.filter(kind=NotificationKind.REFERRAL_RECEIVED)
    assert notification.url == f"/remisser/{referral.pk}/"


def test_an_answered_referral_tells_its_sender(
    settings: Any,
    tmp_path: Any,
    case: Case,
    coordinator: User,
    worker: User,
    prison_agency: Agency,
    prison_staff: dict[str, User],
) -> None:
    settings.DOCUMENT_ROOT = tmp_path
    referral = ready_referral(case, coordinator, prison_agency)
    send_referral(referral, coordinator)
    answerer = prison_staff[Role.COORDINATOR]
    referral_services.referral_answer(
        referral=Referral.objects.get(pk=referral.pk), by=answerer, accepted=True, comment="Ja."
    )
    assert _told(NotificationKind.REFERRAL_ANSWERED) == {"coordinator"}


# --- Shares ---------------------------------------------------------------------------------


def test_a_share_tells_the_agency_whose_staff_may_read_the_case(
    case: Case,
    officer: User,
    police_agency: Agency,
    make_user: Callable[..., User],
    share_with: Callable[..., Any],
    worker: User,
    other_officer: User,
) -> None:
    make_user(police_agency, Role.LOG_REVIEWER, username="polreviewer")
    make_user(police_agency, Role.AGENCY_ADMIN, username="poladmin")
    gone = make_user(police_agency, Role.POLICE_OFFICER, username="formerofficer")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    share_with(case, police_agency)
    assert _told(NotificationKind.CASE_SHARED) == {"officer"}
    assert Notification.objects.get().url == f"/arenden/{case.pk}/"


# --- Relocations ----------------------------------------------------------------------------


def test_each_relocation_step_tells_whose_turn_it_is(
    parties: Parties,
    relocation: Relocation,
    make_user: Callable[..., User],
    worker: User,
    colleague: User,
) -> None:
    """The national coordinator matches and offers, the candidate's police clear, the
    candidate's coordinators answer and arrange, the sending coordinators ask for the
    handover; the one who took the step is not told of the next, and nobody else is told."""
    kind = NotificationKind.RELOCATION_STEP
    make_user(parties.receiving, Role.COORDINATOR, username="rcoord2")
    make_user(worker.agency, Role.COORDINATOR, username="coordinator2")
    assert _told(kind) == {"national"}  # the request waits for matching
    expected = {
        RelocationStatus.CLEARANCE: {"nordpolis"},
        # Cleared: the national coordinator sends the offer, then the candidate answers it.
        RelocationStatus.OFFERED: {"national", "rcoord", "rcoord2"},
        RelocationStatus.ACCEPTED: {"rcoord2"},  # rcoord accepted: the placement waits
        RelocationStatus.ARRANGED: {"rcoord2"},
        RelocationStatus.MOVED: {"coordinator", "coordinator2"},
        RelocationStatus.HANDOVER: {"rcoord", "rcoord2"},
        RelocationStatus.HANDED_OVER: set(),
    }
    for status, told in expected.items():
        _clear()
        advance(relocation, parties, status)
        assert _told(kind) == told, status


def test_a_declined_offer_tells_the_national_coordinator_again(
    relocation: Relocation, parties: Parties
) -> None:
    advance(relocation, parties, RelocationStatus.OFFERED)
    _clear()
    relocation_services.offer_answer(
        candidate=relocation.candidates.get(),
        by=parties.receiving_coordinator,
        accepted=False,
        decline_reason="no_housing",
    )
    assert _told(NotificationKind.RELOCATION_STEP) == {"national"}


# --- Reminders ------------------------------------------------------------------------------


@pytest.fixture
def reminded(
    case: Case,
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
) -> Case:
    """A case shared with the police, with a threat review due in 10 days, an intervention's
    follow-up due in 5 and the police share's consent running out in 20."""
    today = timezone.localdate()
    share = share_with(case, police_agency, frozenset(ConsentScope))
    Consent.objects.filter(pk=share.consent_id).update(valid_until=today + timedelta(days=20))
    assess_threat(
        case,
        officer,
        level="elevated",
        summary="Förhöjd.",
        details="Källa.",
        next_review_date=today + timedelta(days=10),
    )
    case_services.intervention_create(
        case=case,
        by=worker,
        kind="work",
        provider_name="Arbetsförmedlingen",
        follow_up_date=today + timedelta(days=5),
    )
    _clear()
    case.refresh_from_db()
    return case


def test_reminders_go_to_those_who_act_on_them(
    reminded: Case, make_user: Callable[..., User], police_agency: Agency
) -> None:
    make_user(police_agency, Role.LOG_REVIEWER, username="polreviewer")
    assert case_services.reminders_send() == 3
    # The police who record the next assessment, and the responsible worker.
    assert _told(NotificationKind.THREAT_REVIEW_DUE) == {"officer", "worker"}
    # The follow-up is the responsible worker's.
    assert _told(NotificationKind.FOLLOW_UP_DUE) == {"worker"}
    # Who recorded the consent, and the responsible worker who asks the person anew.
    assert _told(NotificationKind.CONSENT_EXPIRING) == {"coordinator", "worker"}
    assert set(Notification.objects.values_list("url", flat=True)) == {f"/arenden/{reminded.pk}/"}


def test_reminders_are_sent_once_per_thing_and_due_date(reminded: Case, officer: User) -> None:
    assert case_services.reminders_send() == 3
    sent = Notification.objects.count()
    assert case_services.reminders_send() == 0
    assert case_services.reminders_send(today=timezone.localdate() + timedelta(days=1)) == 0
    assert Notification.objects.count() == sent
    # A new assessment with a new review date is a new reminder.
    assess_threat(
        reminded,
        officer,
        level="high",
        summary="Hög.",
        details="Källa.",
        next_review_date=timezone.localdate() + timedelta(days=12),
    )
    assert case_services.reminders_send() == 1
    assert Notification.objects.count() == sent + 2


@pytest.mark.parametrize(
    ("review", "follow_up", "consent", "sent"),
    [
        pytest.param(14, 14, 30, 3, id="on-the-last-day-of-each-window"),
        pytest.param(15, 15, 31, 0, id="a-day-past-each-window"),
        pytest.param(-1, -1, -1, 0, id="overdue-is-not-coming-due"),
        pytest.param(0, 40, 25, 2, id="due-today-and-the-consent"),
    ],
)
def test_reminders_only_within_their_windows(
    reminded: Case, review: int, follow_up: int, consent: int, sent: int
) -> None:
    """Threat reviews and follow-ups within 14 days, consents within 30, from today on."""
    today = timezone.localdate()
    Case.objects.filter(pk=reminded.pk).update(threat_review_due=today + timedelta(days=review))
    reminded.interventions.update(follow_up_date=today + timedelta(days=follow_up))
    Consent.objects.update(valid_until=today + timedelta(days=consent))
    assert case_services.reminders_send() == sent


def test_no_reminders_for_a_closed_case(reminded: Case, worker: User) -> None:
    Case.objects.filter(pk=reminded.pk).update(
        status=CaseStatus.CLOSED, closed_at=timezone.now(), close_reason="Klart."
    )
    assert case_services.reminders_send() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_each_reminder_once(
    reminded: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both runs read the sent list before either writes (forced here), so both try every
    reminder: the unique claim lets exactly one of them send each."""
    monkeypatch.setattr(case_services, "reminders_claimed", lambda **_: set())
    results = at_once(case_services.reminders_send, case_services.reminders_send)
    assert not any(isinstance(result, BaseException) for result in results), results
    assert len(results) == 2
    assert sum(results) == 3
    assert ReminderSent.objects.count() == 3
    # officer+worker, worker, coordinator+worker: each once.
    assert Notification.objects.count() == 5


# --- No case content in any e-mail ----------------------------------------------------------


def _case_content(case: Case) -> list[str]:
    person = case.individual
    number = person.personnummer or ""
    return [
        person.first_name,
        person.last_name,
        number,
        f"{number[2:8]}-{number[8:]}" if number else "",
        person.address,
        case.reference,
        f"/arenden/{case.pk}/",
        DESTINATION_NAME,
        DESTINATION_ADDRESS,
        "REM-",
        "OMP-",
        *[str(kind.label) for kind in NotificationKind],
    ]


def test_no_mail_carries_case_content(
    mailbox: Inbox,
    committed: Callable[..., Any],
    settings: Any,
    tmp_path: Any,
    parties: Parties,
    relocation: Relocation,
    worker: User,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    prison_agency: Agency,
    prison_staff: dict[str, User],
    share_with: Callable[..., Any],
) -> None:
    """Every trigger, with every recipient given an address: the mails say that something
    waits and link to the notification, and nothing else."""
    settings.DOCUMENT_ROOT = tmp_path
    User.objects.update(email=Concat("username", Value("@example.se")))
    _clear()  # the request's, made before anyone had an address
    case = relocation.case
    with committed():
        share_with(case, police_agency)
    with committed():
        advance(relocation, parties, RelocationStatus.HANDOVER)
    with committed():
        referral = ready_referral(case, coordinator, prison_agency)
        send_referral(referral, coordinator)
    with committed():
        referral_services.referral_answer(
            referral=Referral.objects.get(pk=referral.pk),
            by=prison_staff[Role.COORDINATOR],
            accepted=False,
            comment="Nej.",
        )
    today = timezone.localdate()
    Case.objects.filter(pk=case.pk).update(threat_review_due=today + timedelta(days=3))
    Consent.objects.update(valid_until=today + timedelta(days=3))
    case_services.intervention_create(
        case=case,
        by=worker,
        kind="work",
        provider_name="Arbetsförmedlingen",
        follow_up_date=today + timedelta(days=3),
    )
    # Its support began six months before a day within the window: an outcome comes due.
    settings.AVHOPP_OUTCOME_FROM = "support"
    support_began = last_anchor(today + timedelta(days=3), 6)
    Case.objects.filter(pk=case.pk).update(
        first_support_at=timezone.make_aware(datetime.combine(support_began, time(12)))
    )
    with committed():
        assert case_services.reminders_send() >= 3
        assert method_services.outcome_reminders_send() == 1
    told = set(Notification.objects.values_list("kind", flat=True))
    assert told == set(NotificationKind.values)
    assert Notification.objects.filter(mailed_at__isnull=True).count() == 0
    assert len(mailbox.messages) == Notification.objects.count()
    forbidden = [text for text in _case_content(case) if text]
    for message in mailbox.messages:
        leaked = [text for text in forbidden if text in message.text]
        assert leaked == [], f"{message.recipients}: {leaked}"
        assert message.subject == "Avhopp: Något väntar på dig / Something is waiting for you"
        assert len(set(message.links)) == 1
        assert "/notiser/" in message.links[0]
