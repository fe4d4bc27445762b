"""Sending a referral: a confirmation step shows the document as it will go out, and only its
token sends; the document's checksum is shown only to those who can use it (the policy's
VERIFY: the sending coordinators and the receiving agency)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases.models import Case
from referrals import services
from referrals.models import Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy
from tests.access_support import give_outside_reason, ready_referral
from tests.support import send_referral

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("doc_root")]

CHECKSUM = "ab12" * 16


@pytest.fixture
def referral(owned_case: Case, coordinator: User, police_agency: Agency) -> Referral:
    """Ready, to the police, with a checksum of its own to look for on pages."""
    made = ready_referral(owned_case, coordinator, police_agency)
    Referral.objects.filter(pk=made.pk).update(document_sha256=CHECKSUM)
    made.refresh_from_db()
    return made


def send_url(referral: Referral) -> str:
    return reverse("referrals:send", args=[referral.pk])


def token_on(page: str) -> str:
    found = re.search(r'name="confirmation" value="([^"]+)"', page)
    assert found is not None, "the confirmation step offers no send button"
    return found.group(1)


def events(action: AuditAction, referral: Referral) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_id=str(referral.pk)).order_by("pk"))


# --- The confirmation step ---------------------------------------------------------------------


def test_the_step_shows_the_document_and_is_logged(
    referral: Referral, coordinator: User, login: Callable[[User], Client]
) -> None:
    response = login(coordinator).get(send_url(referral))
    assert response.status_code == 200
    page = response.content.decode()
    preview = reverse("referrals:preview", args=[referral.pk])
    # The document opens in a tab of its own (a frame would hold the page's load on the
    # browser's PDF viewer).
    opens = rf'<a [^>]*href="{preview}"[^>]*>Öppna dokumentet som skickas: {referral}'
    assert re.search(opens, page)
    assert f'action="{send_url(referral)}"' in page and ">Skicka</button>" in page
    assert token_on(page)
    [viewed] = events(AuditAction.REFERRAL_VIEW, referral)
    assert (viewed.reason, viewed.case_id) == ("send_confirmation", referral.case_id)
    # Nothing is sent by looking.
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY


def test_the_preview_is_the_stored_pdf_shown_inline_framed_by_the_site_alone(
    referral: Referral, coordinator: User, login: Callable[[User], Client]
) -> None:
    response = login(coordinator).get(reverse("referrals:preview", args=[referral.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    [read] = events(AuditAction.DOCUMENT_DOWNLOAD, referral)
    assert (read.reason, read.case_id, read.username) == (
        "preview",
        referral.case_id,
        coordinator.username,
    )


def test_the_preview_waits_for_the_document(
    owned_case: Case, coordinator: User, police_agency: Agency, login: Callable[[User], Client]
) -> None:
    queued = ready_referral(owned_case, coordinator, police_agency)
    Referral.objects.filter(pk=queued.pk).update(
        status=ReferralStatus.QUEUED, document_path="", document_sha256=""
    )
    client = login(coordinator)
    assert client.get(reverse("referrals:preview", args=[queued.pk])).status_code == 409
    review = client.get(send_url(queued))
    assert review.status_code == 409
    assert "Remissen kan skickas först när dokumentet är klart." in review.content.decode()
    assert 'name="confirmation"' not in review.content.decode()
    assert events(AuditAction.DOCUMENT_DOWNLOAD, queued) == []


@pytest.mark.parametrize("name", ["send", "preview"])
def test_only_the_sending_coordinators_reach_the_step(
    name: str,
    referral: Referral,
    worker: User,
    colleague: User,
    officer: User,
    outsider: User,
    log_reviewer: User,
    login: Callable[[User], Client],
) -> None:
    url = reverse(f"referrals:{name}", args=[referral.pk])
    # Staff of the owning agency who may read the referral but not send it: 403.
    for reader in (worker, colleague):
        assert login(reader).get(url).status_code == 403
    # Anyone who may not see it (the recipient before it is sent, strangers): 404, logged.
    for stranger in (officer, outsider, log_reviewer):
        assert login(stranger).get(url).status_code == 404
        assert AuditEvent.objects.filter(
            action=AuditAction.ACCESS_DENIED, username=stranger.username
        ).exists()
    assert not AuditEvent.objects.filter(
        action__in=[AuditAction.REFERRAL_VIEW, AuditAction.DOCUMENT_DOWNLOAD]
    ).exists()


# --- No send without the confirmation ----------------------------------------------------------


def test_sending_through_the_step(
    referral: Referral, coordinator: User, officer: User, login: Callable[[User], Client]
) -> None:
    client = login(coordinator)
    token = token_on(client.get(send_url(referral)).content.decode())
    response = client.post(send_url(referral), {"confirmation": token}, follow=True)
    assert "Remissen är skickad." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert referral.sent_at is not None
    assert len(events(AuditAction.REFERRAL_SEND, referral)) == 1
    # Once sent, the step has nothing more to send.
    assert client.get(send_url(referral)).status_code == 409
    assert login(officer).get(referral.get_absolute_url()).status_code == 200


def _tokens(referral: Referral, coordinator: User, other: User) -> dict[str, str]:
    """Tokens that must not send `referral` for `coordinator`."""
    good = services.send_confirmation_token(referral=referral, by=coordinator)
    body, signature = good.rsplit(":", 1)
    return {
        "none": "",
        "garbage": "x" * 80,
        "tampered": f"{body}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "another user's": services.send_confirmation_token(referral=referral, by=other),
        "unsigned": body,
    }


def test_no_send_without_the_steps_token(
    referral: Referral,
    coordinator: User,
    make_user: Callable[..., User],
    login: Callable[[User], Client],
) -> None:
    other = make_user(coordinator.agency, Role.COORDINATOR, username="coord2")
    client = login(coordinator)
    for name, token in _tokens(referral, coordinator, other).items():
        data = {"confirmation": token} if token else {}
        response = client.post(send_url(referral), data, follow=True)
        assert response.status_code == 200, name
        assert "Granska dokumentet och bekräfta utskicket" in response.content.decode(), name
        with pytest.raises(ValidationError, match="bekräfta utskicket"):
            services.referral_send(referral=referral, by=coordinator, confirmation=token)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY
    assert referral.sent_at is None
    assert events(AuditAction.REFERRAL_SEND, referral) == []


def test_a_token_confirms_one_referral_and_one_version_of_its_document(
    owned_case: Case, referral: Referral, coordinator: User, police_agency: Agency
) -> None:
    token = services.send_confirmation_token(referral=referral, by=coordinator)
    sibling = ready_referral(owned_case, coordinator, police_agency)
    with pytest.raises(ValidationError, match="bekräfta utskicket"):
        services.referral_send(referral=sibling, by=coordinator, confirmation=token)
    # The document made again since the step showed it: that one was not seen.
    Referral.objects.filter(pk=referral.pk).update(document_sha256="cd34" * 16)
    with pytest.raises(ValidationError, match="bekräfta utskicket"):
        services.referral_send(referral=referral, by=coordinator, confirmation=token)
    for made in (referral, sibling):
        made.refresh_from_db()
        assert made.status == ReferralStatus.READY


def test_a_token_lasts_half_an_hour(referral: Referral, coordinator: User) -> None:
    token = services.send_confirmation_token(referral=referral, by=coordinator)
    later = time.time() + services.CONFIRMATION_MAX_AGE.total_seconds() + 1
    with (
        mock.patch("django.core.signing.time.time", return_value=later),
        pytest.raises(ValidationError, match="bekräfta utskicket"),
    ):
        services.referral_send(referral=referral, by=coordinator, confirmation=token)
    services.referral_send(referral=referral, by=coordinator, confirmation=token)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_a_token_does_not_get_past_the_policy(
    referral: Referral, coordinator: User, worker: User, login: Callable[[User], Client]
) -> None:
    from django.core.exceptions import PermissionDenied

    token = services.send_confirmation_token(referral=referral, by=worker)
    with pytest.raises(PermissionDenied):
        services.referral_send(referral=referral, by=worker, confirmation=token)
    assert login(worker).post(send_url(referral), {"confirmation": token}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY


# --- The checksum ------------------------------------------------------------------------------


def test_the_checksum_is_shown_to_those_who_can_use_it(
    referral: Referral,
    worker: User,
    coordinator: User,
    officer: User,
    login: Callable[[User], Client],
) -> None:
    def page(user: User) -> str:
        client = login(user)
        if user == worker:  # not responsible for this case: a reason first
            give_outside_reason(client, referral.case)
        response = client.get(referral.get_absolute_url())
        assert response.status_code == 200
        return response.content.decode()

    # The sending coordinator stands behind the document: the whole checksum.
    assert CHECKSUM in page(coordinator)
    assert 'data-testid="checksum"' in page(coordinator)
    # The responsible social worker reads the referral but has no use for the checksum.
    as_worker = page(worker)
    assert "SHA-256" not in as_worker and CHECKSUM[:8] not in as_worker
    send_referral(referral, coordinator)
    # The recipient holds the document and may check a copy against it.
    assert CHECKSUM in page(officer)


def test_the_policy_decides_who_verifies(
    referral: Referral,
    worker: User,
    colleague: User,
    coordinator: User,
    officer: User,
) -> None:
    verifies = {
        user.username: ReferralPolicy.allows(user, ReferralAction.VERIFY, referral)
        for user in (worker, colleague, coordinator, officer)
    }
    assert verifies == {
        worker.username: False,
        colleague.username: False,
        coordinator.username: True,
        officer.username: True,  # the recipient agency (asked for a referral it can see)
    }
