"""Referrals (remisser) and SIP plans: documents, consent gating, views, failures, the broker.

Unit-level tests render in-process: the `published` fixture stands in for the broker and
records what `referral_create` publishes on commit; documents are written to a tmp_path.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from avhopp import pdf
from avhopp.models import Agency, AuditAction, AuditEvent, User
from avhopp.storage import read_document
from cases import services as case_services
from cases.identity import format_identity_number, mask_identity_number
from cases.models import (
    Case,
    Consent,
    InterventionKind,
    LegalBasis,
    ProtectionLevel,
    ThreatLevel,
)
from cases.policy import CaseAction
from cases.selectors import get_case_for_user
from referrals import services
from referrals.models import DocumentKind, Referral, ReferralStatus
from referrals.selectors import referrals_of_case, referrals_visible_to
from referrals.tasks import generate_document
from tests.support import assess_threat, send_referral
from tests.worker_support import DEAD_BROKER, broker_at, take_queued

# Every test writes its documents to a folder of its own.
pytestmark = pytest.mark.usefixtures("doc_root")

# Captured before any test patches it: the broker test needs the real publisher.
REAL_ENQUEUE = services.enqueue_generation

CONTACT = "Karin Kontakt, 08-555 123 45"
CONSENT_REF = "SAMTYCKE-2024-0117"
LEGAL_CITATION = "Beslut 2024-03-01 om skyddsinsats, dnr 2024-117"
THREAT_SUMMARY = "Hotbilden bedöms som påtaglig efter avhoppet"
THREAT_DETAILS = "KÄLLUPPGIFT-QX7 informatör i nätverket Norra"


# --- Fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(autouse=True)
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the ids `referral_create` publishes instead of talking to a broker."""
    ids: list[int] = []

    def record(referral_id: int) -> bool:
        ids.append(referral_id)
        return True

    monkeypatch.setattr(services, "enqueue_generation", record)
    return ids


@pytest.fixture
def make_referral(coordinator: User, police_agency: Agency) -> Callable[..., Referral]:
    def make(case: Case, **fields: Any) -> Referral:
        values: dict[str, Any] = {
            "kind": DocumentKind.REFERRAL,
            "to_agency": police_agency,
            "intervention_kind": InterventionKind.PROTECTION,
            "reason": "Behöver skydd efter avhopp.",
            "summary": "Personen har lämnat nätverket och samarbetar.",
            "contact_person": CONTACT,
        }
        values.update(fields)
        if values.get("consent") is None:
            # Without a consent a referral rests on a legal basis with a citation.
            values.setdefault("legal_basis", LegalBasis.NECESSARY_FOR_DUTY)
            values.setdefault("legal_basis_citation", LEGAL_CITATION)
        return services.referral_create(case=case, by=coordinator, **values)

    return make


def render(referral: Referral) -> Referral:
    services.referral_render(referral_id=referral.pk)
    referral.refresh_from_db()
    return referral


def flat(text: str) -> str:
    """Undo the PDF's line wrapping: a break after a hyphen joins, others become a space."""
    return re.sub(r"\s+", " ", text.replace("-\n", "-"))


def pdf_pages(referral: Referral) -> list[str]:
    reader = PdfReader(io.BytesIO(read_document(referral.document_path)))
    return [flat(page.extract_text() or "") for page in reader.pages]


def threat_assessment(case: Case, officer: User) -> None:
    assess_threat(
        case,
        officer,
        level=ThreatLevel.HIGH,
        summary=THREAT_SUMMARY,
        details=THREAT_DETAILS,
        personal_protection=True,
        next_review_date=timezone.localdate() + timedelta(days=30),
    )


def referral_post_data(consent: Consent, agency: Agency, **overrides: str) -> dict[str, str]:
    data = {
        "to_agency": str(agency.pk),
        "external_recipient": "",
        "intervention_kind": InterventionKind.PROTECTION.value,
        "reason": "Behöver skydd.",
        "summary": "Kort sammanfattning.",
        "requested_start": "",
        "contact_person": CONTACT,
        "consent": str(consent.pk),
    }
    data.update(overrides)
    return data


