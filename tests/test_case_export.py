"""The case list exported as CSV and Excel: read back, filtered like the list, masked like
the list, logged with the cases it holds, formulas neutralised, memory and queries bounded."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from avhopp.models import AuditAction, AuditEvent, AuditShownCase, Role, User
from avhopp.spreadsheets import cell_safe
from cases import services
from cases.identity import mask_identity_number
from cases.models import Case, CaseShare, CaseStatus, ConsentScope, ProtectionLevel
from tests.access_support import body_of
from tests.support import assess_threat

CSV_URL = "/arenden/export.csv"
XLSX_URL = "/arenden/export.xlsx"
HEADER_SV = [
    "Ärende",
    "Namn",
    "Skyddade personuppgifter",
    "Personnummer",
    "Status",
    "Hotnivå",
    "Omprövning",
    "Ansvarig",
    "Ansvarig kommun",
    "Aktualiserad",
]


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.streaming
    text = body_of(response)
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def xlsx_rows(response: Any, *, sheet: str = "Ärenden") -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    worksheet = workbook.active
    assert worksheet.title == sheet
    for row in worksheet.iter_rows():
        for cell in row:
            # Text, or empty: never "f", a formula.
            assert cell.data_type == "s" or cell.value is None, (cell.coordinate, cell.data_type)
    return [[cell or "" for cell in row] for row in worksheet.iter_rows(values_only=True)]


def _assess(case: Case, officer: User, **fields: str) -> None:
    review = timezone.localdate() + timedelta(days=30)
    assess_threat(case, officer, summary="Sammanfattning", next_review_date=review, **fields)


def export_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.CASE_EXPORT).order_by("pk"))


def shown_ids(event: AuditEvent) -> list[int]:
    return sorted(AuditShownCase.objects.filter(event=event).values_list("case_id", flat=True))


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_export_holds_every_page_of_the_list_as_shown_and_is_logged(
    kind: str,
    worker: User,
    make_case: Callable[..., Case],
    outsider: User,
    login: Callable[[User], Client],
) -> None:
    """30 cases: the list shows 25 a page, the file all 30, newest first, each row the
    list's row (protected numbers masked), and one event lists exactly those cases."""
    cases = [make_case(worker, last_name=f"Efternamn{index:02d}") for index in range(29)]
    protected = make_case(
        worker, first_name="Skyddad", protection_level=ProtectionLevel.PROTECTED_REGISTRATION
    )
    cases.append(protected)
    foreign = make_case(outsider, first_name="Främmande")
    client = login(worker)
    response = client.get(CSV_URL if kind == "csv" else XLSX_URL)
    rows = csv_rows(response) if kind == "csv" else xlsx_rows(response)
    today = timezone.localdate()
    assert response["Content-Disposition"] == (
        f'attachment; filename="avhopp-arenden-{today:%Y-%m-%d}.{kind}"'
    )
    assert rows[0] == HEADER_SV
    body = rows[1:]
    assert [row[0] for row in body] == [case.reference for case in reversed(cases)]
    assert foreign.reference not in {row[0] for row in body}
    number = protected.individual.personnummer
    assert number is not None
    assert body[0][1:4] == ["Skyddad Testsson", "Ja", mask_identity_number(number)]
    assert not any(number[8:] in cell for row in body for cell in row)  # the last four
    plain = cases[0]
    assert body[-1][2] == ""
    assert body[-1][4:] == [
        "Aktualisering",
        "",
        "",
        str(worker),
        worker.agency.name,
        timezone.localtime(plain.opened_at).date().isoformat(),
    ]
    # The list page's own row says the same of the protected person.
    listed = client.get("/arenden/").content.decode()
    assert mask_identity_number(number) in listed
    [event] = export_events()
    assert (event.username, event.reason) == ("worker", kind)
    assert shown_ids(event) == sorted(case.pk for case in cases)


