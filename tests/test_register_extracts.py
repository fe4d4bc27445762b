"""Research extracts: requested with an ethics approval, decided by the national coordinator,
built k-anonymous with new ids, downloaded by the requester alone for 24 hours."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from avhopp.models import AgencyKind, AuditAction, AuditEvent, Role
from register.models import RegisterRecord
from research import services
from research.anonymity import K
from research.models import QUASI_IDENTIFIERS, ExtractRequest, ExtractStatus
from tests.conftest import AgencyFactory
from tests.followup_support import seed_register

pytestmark = pytest.mark.django_db(databases=["default", "register"])


@pytest.fixture
def researcher(make_user):
    agency = AgencyFactory(
        name="Stockholms universitet", kind=AgencyKind.RESEARCH, municipality_code=""
    )
    return make_user(agency, Role.RESEARCHER, username="forskare")


@pytest.fixture
def requested(researcher, national_agency) -> ExtractRequest:
    return services.extract_request(
        by=researcher,
        coordinating_agency=national_agency,
        purpose="Vilka insatser hänger ihop med fullföljda program?",
        variables=["age_band", "gender", "region", "year", "outcome", "intervention_kinds"],
        ethics_reference="2024-01234-01",
    )


def built(extract: ExtractRequest, national) -> ExtractRequest:
    services.extract_decide(extract=extract, by=national, approve=True, reason="")
    services.extract_build(extract_id=extract.pk)
    extract.refresh_from_db()
    return extract


def rows_of(client, extract: ExtractRequest, kind: str = "csv") -> list[dict[str, str]]:
    response = client.get(reverse("research:download", args=[extract.pk]), {"format": kind})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_an_approved_extract_is_k_anonymous_with_new_ids(
    requested, national, researcher, login
) -> None:
    seed_register(400)
    extract = built(requested, national)
    assert extract.status == ExtractStatus.READY, extract.explanation
    assert extract.suppressed <= 0.15 * 400
    rows = rows_of(login(researcher), extract)
    assert len(rows) == extract.records == 400 - extract.suppressed
    quasi = [q for q in QUASI_IDENTIFIERS if q in extract.variables]
    classes = Counter(tuple(row[q] for q in quasi) for row in rows)
    assert min(classes.values()) >= K
    pseudonyms = set(RegisterRecord.objects.values_list("pseudonym", flat=True))
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == len(ids) and not set(ids) & pseudonyms
    assert not {row["id"] for row in rows} & {key[:12] for key in pseudonyms}


def test_excel_and_the_data_dictionary_go_with_it(requested, national, researcher, login) -> None:
    seed_register(200)
    extract = built(requested, national)
    client = login(researcher)
    response = client.get(reverse("research:download", args=[extract.pk]), {"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == ["Uttag", "Variabler"]
    assert workbook["Uttag"].max_row == extract.records + 1
    dictionary = rows_of(client, extract, "dictionary")
    assert {row["variabel"] for row in dictionary} >= {"id", *extract.variables}


def test_an_extract_that_would_lose_too_many_records_is_refused_with_reasons(
    requested, national
) -> None:
    seed_register(12, spread=5)
    extract = built(requested, national)
    assert extract.status == ExtractStatus.TOO_IDENTIFYING
    assert "15 %" in extract.explanation and "av 12 poster" in extract.explanation
    assert not extract.file_stem


def test_only_the_requester_downloads_and_only_for_24_hours(
    requested, national, researcher, make_user, login
) -> None:
    seed_register(200)
    extract = built(requested, national)
    url = reverse("research:download", args=[extract.pk])
    colleague = make_user(researcher.agency, Role.RESEARCHER)
    assert login(colleague).get(url).status_code == 404
    assert login(national).get(url).status_code == 403
    assert login(researcher).get(url).status_code == 200
    ExtractRequest.objects.filter(pk=extract.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    expired = login(researcher).get(url)
    assert expired.status_code == 410
    assert "24 timmar" in expired.content.decode()


def test_every_step_is_audited(requested, national, researcher, login) -> None:
    seed_register(300)
    extract = built(requested, national)
    client = login(researcher)
    client.get(extract.get_absolute_url())
    rows_of(client, extract)
    actions = set(
        AuditEvent.objects.filter(object_id=str(extract.pk)).values_list("action", flat=True)
    )
    assert actions >= {
        AuditAction.EXTRACT_REQUEST,
        AuditAction.EXTRACT_DECISION,
        AuditAction.EXTRACT_BUILD,
        AuditAction.EXTRACT_VIEW,
        AuditAction.RESEARCH_EXTRACT_DOWNLOAD,
    }


def test_the_national_coordinator_approves_through_the_page(
    requested, national, login, django_capture_on_commit_callbacks
) -> None:
    client = login(national)
    page = client.get(requested.get_absolute_url())
    assert "Besluta om begäran" in page.content.decode()
    refused = client.post(reverse("research:decide", args=[requested.pk]), {"decision": "refuse"})
    assert refused.status_code == 400
    assert "Ange varför begäran avslås." in refused.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("research:decide", args=[requested.pk]), {"decision": "approve"})
    requested.refresh_from_db()
    assert requested.status == ExtractStatus.QUEUED and len(callbacks) == 1


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "Ange Etikprövningsmyndighetens diarienummer."),
        ("etik ok", "Diarienumret ska se ut som 2024-01234-01."),
    ],
)
def test_a_request_without_an_ethics_reference_gets_a_clear_message(
    researcher, national_agency, login, reference, message
) -> None:
    response = login(researcher).post(
        reverse("research:request"),
        {
            "coordinating_agency": national_agency.pk,
            "purpose": "Uppföljning av insatser för personer som lämnar gäng.",
            "variables": ["gender"],
            "ethics_reference": reference,
        },
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ExtractRequest.objects.exists()


def test_others_neither_request_nor_see_requests(requested, worker, coordinator, login) -> None:
    for user in (worker, coordinator):
        client = login(user)
        assert client.get(reverse("research:request")).status_code == 403
        assert client.get(requested.get_absolute_url()).status_code == 404