def create_url(case: Case) -> str:
    return reverse("referrals:create", args=[case.pk])


# --- The document ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_queues_and_publishes_after_commit(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    published: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        referral = make_referral(owned_case)
        assert published == []  # nothing leaves before the row is committed
    assert len(callbacks) == 1
    assert published == [referral.pk]
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUEUED
    assert referral.queued_at is not None
    assert referral.from_agency_id == owned_case.owning_agency_id
    assert AuditEvent.objects.filter(
        action=AuditAction.REFERRAL_CREATE, object_id=str(referral.pk)
    ).exists()


@pytest.mark.django_db
def test_pdf_holds_the_referral_on_every_page(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    officer: User,
) -> None:
    threat_assessment(owned_case, officer)
    consent = consent_to(owned_case, police_agency)
    # Within the 10,000 characters a summary may hold, and long enough for several pages.
    long_summary = "\n\n".join(
        f"Stycke {n}: personen har tagit emot stöd och följt planen under perioden." * 3
        for n in range(40)
    )
    referral = render(
        make_referral(owned_case, consent=consent, summary=long_summary, include_threat_level=True)
    )

    assert referral.status == ReferralStatus.READY
    pages = pdf_pages(referral)
    assert len(pages) >= 2
    assert referral.page_count == len(pages)
    for number, text in enumerate(pages, start=1):
        assert "Sekretess enligt OSL" in text, f"page {number}"
        assert f"Sida {number} av {len(pages)}" in text, f"page {number}"
        assert referral.reference in text, f"page {number}"
        assert "Södertälje kommun" in text, f"page {number}"  # running sender header
    text = "\n".join(pages)
    assert "Remiss" in pages[0]
    assert owned_case.reference in text
    assert timezone.localdate().isoformat() in text
    assert "Polisregion Stockholm" in text
    assert "Adam Testsson" in text
    assert CONTACT in text
    assert CONSENT_REF in text
    assert "Aktuell hotnivå: Hög" in text
    assert THREAT_SUMMARY in text
    # Not a protected person: full number and address are part of the referral.
    assert format_identity_number(owned_case.individual.personnummer) in text
    assert "Storgatan 1" in text


@pytest.mark.django_db
def test_pdf_never_contains_threat_details(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    officer: User,
) -> None:
    threat_assessment(owned_case, officer)
    referral = make_referral(
        owned_case, consent=consent_to(owned_case, police_agency), include_threat_level=True
    )
    html = services.referral_html(referral_id=referral.pk)
    assert THREAT_SUMMARY in html
    assert "KÄLLUPPGIFT" not in html
    text = "\n".join(pdf_pages(render(referral)))
    assert THREAT_SUMMARY in text
    assert "KÄLLUPPGIFT" not in text
    assert "informatör" not in text


@pytest.mark.django_db
def test_threat_section_left_out_unless_chosen(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    officer: User,
) -> None:
    threat_assessment(owned_case, officer)
    referral = make_referral(owned_case, consent=consent_to(owned_case, police_agency))
    text = "\n".join(pdf_pages(render(referral)))
    assert "Hotbild" not in text
    assert THREAT_SUMMARY not in text


@pytest.mark.django_db
def test_protected_person_is_masked_in_the_document(
    make_case: Callable[..., Case],
    worker: User,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
) -> None:
    case = make_case(
        worker,
        protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
        born=date(1995, 3, 14),
        address="Hemlighetsvägen 7, 123 45 Gömstad",
    )
    number = case.individual.personnummer
    referral = render(make_referral(case, consent=consent_to(case, police_agency)))
    text = "\n".join(pdf_pages(referral))
    assert mask_identity_number(number) == "19950314-****"
    assert "19950314-****" in text
    assert format_identity_number(number) not in text
    assert number not in text
    assert f"-{number[8:]}" not in text
    assert "Hemlighetsvägen" not in text
    assert "Gömstad" not in text
    assert "070-123 45 67" not in text
    assert "Skyddade personuppgifter" in text