def test_the_filters_and_order_of_the_list_apply(
    worker: User,
    officer: User,
    make_case: Callable[..., Case],
    login: Callable[[User], Client],
) -> None:
    anna = make_case(worker, first_name="Anna", last_name="Berg")
    bo = make_case(worker, first_name="Bo", last_name="Ek")
    cilla = make_case(worker, first_name="Cilla", last_name="Al")
    services.case_change_status(case=bo, to_status=CaseStatus.INITIAL_ASSESSMENT, by=worker)
    _assess(cilla, officer, level="high")
    client = login(worker)

    def exported(params: dict[str, str]) -> list[str]:
        return [row[0] for row in csv_rows(client.get(CSV_URL, params))[1:]]

    assert exported({"q": "Anna"}) == [anna.reference]
    assert exported({"status": CaseStatus.INITIAL_ASSESSMENT}) == [bo.reference]
    assert exported({"threat_level": "high"}) == [cilla.reference]
    assert exported({"order": "name"}) == [c.reference for c in (cilla, anna, bo)]
    assert exported({"q": "Nobody"}) == []
    # The list page's export links carry the filter.
    page = client.get("/arenden/", {"q": "Anna", "page": "1"}).content.decode()
    assert f'href="{CSV_URL}?q=Anna"' in page
    assert f'href="{XLSX_URL}?q=Anna"' in page
    events = export_events()
    assert [shown_ids(event) for event in events] == [
        [anna.pk],
        [bo.pk],
        [cilla.pk],
        sorted([anna.pk, bo.pk, cilla.pk]),
        [],
    ]


def test_a_police_officer_exports_what_the_list_shows_and_never_threat_details(
    worker: User,
    officer: User,
    police_agency: Any,
    make_case: Callable[..., Case],
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    shared, _unshared = make_case(worker), make_case(worker)
    share_with(shared, police_agency)
    _assess(shared, officer, level="severe", details="Källan Nattugglan i Hallunda")
    worker_rows = csv_rows(login(worker).get(CSV_URL))
    officer_rows = csv_rows(login(officer).get(CSV_URL))
    assert [row[0] for row in officer_rows[1:]] == [shared.reference]
    assert officer_rows[1] == next(row for row in worker_rows if row[0] == shared.reference)
    assert officer_rows[1][5] == "Allvarlig"
    for rows in (worker_rows, officer_rows):
        assert not any("Nattugglan" in cell for row in rows for cell in row)


def test_headers_and_labels_in_the_readers_language_dates_in_swedish_time(
    worker: User, case: Case, login: Callable[[User], Client]
) -> None:
    # 23:30 UTC on 31 March is 01:30 on 1 April in Stockholm (summer time).
    Case.objects.filter(pk=case.pk).update(opened_at=datetime(2025, 3, 31, 23, 30, tzinfo=UTC))
    client = login(worker)
    swedish = csv_rows(client.get(CSV_URL))
    assert swedish[1][9] == "2025-04-01"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = csv_rows(client.get(CSV_URL))
    assert english[0][:5] == [
        "Case",
        "Name",
        "Protected personal data",
        "Personal identity number",
        "Status",
    ]
    assert english[1][4] == "Initial contact (aktualisering)"
    assert english[1][9] == "2025-04-01"
    workbook_rows = xlsx_rows(client.get(XLSX_URL), sheet="Cases")
    assert workbook_rows[0] == english[0]


def test_formulas_are_neutralised_in_both_files(
    worker: User,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    login: Callable[[User], Client],
) -> None:
    hostile = make_user(worker.agency, first_name="-2+3", last_name="Mallory", username="m")
    make_case(worker, first_name='=HYPERLINK("https://evil.example/","x")', last_name="@SUM(A1)")
    make_case(worker, first_name="+46701234567", last_name="Plus", responsible=hostile)
    client = login(worker)
    for rows in (csv_rows(client.get(CSV_URL)), xlsx_rows(client.get(XLSX_URL))):
        names = {row[1] for row in rows[1:]}
        assert names == {"'+46701234567 Plus", '\'=HYPERLINK("https://evil.example/","x") @SUM(A1)'}
        assert "'-2+3 Mallory" in {row[7] for row in rows[1:]}
        for row in rows:
            for cell in row:
                assert cell[:1] not in {"=", "+", "-", "@"}, cell


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("a=1", "a=1"),
        ("", ""),
        (None, ""),
        (7, "7"),
    ],
)
def test_cell_safe(value: object, safe: str) -> None:
    assert cell_safe(value) == safe


