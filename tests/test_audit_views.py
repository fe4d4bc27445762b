"""Log reviewer pages: search, CSV export, and the per-case "who has read this case"."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from avhopp.audit import audit_record
from avhopp.models import AuditAction, AuditEvent
from cases.audit_views import LOG_MAX_PAGE, LOG_PAGE_SIZE
from cases.models import Case

pytestmark = pytest.mark.django_db


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_log_reviewer_searches_by_case_user_action_and_person(
    login, log_reviewer, worker, colleague, case: Case, make_case
) -> None:
    other = make_case(worker, first_name="Annan")
    login(worker).get(case.get_absolute_url())
    login(worker).get(other.get_absolute_url())
    client = login(log_reviewer)

    def found(**params: str) -> set[tuple[str, int | None]]:
        response = client.get("/logg/", params)
        assert response.status_code == 200
        return {(e.action, e.case_id) for e in response.context["page"].object_list}

    assert ("case_view", case.pk) in found(case=case.reference)
    assert all(case_id == case.pk for _, case_id in found(case=case.reference))
    assert {a for a, _ in found(action="case_view")} == {"case_view"}
    assert found(username=colleague.username) == set()
    person = case.individual.personnummer
    assert ("case_view", case.pk) in found(person=f"{person[:8]}-{person[8:]}")
    assert ("case_view", other.pk) not in found(person=person)


def test_log_reviewer_sees_only_own_agency(login, log_reviewer, outsider, make_case) -> None:
    foreign = make_case(outsider, first_name="Främling")
    login(outsider).get(foreign.get_absolute_url())
    events = login(log_reviewer).get("/logg/").context["page"].object_list
    assert foreign.pk not in {e.case_id for e in events}
    assert outsider.username not in {e.username for e in events}


@pytest.mark.parametrize("role_fixture", ["worker", "coordinator", "officer", "agency_admin"])
def test_other_roles_cannot_search_the_log(request, login, role_fixture: str) -> None:
    user = request.getfixturevalue(role_fixture)
    assert login(user).get("/logg/").status_code == 403
    assert login(user).get("/logg/export.csv").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-13-40"},
        {"case": "abc"},
        {"case": "4"},  # a database id is no reference
        {"person": "19900517-1234"},  # the check digit is wrong
        {"person": "x"},
    ],
)
def test_bad_search_input_gets_a_message(login, log_reviewer, params: dict[str, str]) -> None:
    response = login(log_reviewer).get("/logg/", params)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()


def test_date_range_must_be_ordered(login, log_reviewer) -> None:
    response = login(log_reviewer).get(
        "/logg/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert response.status_code == 400


def test_csv_export_is_logged_and_neutralises_formulas(
    login, log_reviewer, worker, case: Case
) -> None:
    audit_record(
        actor=worker,
        action=AuditAction.OUTSIDE_ASSIGNMENT_READ,
        case_id=case.pk,
        reason="=HYPERLINK()",
    )
    response = login(log_reviewer).get("/logg/export.csv", {"case": case.reference})
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store, private"
    rows = _csv_rows(response)
    assert rows[0][:5] == ["Tid (svensk tid)", "Användare", "Myndighet", "Roll", "Händelse"]
    reason = rows[0].index("Skäl")
    assert "'=HYPERLINK()" in {row[reason] for row in rows[1:]}
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORT).count() == 1


def test_case_readers_for_coordinator_and_reviewer(
    login, coordinator, log_reviewer, worker, colleague, case: Case
) -> None:
    login(worker).get(case.get_absolute_url())
    for user in (coordinator, log_reviewer):
        client = login(user)
        client.post(f"/arenden/{case.pk}/skal/", {"reason": "supervision"})
        response = client.get(f"/logg/arenden/{case.pk}/")
        assert response.status_code == 200
        assert worker.username in response.content.decode()
    assert login(colleague).get(f"/logg/arenden/{case.pk}/").status_code == 403


def test_log_pages_page_without_counting_the_log(login, log_reviewer, worker, case: Case) -> None:
    """The log is paged with one row past the page instead of a COUNT of every match (at
    20,000,000 events the count cost more than the page): "more" links, no total."""
    for _ in range(LOG_PAGE_SIZE + 3):
        audit_record(actor=worker, action=AuditAction.CASE_VIEW, case_id=case.pk)
    client = login(log_reviewer)
    with CaptureQueriesContext(connection) as captured:
        first = client.get("/logg/", {"case": case.reference})
    log_reads = [q["sql"] for q in captured if "avhopp_auditevent" in q["sql"]]
    assert not [sql for sql in log_reads if "COUNT(" in sql.upper()]
    page = first.context["page"]
    assert (len(page.object_list), page.number, page.has_next()) == (LOG_PAGE_SIZE, 1, True)
    body = first.content.decode()
    assert f"case={case.reference}&amp;page=2" in body and "Fler händelser" in body
    assert " av " not in body.split('class="pagination"')[1].split("</nav>")[0]
    second = client.get("/logg/", {"case": case.reference, "page": "2"}).context["page"]
    assert second.number == 2 and not second.has_next() and second.has_previous()
    assert len(second.object_list) == 4  # the three, and the case's creation
    assert not {e.pk for e in second.object_list} & {e.pk for e in page.object_list}
    # Nonsense and huge page numbers give a page, never an error.
    for number in ("abc", "-4", "99999999999999999999999"):
        response = client.get("/logg/", {"case": case.reference, "page": number})
        assert response.status_code == 200
        assert response.context["page"].number in (1, LOG_MAX_PAGE)


def test_case_readers_pages_without_a_count(login, coordinator, worker, case: Case) -> None:
    for _ in range(LOG_PAGE_SIZE + 1):
        audit_record(actor=worker, action=AuditAction.CASE_VIEW, case_id=case.pk)
    client = login(coordinator)
    client.post(f"/arenden/{case.pk}/skal/", {"reason": "supervision"})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/logg/arenden/{case.pk}/")
    assert response.status_code == 200
    assert not [q for q in captured if "COUNT(" in q["sql"].upper() and "auditevent" in q["sql"]]
    page = response.context["page"]
    assert len(page.object_list) == LOG_PAGE_SIZE and page.has_next()
    assert all(e.case_id == case.pk for e in page.object_list)


def test_user_search_ignores_case_on_the_indexed_expression(
    login, log_reviewer, worker, case: Case
) -> None:
    login(worker).get(case.get_absolute_url())
    client = login(log_reviewer)
    for name in (worker.username.upper(), worker.username.lower(), worker.username.title()):
        events = client.get("/logg/", {"username": name}).context["page"].object_list
        assert events and {e.username for e in events} == {worker.username}