# --- Consent gating ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("section", ["include_threat_level", "include_journal"])
def test_service_refuses_sections_outside_the_consent(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    section: str,
) -> None:
    consent = consent_to(owned_case, police_agency, interventions=True, threat_level=False)
    with pytest.raises(ValidationError, match="Samtycket täcker inte"):
        make_referral(owned_case, consent=consent, **{section: True})
    with pytest.raises(ValidationError, match="Samtycket täcker inte"):
        make_referral(owned_case, consent=None, include_interventions=True)
    assert not Referral.objects.exists()
    # What the consent does cover is accepted.
    assert make_referral(owned_case, consent=consent, include_interventions=True).pk


@pytest.mark.django_db
def test_service_refuses_a_withdrawn_or_misaddressed_consent(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    prison_agency: Agency,
    coordinator: User,
) -> None:
    elsewhere = consent_to(owned_case, prison_agency)
    with pytest.raises(ValidationError, match="gäller inte"):
        make_referral(owned_case, consent=elsewhere)
    withdrawn = consent_to(owned_case, police_agency)
    case_services.consent_withdraw(consent=withdrawn, by=coordinator, case=owned_case)
    with pytest.raises(ValidationError, match="gäller inte"):
        make_referral(owned_case, consent=withdrawn)
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_sip_needs_a_consent_covering_interventions(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    consent_to: Callable[..., Consent],
    police_agency: Agency,
) -> None:
    narrow = consent_to(owned_case, police_agency, interventions=False)
    for consent in (None, narrow):
        with pytest.raises(ValidationError, match="SIP"):
            make_referral(
                owned_case,
                kind=DocumentKind.SIP,
                to_agency=None,
                consent=consent,
                overall_responsibility="Södertälje kommun",
                next_follow_up=timezone.localdate() + timedelta(days=30),
            )
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_form_refuses_sections_outside_the_consent(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    consent = consent_to(owned_case, police_agency, interventions=True, threat_level=False)
    client = login(coordinator)
    response = client.post(
        create_url(owned_case),
        referral_post_data(consent, police_agency, include_threat_level="on"),
    )
    assert response.status_code == 400
    assert "Samtycket täcker inte det här avsnittet." in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_form_refuses_consent_for_another_recipient(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    prison_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    consent = consent_to(owned_case, prison_agency)
    response = login(coordinator).post(
        create_url(owned_case), referral_post_data(consent, police_agency)
    )
    assert response.status_code == 400
    assert "Samtycket gäller en annan mottagare." in response.content.decode()
    assert not Referral.objects.exists()


# --- Views ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_coordinator_creates_through_the_form(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
    published: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    consent = consent_to(owned_case, police_agency)
    client = login(coordinator)
    assert client.get(create_url(owned_case)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            create_url(owned_case),
            referral_post_data(
                consent, police_agency, include_threat_level="on", include_interventions="on"
            ),
        )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    assert published == [referral.pk]
    assert referral.status == ReferralStatus.QUEUED
    assert referral.created_by == coordinator
    assert referral.to_agency == police_agency
    assert referral.consent == consent
    assert referral.include_threat_level and referral.include_interventions
    assert not referral.include_journal


@pytest.mark.django_db
def test_only_the_owning_coordinator_may_create(
    owned_case: Case,
    worker: User,
    outsider: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    consent = consent_to(owned_case, police_agency)
    data = referral_post_data(consent, police_agency)
    assert login(worker).get(create_url(owned_case)).status_code == 403
    assert login(worker).post(create_url(owned_case), data).status_code == 403
    assert login(outsider).get(create_url(owned_case)).status_code == 404
    assert login(outsider).post(create_url(owned_case), data).status_code == 404
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_detail_status_and_download(
    owned_case: Case,
    coordinator: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
) -> None:
    referral = make_referral(owned_case)
    client = login(coordinator)
    status_url = reverse("referrals:status", args=[referral.pk])
    download_url = reverse("referrals:download", args=[referral.pk])

    response = client.get(referral.get_absolute_url())
    assert response.status_code == 200
    assert referral.reference in response.content.decode()
    assert client.get(status_url).json() == {"status": "queued", "label": "I kö", "pending": True}
    assert client.get(download_url).status_code == 409  # nothing to download yet

    render(referral)
    status = client.get(status_url)
    assert status.json() == {"status": "ready", "label": "Klar", "pending": False}
    assert "no-store" in status["Cache-Control"]
    assert 'data-testid="download"' in client.get(referral.get_absolute_url()).content.decode()

    response = client.get(download_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in [part.strip() for part in response["Cache-Control"].split(",")]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == referral.document_sha256
    downloads = AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOAD)
    assert downloads.count() == 1
    event = downloads.get()
    assert (event.user_id, event.object_id, event.case_id) == (
        coordinator.pk,
        str(referral.pk),
        owned_case.pk,
    )
    # A download, never shown inline by the browser, under the referral's own name.
    disposition = response.get("Content-Disposition", "")
    assert disposition.startswith("attachment"), f"Content-Disposition: {disposition!r}"
    assert f'filename="{referral.reference}.pdf"' in disposition


@pytest.mark.django_db
def test_outsider_sees_nothing(
    owned_case: Case,
    outsider: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
) -> None:
    referral = render(make_referral(owned_case))
    client = login(outsider)
    for name in ("detail", "status", "download"):
        assert client.get(reverse(f"referrals:{name}", args=[referral.pk])).status_code == 404
    assert client.post(reverse("referrals:send", args=[referral.pk])).status_code == 404
    assert referral.reference not in client.get(reverse("referrals:dashboard")).content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.DOCUMENT_DOWNLOAD).exists()
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.ACCESS_DENIED, user_id=outsider.pk, object_id=str(referral.pk)
        ).count()
        == 4
    )
    # Anonymous: sent to log in, never handed the file.
    response = Client().get(reverse("referrals:download", args=[referral.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_document_not_reachable_as_a_static_or_media_file(
    owned_case: Case,
    coordinator: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
    doc_root: Path,
) -> None:
    referral = render(make_referral(owned_case))
    assert (doc_root / referral.document_path).is_file()
    client = login(coordinator)
    for prefix in ("/static/", "/media/", "/static/documents/", "/media/documents/"):
        assert client.get(f"{prefix}{referral.document_path}").status_code == 404


def test_configured_document_root_is_private() -> None:
    """The root as configured (tests use a tmp one) lies outside every served directory."""
    from avhopp import settings as project_settings

    root = Path(project_settings.DOCUMENT_ROOT).resolve()
    for directory in [Path(project_settings.STATIC_ROOT), *project_settings.STATICFILES_DIRS]:
        directory = Path(directory).resolve()
        assert directory != root and directory not in root.parents and root not in directory.parents


# --- Send and answer --------------------------------------------------------------------------


@pytest.mark.django_db
def test_send_and_accept(
    owned_case: Case,
    coordinator: User,
    officer: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
) -> None:
    referral = render(make_referral(owned_case))
    receiver = login(officer)
    detail = referral.get_absolute_url()

    # Before it is sent, the receiving agency does not know it exists.
    assert receiver.get(detail).status_code == 404
    assert receiver.get(reverse("referrals:status", args=[referral.pk])).status_code == 404
    assert receiver.get(reverse("referrals:download", args=[referral.pk])).status_code == 404
    assert referral.reference not in receiver.get(reverse("referrals:dashboard")).content.decode()
    answer_url = reverse("referrals:answer", args=[referral.pk])
    assert receiver.post(answer_url, {"decision": "accept"}).status_code == 404

    sender = login(coordinator)
    send_url = reverse("referrals:send", args=[referral.pk])
    # The referral page leads to the confirmation step, whose form sends.
    assert f'href="{send_url}"' in sender.get(detail).content.decode()
    review = sender.get(send_url).content.decode()
    assert f'action="{send_url}"' in review
    token = re.search(r'name="confirmation" value="([^"]+)"', review).group(1)
    response = sender.post(send_url, {"confirmation": token})
    assert response.status_code == 302
    assert response["Location"] == detail
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert AuditEvent.objects.filter(
        action=AuditAction.REFERRAL_SEND, object_id=str(referral.pk)
    ).exists()

    inbox = receiver.get(reverse("referrals:dashboard")).content.decode()
    assert str(referral) in inbox
    assert detail in inbox
    page = receiver.get(detail)
    assert page.status_code == 200
    assert 'name="decision"' in page.content.decode()
    assert receiver.get(reverse("referrals:download", args=[referral.pk])).status_code == 200
    # The referral does not open the case itself to the receiving agency.
    assert receiver.get(owned_case.get_absolute_url()).status_code == 404

    response = receiver.post(answer_url, {"decision": "accept", "comment": "Vi tar kontakt."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert referral.answered_by == officer
    assert referral.answered_at is not None
    assert referral.answer_comment == "Vi tar kontakt."
    assert 'data-testid="answer"' in sender.get(detail).content.decode()
    # Answered once: a second answer is refused.
    again = receiver.post(answer_url, {"decision": "decline", "comment": "Nej"})
    assert again.status_code == 400
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


@pytest.mark.django_db
def test_decline_requires_a_comment(
    owned_case: Case,
    coordinator: User,
    officer: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
) -> None:
    referral = render(make_referral(owned_case))
    send_referral(referral, coordinator)
    receiver = login(officer)
    answer_url = reverse("referrals:answer", args=[referral.pk])

    response = receiver.post(answer_url, {"decision": "decline", "comment": "  "})
    assert response.status_code == 400
    assert "Ange varför remissen avböjs." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT

    response = receiver.post(answer_url, {"decision": "decline", "comment": "Saknar plats."})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED
    assert referral.answer_comment == "Saknar plats."


@pytest.mark.django_db
def test_shared_case_is_visible_to_the_receiver(
    owned_case: Case,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
    login: Callable[[User], Client],
) -> None:
    client = login(officer)
    assert client.get(owned_case.get_absolute_url()).status_code == 404
    share_with(owned_case, police_agency)
    assert client.get(owned_case.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_only_a_ready_referral_is_sent_and_only_by_a_coordinator(
    owned_case: Case,
    coordinator: User,
    worker: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
) -> None:
    referral = make_referral(owned_case)
    send_url = reverse("referrals:send", args=[referral.pk])
    response = login(coordinator).post(send_url, follow=True)
    assert "Remissen kan skickas först när dokumentet är klart." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUEUED

    render(referral)
    token = services.send_confirmation_token(referral=referral, by=worker)
    assert login(worker).get(send_url).status_code == 403
    assert login(worker).post(send_url, {"confirmation": token}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY


# --- Failure and retry ------------------------------------------------------------------------


@pytest.mark.django_db
def test_failed_render_shows_retry_and_requeues(
    owned_case: Case,
    coordinator: User,
    make_referral: Callable[..., Referral],
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    published: list[int],
    django_capture_on_commit_callbacks: Any,
    doc_root: Path,
) -> None:
    referral = make_referral(owned_case)

    def broken(html: str) -> pdf.RenderedPdf:
        raise ValueError("trasig mall")

    with monkeypatch.context() as patch:
        patch.setattr(services, "render_pdf", broken)
        with pytest.raises(ValueError, match="trasig mall"):
            generate_document.apply(args=[referral.pk])
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.FAILED
    assert referral.error_message == "ValueError: dokumentet kunde inte skapas."
    assert referral.attempts == 1
    assert not referral.document_path
    assert not list(doc_root.rglob("*.pdf"))

    client = login(coordinator)
    retry_url = reverse("referrals:retry", args=[referral.pk])
    page = client.get(referral.get_absolute_url()).content.decode()
    assert "ValueError: dokumentet kunde inte skapas." in page
    assert f'action="{retry_url}"' in page
    assert "Försök igen" in page
    assert client.get(reverse("referrals:status", args=[referral.pk])).json()["status"] == "failed"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url)
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.QUEUED
    assert referral.error_message == ""
    assert published == [referral.pk]

    referral = render(referral)
    assert referral.status == ReferralStatus.READY
    assert referral.attempts == 2
    # Retrying a referral that has not failed is refused.
    response = client.post(retry_url, follow=True)
    assert "Bara en misslyckad remiss kan försökas igen." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY


@pytest.mark.django_db
def test_render_is_idempotent(
    owned_case: Case,
    make_referral: Callable[..., Referral],
    monkeypatch: pytest.MonkeyPatch,
    doc_root: Path,
) -> None:
    calls: list[str] = []
    real_render = services.render_pdf

    def counting(html: str) -> pdf.RenderedPdf:
        calls.append(html)
        return real_render(html)

    monkeypatch.setattr(services, "render_pdf", counting)
    referral = render(make_referral(owned_case))
    first = (referral.document_sha256, referral.generated_at, referral.attempts)
    files = sorted(p for p in doc_root.rglob("*") if p.is_file())
    assert files == [doc_root / "referrals" / f"{referral.pk}.pdf"]
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == referral.document_sha256
    assert files[0].stat().st_mode & 0o777 == 0o600
    modified = files[0].stat().st_mtime_ns

    referral = render(referral)  # a redelivered job
    assert len(calls) == 1
    assert (referral.document_sha256, referral.generated_at, referral.attempts) == first
    assert sorted(p for p in doc_root.rglob("*") if p.is_file()) == files
    assert files[0].stat().st_mtime_ns == modified
    assert hashlib.sha256(files[0].read_bytes()).hexdigest() == first[0]


# --- Broker outage ----------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs the Redis broker")
@pytest.mark.django_db(transaction=True)
def test_broker_down_at_submit_keeps_the_referral_queued(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "enqueue_generation", REAL_ENQUEUE)
    consent = consent_to(owned_case, police_agency)
    client = login(coordinator)
    with broker_at(DEAD_BROKER):
        assert REAL_ENQUEUE(0) is False  # the outage is real: publishing fails
        response = client.post(create_url(owned_case), referral_post_data(consent, police_agency))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == referral.get_absolute_url()
    assert referral.status == ReferralStatus.QUEUED
    assert referral.queued_at is not None
    assert take_queued(generate_document.name, {referral.pk}) == 0

    # The broker is back: the requeuer publishes what was left behind.
    try:
        assert services.referrals_requeue_stale(older_than=timedelta(0)) == 1
    finally:
        published = take_queued(generate_document.name, {referral.pk})
    assert published == 1
    referral = render(referral)
    assert referral.status == ReferralStatus.READY
    assert services.referrals_requeue_stale(older_than=timedelta(0)) == 0


# --- SIP --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sip_document(
    owned_case: Case,
    coordinator: User,
    worker: User,
    prison_agency: Agency,
    police_agency: Agency,
    consent_to: Callable[..., Consent],
    share_with: Callable[..., Any],
    login: Callable[[User], Client],
    published: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    follow_up = timezone.localdate() + timedelta(days=45)
    case_services.intervention_create(
        case=owned_case,
        by=worker,
        kind=InterventionKind.WORK,
        provider_name="Arbetsförmedlingen Södertälje",
    )
    case_services.intervention_create(
        case=owned_case,
        by=worker,
        kind=InterventionKind.PROTECTED_HOUSING,
        provider_agency=prison_agency,
    )
    share_with(owned_case, police_agency)
    consent = consent_to(owned_case, prison_agency, reference="SIP-SAMTYCKE-9")
    client = login(coordinator)
    url = reverse("referrals:sip_create", args=[owned_case.pk])
    data = {
        "overall_responsibility": "Socialtjänsten, Karin Kontakt",
        "next_follow_up": follow_up.isoformat(),
        "contact_person": CONTACT,
        "summary": "Målet är eget boende och arbete.",
        "consent": str(consent.pk),
    }

    refused = client.post(url, {**data, "consent": ""})
    assert refused.status_code == 400
    assert "Välj samtycke som planen vilar på" in refused.content.decode()
    assert not Referral.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    sip = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == sip.get_absolute_url()
    assert sip.kind == DocumentKind.SIP
    assert published == [sip.pk]

    reader = PdfReader(io.BytesIO(read_document(render(sip).document_path)))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    text = flat(raw)
    assert "Samordnad individuell plan" in text
    participants = raw.split("Medverkande\n", 1)[1].split("\nBehov och mål", 1)[0]
    assert participants.splitlines() == [
        "Arbetsförmedlingen Södertälje",
        "Kriminalvården",
        "Polisregion Stockholm",
        "Södertälje kommun",
    ]
    # Each intervention with its provider, on one row of the table.
    assert "Arbete Arbetsförmedlingen Södertälje Planerad" in text
    assert "Skyddat boende Kriminalvården Planerad" in text
    assert "Socialtjänsten, Karin Kontakt" in text
    assert follow_up.isoformat() in text
    assert "SIP-SAMTYCKE-9" in text
    assert owned_case.reference in text
    assert "Adress" not in text  # a plan names the person; it does not carry the address
    # A SIP cannot be sent on as a referral: no way to the confirmation step, which refuses.
    send_url = reverse("referrals:send", args=[sip.pk])
    assert send_url not in client.get(sip.get_absolute_url()).content.decode()
    review = client.get(send_url)
    assert review.status_code == 409
    assert "En SIP kan inte skickas som remiss." in review.content.decode()
    with pytest.raises(ValidationError, match="En SIP kan inte skickas som remiss"):
        send_referral(sip, coordinator)
    sip.refresh_from_db()
    assert sip.status == ReferralStatus.READY


# --- Network isolation ------------------------------------------------------------------------


def test_url_fetcher_refuses_network_and_files() -> None:
    fetcher = pdf.local_url_fetcher()
    for url in ("http://127.0.0.1:9/x", "https://127.0.0.1:9/x", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hej") is not None


def test_remote_image_renders_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[Any] = []
    real_connect = socket.socket.connect

    def no_network(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError("network is off in this test")
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", no_network)
    rendered = pdf.render_pdf(
        '<html lang="sv"><head><title>Nätverksprov</title></head><body><p>Bild:</p>'
        '<img src="http://127.0.0.1:9/x.png" alt="Bild">'
        '<link rel="stylesheet" href="http://127.0.0.1:9/s.css"></body></html>'
    )
    assert rendered.content.startswith(b"%PDF")
    assert rendered.page_count == 1
    assert attempts == []
    assert "Bild:" in PdfReader(io.BytesIO(rendered.content)).pages[0].extract_text()


@pytest.mark.django_db
def test_a_case_page_lists_the_referrals_its_reader_may_see(
    owned_case: Case,
    coordinator: User,
    officer: User,
    police_agency: Agency,
    share_with: Callable[..., Any],
    consent_to: Callable[..., Consent],
    make_referral: Callable[..., Referral],
) -> None:
    """`referrals_of_case` skips the visibility subquery because the checkpoint has let the
    reader into the case; it must still list exactly what `referrals_visible_to` does."""
    share_with(owned_case, police_agency)
    consent = consent_to(owned_case, police_agency)
    queued = make_referral(owned_case, consent=consent)
    sent = render(make_referral(owned_case, consent=consent))
    send_referral(sent, coordinator)
    for reader, expected in ((coordinator, {queued, sent}), (officer, {sent})):
        access = get_case_for_user(reader, owned_case.pk, CaseAction.VIEW)
        listed = set(referrals_of_case(access))
        assert listed == expected
        assert listed == set(referrals_visible_to(reader).filter(case=owned_case))
