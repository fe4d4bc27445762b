"""Research extracts: requested with an ethics approval, decided by the national coordinator,
built k-anonymous with new ids, downloaded by the requester alone for 24 hours."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from avhopp.models import AgencyKind, AuditAction, AuditEvent, Role
from method.models import OUTCOME_ANSWERS
from register.models import RegisterRecord
from register.services import register_build
from research import services
from research.anonymity import K
from research.models import QUASI_IDENTIFIERS, ExtractRequest, ExtractStatus
from tests.conftest import AgencyFactory
from tests.followup_support import ANSWERS, cases_in, followed_up, seed_register, supported

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


# Outcomes at follow-up: one column per configured point and question, never a quasi-identifier.


def outcome(months: int, anchor: str = "closed", **answers: str) -> dict[str, object]:
    """An outcome at follow-up as the register's build writes it (register.services)."""
    return {"months": months, "anchor": anchor, "quarter": "2025Q2", **{**ANSWERS, **answers}}


def records_with(*follow_ups: list[dict[str, object]], region: str = "Stockholm") -> None:
    """One record per entry of `follow_ups`, all in the same class of the quasi-identifiers."""
    start = RegisterRecord.objects.count()
    RegisterRecord.objects.bulk_create(
        RegisterRecord(
            pseudonym=f"{start + index:064x}",
            case_key=f"{start + index:064x}",
            region=region,
            age_band="21-24",
            gender="male",
            opened_quarter="2024Q2",
            status="dropped_out",
            ended_quarter="2025Q1",
            outcome="person_left",
            follow_ups=points,
            digest="x",
        )
        for index, points in enumerate(follow_ups)
    )


def requested_with(researcher, national_agency, variables: list[str]) -> ExtractRequest:
    return services.extract_request(
        by=researcher,
        coordinating_agency=national_agency,
        purpose="Hur går det för dem som lämnat programmet ett år senare?",
        variables=variables,
        ethics_reference="2025-04321-01",
    )


def follow_up_columns(months: list[int]) -> list[str]:
    return [f"follow_up_{m}_{question}" for m in months for question in OUTCOME_ANSWERS]


def answers(**changed: str) -> tuple[str, ...]:
    return tuple({**ANSWERS, **changed}[question] for question in OUTCOME_ANSWERS)


NONE = ("",) * len(OUTCOME_ANSWERS)


