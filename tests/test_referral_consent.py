"""A referral rests on a current consent naming its recipient, or on a legal basis with a
citation, as a share does; a withdrawn or expired consent stops it going out and ends the
recipient's access at once, while the sender keeps seeing it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from avhopp.models import Agency, User
from avhopp.storage import read_document, write_document
from cases import services as case_services
from cases.identity import format_identity_number
from cases.models import (
    TEXT_LIMIT,
    Case,
    Consent,
    InterventionKind,
    LegalBasis,
    ProtectionLevel,
)
from cases.policy import CaseAction
from cases.selectors import get_case_for_user
from referrals import services
from referrals.models import DocumentKind, Referral, ReferralStatus
from referrals.selectors import referrals_of_case
from tests.support import send_referral

# Every test writes its documents to a folder of its own.
pytestmark = pytest.mark.usefixtures("doc_root")

EXTERNAL = "Behandlingshemmet Solgården AB"
CITATION = "OSL 10 kap. 2 §: placeringsbeslut 2024-05-02, dnr SN 2024/881"
NEEDS_GROUNDS = "Det krävs ett gällande samtycke eller en rättslig grund med hänvisning."
EXTERNAL_NEEDS_LEGAL_BASIS = "En extern mottagare kräver en rättslig grund med hänvisning."


@pytest.fixture(autouse=True)
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "enqueue_generation", lambda referral_id: True)


def create(case: Case, by: User, **fields: Any) -> Referral:
    values: dict[str, Any] = {
        "kind": DocumentKind.REFERRAL,
        "intervention_kind": InterventionKind.PROTECTION,
        "reason": "Behöver skyddat boende.",
        "contact_person": "Karin Kontakt",
    }
    values.update(fields)
    return services.referral_create(case=case, by=by, **values)


def made_ready(referral: Referral) -> Referral:
    """A ready document without rendering: the access rules do not depend on its content."""
    relative = services.document_filename(referral)
    write_document(relative, b"%PDF-1.4\n% test document\n")
    Referral.objects.filter(pk=referral.pk).update(
        status=ReferralStatus.READY,
        document_path=relative,
        document_sha256="0" * 64,
        page_count=1,
    )
    referral.refresh_from_db()
    return referral


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "to_agency": "",
        "external_recipient": "",
        "intervention_kind": InterventionKind.PROTECTION.value,
        "reason": "Behöver skyddat boende.",
        "summary": "",
        "requested_start": "",
        "contact_person": "Karin Kontakt",
        "consent": "",
        "legal_basis": "",
        "legal_basis_citation": "",
    }
    data.update(overrides)
    return data


def pdf_text(referral: Referral) -> str:
    reader = PdfReader(io.BytesIO(read_document(referral.document_path)))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("-\n", "-"))


# --- On what a referral may rest ---------------------------------------------------------------


@pytest.mark.django_db
def test_external_recipient_on_another_agencys_consent_is_refused(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    consent = consent_to(owned_case, police_agency)
    with pytest.raises(ValidationError, match=EXTERNAL_NEEDS_LEGAL_BASIS):
        create(owned_case, coordinator, external_recipient=EXTERNAL, consent=consent)

    response = login(coordinator).post(
        reverse("referrals:create", args=[owned_case.pk]),
        form_data(external_recipient=EXTERNAL, consent=str(consent.pk)),
    )
    assert response.status_code == 400
    assert EXTERNAL_NEEDS_LEGAL_BASIS in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("recipient", ["agency", "external"])
def test_neither_consent_nor_legal_basis_is_refused(
    owned_case: Case,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
    recipient: str,
) -> None:
    to = (
        {"to_agency": police_agency}
        if recipient == "agency"
        else {"to_agency": None, "external_recipient": EXTERNAL}
    )
    with pytest.raises(ValidationError, match=NEEDS_GROUNDS):
        create(owned_case, coordinator, **to)
    # A legal basis without its citation is no ground either.
    with pytest.raises(ValidationError, match=NEEDS_GROUNDS):
        create(
            owned_case,
            coordinator,
            **to,
            legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
            legal_basis_citation="  ",
        )

    client = login(coordinator)
    url = reverse("referrals:create", args=[owned_case.pk])
    posted_to = (
        {"to_agency": str(police_agency.pk)}
        if recipient == "agency"
        else {"external_recipient": EXTERNAL}
    )
    for extra in ({}, {"legal_basis": LegalBasis.NECESSARY_FOR_DUTY.value}):
        response = client.post(url, form_data(**posted_to, **extra))
        assert response.status_code == 400
        assert NEEDS_GROUNDS in response.content.decode()
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_legal_basis_with_citation_is_accepted(
    owned_case: Case,
    coordinator: User,
    police_agency: Agency,
    login: Callable[[User], Client],
) -> None:
    referral = create(
        owned_case,
        coordinator,
        to_agency=police_agency,
        legal_basis=LegalBasis.SUSPECTED_CRIME,
        legal_basis_citation=f"  {CITATION} ",
    )
    assert referral.legal_basis == LegalBasis.SUSPECTED_CRIME
    assert referral.legal_basis_citation == CITATION

    response = login(coordinator).post(
        reverse("referrals:create", args=[owned_case.pk]),
        form_data(
            external_recipient=EXTERNAL,
            legal_basis=LegalBasis.NECESSARY_FOR_DUTY.value,
            legal_basis_citation=CITATION,
        ),
    )
    assert response.status_code == 302
    external = Referral.objects.get(external_recipient=EXTERNAL)
    assert response["Location"] == external.get_absolute_url()
    assert external.consent is None
    assert external.legal_basis == LegalBasis.NECESSARY_FOR_DUTY
    assert external.legal_basis_citation == CITATION


@pytest.mark.django_db
def test_sections_need_a_consent_even_on_a_legal_basis(owned_case: Case, coordinator: User) -> None:
    with pytest.raises(ValidationError, match="Samtycket täcker inte"):
        create(
            owned_case,
            coordinator,
            external_recipient=EXTERNAL,
            legal_basis=LegalBasis.NECESSARY_FOR_DUTY,
            legal_basis_citation=CITATION,
            include_interventions=True,
        )
    assert not Referral.objects.exists()


@pytest.mark.django_db
def test_external_document_masks_a_protected_identity(
    make_case: Callable[..., Case], worker: User, coordinator: User
) -> None:
    case = make_case(
        worker,
        responsible=coordinator,
        protection_level=ProtectionLevel.PROTECTED_REGISTRATION,
        born=date(1991, 7, 9),
        address="Dolda gränd 3, 541 30 Skövde",
    )
    number = case.individual.personnummer
    referral = create(
        case,
        coordinator,
        external_recipient=EXTERNAL,
        legal_basis=LegalBasis.IMMEDIATE_DANGER,
        legal_basis_citation=CITATION,
    )
    services.referral_render(referral_id=referral.pk)
    referral.refresh_from_db()
    text = pdf_text(referral)
    assert EXTERNAL in text
    assert CITATION in text  # the document states what it rests on
    assert "Inget samtycke har registrerats" not in text
    assert "19910709-****" in text
    assert format_identity_number(number) not in text
    assert number not in text
    assert number[8:] not in text.replace("19910709-****", "")
    assert "Dolda gränd" not in text
    assert "Skövde" not in text
    assert "Skyddade personuppgifter" in text


# --- A consent that no longer holds -------------------------------------------------------------


def withdraw(consent: Consent, coordinator: User, case: Case) -> None:
    case_services.consent_withdraw(consent=consent, by=coordinator, case=case)


def expire(consent: Consent, coordinator: User, case: Case) -> None:
    Consent.objects.filter(pk=consent.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )


ENDINGS = {"withdrawn": withdraw, "expired": expire}


@pytest.mark.django_db
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_send_is_refused_once_the_consent_has_ended(
    owned_case: Case,
    coordinator: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    login: Callable[[User], Client],
    ending: str,
) -> None:
    consent = consent_to(owned_case, police_agency)
    referral = made_ready(create(owned_case, coordinator, to_agency=police_agency, consent=consent))
    ENDINGS[ending](consent, coordinator, owned_case)

    with pytest.raises(ValidationError, match="gäller inte längre"):
        send_referral(referral, coordinator)
    client = login(coordinator)
    url = reverse("referrals:send", args=[referral.pk])
    # The confirmation step says why instead of offering its button...
    review = client.get(url)
    assert review.status_code == 409
    assert "Remissen kan inte skickas." in review.content.decode()
    assert 'name="confirmation"' not in review.content.decode()
    # ...and a send confirmed before the consent ended is checked again, and refused.
    token = services.send_confirmation_token(referral=referral, by=coordinator)
    response = client.post(url, {"confirmation": token}, follow=True)
    assert response.status_code == 200
    assert "Remissen kan inte skickas." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.READY


@pytest.mark.django_db
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_recipient_loses_the_referral_once_the_consent_has_ended(
    owned_case: Case,
    coordinator: User,
    officer: User,
    consent_to: Callable[..., Consent],
    police_agency: Agency,
    share_with: Callable[..., Any],
    login: Callable[[User], Client],
    ending: str,
) -> None:
    consent = consent_to(owned_case, police_agency)
    referral = made_ready(create(owned_case, coordinator, to_agency=police_agency, consent=consent))
    send_referral(referral, coordinator)
    # The same agency on a legal basis keeps its referral: only the ended consent closes.
    on_basis = made_ready(
        create(
            owned_case,
            coordinator,
            to_agency=police_agency,
            legal_basis=LegalBasis.DUTY_TO_REPORT,
            legal_basis_citation=CITATION,
        )
    )
    send_referral(on_basis, coordinator)
    # A share on its own consent keeps the case page open to the recipient throughout.
    share_with(owned_case, police_agency)

    receiver = login(officer)
    urls = {
        "detail": referral.get_absolute_url(),
        "status": reverse("referrals:status", args=[referral.pk]),
        "download": reverse("referrals:download", args=[referral.pk]),
    }
    answer_url = reverse("referrals:answer", args=[referral.pk])
    for name, url in urls.items():
        assert receiver.get(url).status_code == 200, name
    assert referral.reference in receiver.get(reverse("referrals:dashboard")).content.decode()

    ENDINGS[ending](consent, coordinator, owned_case)

    for name, url in urls.items():
        assert receiver.get(url).status_code == 404, name
    assert receiver.post(answer_url, {"decision": "accept"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.referral_answer(referral=referral, by=officer, accepted=True, comment="")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    dashboard = receiver.get(reverse("referrals:dashboard")).content.decode()
    assert referral.reference not in dashboard
    assert on_basis.reference in dashboard
    assert receiver.get(on_basis.get_absolute_url()).status_code == 200
    # Nor does the case page list it to the recipient.
    access = get_case_for_user(officer, owned_case.pk, CaseAction.VIEW)
    assert [r.pk for r in referrals_of_case(access)] == [on_basis.pk]

    # The sender still follows its own referral.
    sender = login(coordinator)
    page = sender.get(referral.get_absolute_url())
    assert page.status_code == 200
    assert referral.reference in page.content.decode()
    status = sender.get(urls["status"]).json()
    assert status["status"] == ReferralStatus.SENT
    assert sender.get(urls["download"]).status_code == 200
    assert referral.reference in sender.get(reverse("referrals:dashboard")).content.decode()


# --- Text limits ------------------------------------------------------------------------------

TOO_LONG = "å" * (TEXT_LIMIT + 1)


@pytest.mark.parametrize("field", ["reason", "summary"])
def test_referral_texts_over_the_limit_are_refused(
    login: Callable[[User], Client], coordinator: User, owned_case: Case, field: str
) -> None:
    grounds = {"legal_basis": LegalBasis.SUSPECTED_CRIME.value, "legal_basis_citation": CITATION}
    data = form_data(external_recipient=EXTERNAL, **grounds, **{field: TOO_LONG})
    url = reverse("referrals:create", args=[owned_case.pk])
    response = login(coordinator).post(url, data)
    assert response.status_code == 400
    assert response.context["form"].has_error(field, "max_length")
    assert not Referral.objects.exists()
    data[field] = "å" * TEXT_LIMIT  # the limit itself is allowed
    assert login(coordinator).post(url, data).status_code == 302
    assert Referral.objects.count() == 1


@pytest.mark.parametrize("field", ["reason", "summary", "answer_comment"])
def test_the_database_holds_referral_texts_to_the_limit(
    coordinator: User, owned_case: Case, field: str
) -> None:
    referral = services.referral_create(
        case=owned_case,
        by=coordinator,
        external_recipient=EXTERNAL,
        contact_person="Karin Kontakt",
        legal_basis=LegalBasis.SUSPECTED_CRIME,
        legal_basis_citation=CITATION,
    )
    rows = Referral.objects.filter(pk=referral.pk)
    rows.update(**{field: "å" * TEXT_LIMIT})
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(**{field: TOO_LONG})