def test_a_bad_filter_or_too_many_cases_answer_a_message_and_no_file(
    worker: User,
    make_case: Callable[..., Case],
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for _ in range(3):
        make_case(worker)
    client = login(worker)
    response = client.get(CSV_URL, {"status": "nonsense"}, follow=True)
    assert response.redirect_chain == [("/arenden/?status=nonsense", 302)]
    assert "Listan kunde inte exporteras" in response.content.decode()
    assert 'data-testid="case-export"' not in response.content.decode()  # no links offered
    assert 'data-testid="case-export"' in client.get("/arenden/").content.decode()
    # A hand-made query of any length sends the reader back to the plain list.
    long = client.get(CSV_URL, {"status": "x" * 20_000})
    assert (long.status_code, long["Location"]) == (302, "/arenden/")
    monkeypatch.setattr("cases.views.EXPORT_MAX_CASES", 2)
    monkeypatch.setattr("cases.selectors.EXPORT_MAX_CASES", 2)
    response = client.get(XLSX_URL, {"status": "open"}, follow=True)
    assert response.redirect_chain == [("/arenden/?status=open", 302)]
    assert "Fler än 2 ärenden matchar" in response.content.decode()
    assert export_events() == []
    monkeypatch.setattr("cases.selectors.EXPORT_MAX_CASES", 3)
    assert len(csv_rows(client.get(CSV_URL))) == 4


def test_who_may_export(
    case: Case,
    worker: User,
    coordinator: User,
    log_reviewer: User,
    agency_admin: User,
    login: Callable[[User], Client],
) -> None:
    assert login(coordinator).get(CSV_URL).status_code == 200
    for user in (log_reviewer, agency_admin):
        for url in (CSV_URL, XLSX_URL):
            assert login(user).get(url).status_code == 403, (user, url)
    assert Client().get(CSV_URL)["Location"].startswith(reverse("login"))
    # A bulk export of people asks for a fresh code, like the log's export.
    client = login(worker)
    session = client.session
    session["avhopp_reauth_at"] = 0
    session.save()
    assert client.get(CSV_URL)["Location"].startswith("/tvafaktor/bekrafta/")
    assert client.post(CSV_URL).status_code == 405
    assert [event.username for event in export_events()] == ["coordinator"]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_export_queries_are_pinned_and_cases_are_read_a_chunk_at_a_time(
    kind: str,
    worker: User,
    make_case: Callable[..., Case],
    login: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same queries for 3 cases as for 30, and with chunks of 10 cases, one more query
    per chunk: the file is written from a chunk of cases at a time, never all at once."""
    client = login(worker)
    url = CSV_URL if kind == "csv" else XLSX_URL

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
            assert response.status_code == 200
            b"".join(response.streaming_content)
        return len(captured.captured_queries)

    for _ in range(3):
        make_case(worker)
    queries()  # warm caches (content types, session)
    few = queries()
    for _ in range(27):
        make_case(worker)
    many = queries()
    # The session, user and second factor; the ids (one query on the grant index); the
    # audit event and its shown cases (one insert each); the cases' rows (one chunk).
    assert few == many == 7
    monkeypatch.setattr("cases.exports.CHUNK", 10)
    assert queries() == 7 + 2


def test_a_share_without_the_threat_scope_shows_no_threat_level_anywhere_in_the_list(
    worker: User,
    officer: User,
    prison_agency: Any,
    police_agency: Any,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    share_with: Callable[..., CaseShare],
    login: Callable[[User], Client],
) -> None:
    """Kriminalvården's share covers interventions only: its coordinator's list, filters and
    export show the case without its threat level or review date, while the owner and the
    police (who read every threat level of what they see) are shown them."""
    case = make_case(worker)
    share_with(case, prison_agency, frozenset({ConsentScope.INTERVENTIONS}))
    share_with(case, police_agency, frozenset({ConsentScope.INTERVENTIONS}))
    _assess(case, officer, level="severe")
    review = (timezone.localdate() + timedelta(days=30)).isoformat()
    recipient = login(make_user(prison_agency, Role.COORDINATOR, username="kv"))
    [row] = csv_rows(recipient.get(CSV_URL))[1:]
    assert row[0] == case.reference
    assert row[5:7] == ["", ""]
    listed = recipient.get("/arenden/").content.decode()
    assert case.reference in listed
    assert "threat-severe" not in listed  # the level's badge (the filter names every level)
    assert review not in listed
    # No oracle through the filters either.
    for params in ({"threat_level": "severe"}, {"overdue": "threat_review"}):
        assert case.reference not in recipient.get("/arenden/", params).content.decode()
        assert csv_rows(recipient.get(CSV_URL, params))[1:] == []
    for reader in (worker, officer):
        [row] = csv_rows(login(reader).get(CSV_URL, {"threat_level": "severe"}))[1:]
        assert row[5:7] == ["Allvarlig", review], reader