def xlsx_sheets(client, extract: ExtractRequest) -> dict[str, list[list[str]]]:
    response = client.get(reverse("research:download", args=[extract.pk]), {"format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return {
        sheet.title: [
            ["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)
        ]
        for sheet in workbook
    }


def test_outcomes_at_follow_up_are_a_column_per_configured_point_and_question(
    researcher, national_agency, national, login, settings
) -> None:
    settings.AVHOPP_OUTCOME_MONTHS = [6, 12]
    settings.AVHOPP_OUTCOME_FROM = "closed"
    records_with(
        [],
        [],
        [],
        [outcome(6)],
        [outcome(6)],
        [outcome(6), outcome(12, stable_housing="no", in_contact="no")],
        # Recorded while the points counted from the support's start: another point.
        [outcome(6, anchor="support")],
        # A point no longer configured has no column.
        [outcome(24)],
    )
    extract = built(
        requested_with(researcher, national_agency, ["follow_ups", "gender", "outcome"]), national
    )
    assert extract.status == ExtractStatus.READY, extract.explanation
    assert extract.suppressed == 0 and extract.records == 8
    client = login(researcher)
    rows = rows_of(client, extract)
    columns = follow_up_columns([6, 12])
    assert list(rows[0]) == ["id", "gender", "outcome", *columns]
    by_point = Counter(
        (tuple(row[c] for c in columns[:5]), tuple(row[c] for c in columns[5:])) for row in rows
    )
    assert by_point == {
        (NONE, NONE): 5,
        (answers(), NONE): 2,
        (answers(), answers(stable_housing="no", in_contact="no")): 1,
    }
    sheets = xlsx_sheets(client, extract)
    assert sheets["Uttag"] == [list(rows[0]), *(list(row.values()) for row in rows)]
    dictionary = rows_of(client, extract, "dictionary")
    described = {row["variabel"]: row["beskrivning"] for row in dictionary}
    assert described["follow_up_12_new_crime_known"] == (
        "Uppföljning 12 månader efter avslut, känd ny brottslighet: yes (ja), no (nej), "
        "unknown (vet inte); tomt när ärendet saknar resultat vid den uppföljningen."
    )
    for column in columns:
        months = column.split("_")[2]
        assert f"Uppföljning {months} månader efter avslut, " in described[column]
    assert not [name for name in described if name.startswith("follow_up_24")]
    assert described["k-anonymitet"] == f"k = {K} på gender"
    assert sheets["Variabler"] == [list(dictionary[0]), *(list(r.values()) for r in dictionary)]


def test_k_anonymity_is_on_the_quasi_identifiers_only(
    researcher, national_agency, national, login
) -> None:
    # Ten records alike but for their outcomes, each a combination of its own, and one alone
    # in its county.
    combinations = [
        answers(stable_housing=housing, work_or_education=work, new_crime_known=crime)
        for housing in ("yes", "no")
        for work in ("yes", "no", "unknown")
        for crime in ("yes", "no")
    ][:10]
    records_with(
        *([outcome(6, **dict(zip(OUTCOME_ANSWERS, c, strict=True)))] for c in combinations)
    )
    records_with([outcome(6)], region="Norrbotten")
    extract = built(requested_with(researcher, national_agency, ["region", "follow_ups"]), national)
    assert extract.status == ExtractStatus.READY, extract.explanation
    assert (extract.records, extract.suppressed, extract.generalised) == (10, 1, "")
    client = login(researcher)
    rows = rows_of(client, extract)
    assert {row["region"] for row in rows} == {"Stockholm"}
    six = follow_up_columns([6])
    assert sorted(tuple(row[c] for c in six) for row in rows) == sorted(combinations)
    described = {
        row["variabel"]: row["beskrivning"] for row in rows_of(client, extract, "dictionary")
    }
    assert described["k-anonymitet"] == f"k = {K} på region"


def test_an_extract_without_outcomes_has_no_follow_up_columns(
    requested, national, researcher, login
) -> None:
    records_with(*([outcome(6), outcome(12)] for _ in range(6)))
    extract = built(requested, national)
    assert extract.status == ExtractStatus.READY, extract.explanation
    client = login(researcher)
    header = list(rows_of(client, extract)[0])
    assert header == ["id", *requested.variables]
    assert xlsx_sheets(client, extract)["Uttag"][0] == header
    names = [row["variabel"] for row in rows_of(client, extract, "dictionary")]
    assert not [name for name in names if name.startswith("follow_up")]


def test_the_columns_read_what_the_register_build_wrote(
    make_case, worker, researcher, national_agency, national, login
) -> None:
    cases = cases_in(make_case, worker, 5, opened_days_ago=1000)
    for case in cases:
        supported(case, worker)
    followed_up(cases[0], worker, 6, 12, substance_use="no")
    followed_up(cases[1], worker, 24, new_crime_known="yes")
    register_build()
    extract = built(requested_with(researcher, national_agency, ["follow_ups"]), national)
    assert extract.status == ExtractStatus.READY, extract.explanation
    rows = rows_of(login(researcher), extract)
    points = Counter(
        tuple(tuple(row[c] for c in follow_up_columns([m])) for m in (6, 12, 24)) for row in rows
    )
    assert points == {
        (answers(substance_use="no"), answers(substance_use="no"), NONE): 1,
        (NONE, NONE, answers(new_crime_known="yes")): 1,
        (NONE, NONE, NONE): 3,
    }


def test_outcomes_cost_the_build_no_query(researcher, national_agency, national) -> None:
    records_with(*([outcome(6)] for _ in range(10)))

    def queries(variables: list[str]) -> tuple[int, int]:
        extract = requested_with(researcher, national_agency, variables)
        services.extract_decide(extract=extract, by=national, approve=True, reason="")
        with (
            CaptureQueriesContext(connections["default"]) as municipal,
            CaptureQueriesContext(connections["register"]) as register,
        ):
            services.extract_build(extract_id=extract.pk)
        return len(municipal), len(register)

    assert queries(["gender", "follow_ups"]) == queries(["gender"])


def test_the_form_offers_outcomes_and_the_decision_page_names_them(
    researcher, national_agency, national, login
) -> None:
    client = login(researcher)
    form = client.get(reverse("research:request")).content.decode()
    assert 'value="follow_ups"' in form and "Resultat vid uppföljning" in form
    response = client.post(
        reverse("research:request"),
        {
            "coordinating_agency": national_agency.pk,
            "purpose": "Hur går det för dem som lämnat programmet ett år senare?",
            "variables": ["gender", "follow_ups"],
            "ethics_reference": "2025-04321-01",
        },
    )
    extract = ExtractRequest.objects.get()
    assert response.status_code == 302 and extract.variables == ["gender", "follow_ups"]
    page = login(national).get(extract.get_absolute_url()).content.decode()
    assert "Besluta om begäran" in page
    assert "Kön, Resultat vid uppföljning" in page
