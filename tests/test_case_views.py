"""Case pages: list, search-before-create, detail, and every form's unhappy paths."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from avhopp.models import AuditAction, AuditEvent
from cases import services
from cases.models import Case, CaseStatus, Individual, InterventionKind, ThreatLevel
from tests.conftest import make_personnummer
from tests.support import assess_threat

pytestmark = pytest.mark.django_db

HOSTILE = [
    "<script>alert(1)</script>",
    "'; DROP TABLE cases_case; --",
    "\x00\x07\x1b[31m",
    "x" * 20_000,
    "Ärende ملف дело 案件 🚨",
]


def test_list_shows_own_agency_cases_and_logs_the_read(login, worker, case: Case) -> None:
    response = login(worker).get("/arenden/")
    assert response.status_code == 200
    assert case.reference in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.CASE_LIST, user_id=worker.pk).count() == 1


def test_list_search_by_name_and_number(login, worker, make_case) -> None:
    anna = make_case(worker, first_name="Anna", last_name="Berg")
    make_case(worker, first_name="Bo", last_name="Ström")
    client = login(worker)
    by_name = client.get("/arenden/", {"q": "anna"}).context["page"].object_list
    assert list(by_name) == [anna]
    formatted = f"{anna.individual.personnummer[:8]}-{anna.individual.personnummer[8:]}"
    by_number = client.get("/arenden/", {"q": formatted}).context["page"].object_list
    assert list(by_number) == [anna]


def test_list_filters(login, worker, officer, make_case) -> None:
    quiet, threatened = make_case(worker, first_name="Lugn"), make_case(worker, first_name="Hot")
    assess_threat(
        threatened,
        officer,
        level=ThreatLevel.HIGH,
        summary="s",
        next_review_date=timezone.localdate() + timedelta(days=1),
    )
    Case.objects.filter(pk=threatened.pk).update(
        threat_review_due=timezone.localdate() - timedelta(days=1)
    )
    services.intervention_create(
        case=quiet,
        by=worker,
        kind=InterventionKind.WORK,
        provider_name="AF",
        follow_up_date=timezone.localdate() - timedelta(days=3),
    )
    client = login(worker)

    def listed(**params: str) -> set[int]:
        return {c.pk for c in client.get("/arenden/", params).context["page"].object_list}

    assert listed(threat_level="high") == {threatened.pk}
    assert listed(overdue="threat_review") == {threatened.pk}
    assert listed(overdue="follow_up") == {quiet.pk}
    assert listed(intervention_kind="work") == {quiet.pk}
    assert listed(status="open") == {quiet.pk, threatened.pk}
    assert listed(status="closed") == set()


def test_list_paginates_and_sorts(login, worker, make_case) -> None:
    for index in range(27):
        make_case(worker, first_name=f"P{index:02d}", last_name=f"Efternamn{index:02d}")
    client = login(worker)
    first = client.get("/arenden/", {"order": "name"})
    assert first.context["page"].paginator.num_pages == 2
    names = [c.individual.last_name for c in first.context["page"].object_list]
    assert names == sorted(names)
    second = client.get("/arenden/", {"order": "name", "page": 2})
    assert len(second.context["page"].object_list) == 2


def test_list_defaults_to_the_newest_case_and_pages_on_the_grants(login, worker, make_case):
    cases = [make_case(worker, last_name=f"Efternamn{index:02d}") for index in range(27)]
    Case.objects.filter(pk=cases[-1].pk).update(opened_at=timezone.now() - timedelta(days=900))
    client = login(worker)
    first, second = (client.get("/arenden/", {"page": n}).context["page"] for n in (1, 2))
    newest_first = [case.pk for case in reversed(cases)]
    assert first.paginator.count == 27
    assert [c.pk for c in [*first.object_list, *second.object_list]] == newest_first
    by_opening = client.get("/arenden/", {"order": "-opened_at"}).context["page"].object_list
    assert by_opening[0].pk == cases[-2].pk  # the backdated case drops to the end


@pytest.mark.parametrize("in_memory", [1000, 3])
def test_a_narrowed_list_pages_alike_in_memory_or_in_the_database(
    in_memory: int, login, worker, make_case, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Up to `IN_MEMORY_IDS` matches are read in one query and paged in Python; more are
    counted and paged by the database. Both give the same pages."""
    monkeypatch.setattr("cases.selectors.IN_MEMORY_IDS", in_memory)
    monkeypatch.setattr("cases.views.PAGE_SIZE", 2)
    matches = [make_case(worker, last_name="Sökbar") for _ in range(5)]
    make_case(worker, last_name="Annan")
    client = login(worker)
    with CaptureQueriesContext(connection) as captured:
        pages = [client.get("/arenden/", {"q": "sökbar", "page": n}) for n in (1, 3)]
    pages = [response.context["page"] for response in pages]
    assert [page.paginator.count for page in pages] == [5, 5]
    assert [[c.pk for c in page.object_list] for page in pages] == [
        [matches[4].pk, matches[3].pk],
        [matches[0].pk],
    ]
    # Counts of the cases (the header's count of unread notifications is another table's).
    counted = [
        sql
        for sql in (q["sql"] for q in captured.captured_queries)
        if sql.startswith("SELECT COUNT") and 'FROM "cases_case"' in sql
    ]
    assert len(counted) == (0 if in_memory == 1000 else 2)


@pytest.mark.parametrize("bad", [*HOSTILE, "-1", "999999999999999999999"])
def test_list_survives_hostile_parameters(login, worker, case: Case, bad: str) -> None:
    response = login(worker).get(
        "/arenden/", {"q": bad, "status": bad, "order": bad, "page": bad, "threat_level": bad}
    )
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def _create_payload(**overrides: str) -> dict[str, str]:
    number = make_personnummer(date(1990, 5, 17), 321)
    data = {
        "person-first_name": "Nora",
        "person-last_name": "Ny",
        "person-personnummer": f"{number[:8]}-{number[8:]}",
        "person-protection_level": "none",
        "case-referral_source": "self",
    }
    data.update(overrides)
    return data


def test_create_registers_person_and_case(login, worker) -> None:
    response = login(worker).post("/arenden/nytt/", _create_payload())
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case.get_absolute_url()
    assert case.individual.first_name == "Nora"
    assert case.responsible == worker


def test_create_searches_first(login, worker, case: Case) -> None:
    response = login(worker).get("/arenden/nytt/", {"q": case.individual.last_name})
    assert response.status_code == 200
    assert case.reference in response.content.decode()


def test_create_refuses_a_duplicate_without_revealing_whose(login, outsider, case: Case) -> None:
    number = case.individual.personnummer
    response = login(outsider).post(
        "/arenden/nytt/", _create_payload(**{"person-personnummer": number})
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Registreringen kan inte göras. Kontakta er samordnare." in body
    assert "finns redan" not in body
    assert case.individual.first_name not in body
    assert case.reference not in body
    assert Individual.objects.count() == 1
    # One event for the attempter's agency, one for the owner's (tests/test_presence_oracle.py).
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_COLLISION).count() == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("person-personnummer", "19900517-1234", "Kontrollsiffran"),
        ("person-personnummer", "garbage", "ÅÅÅÅMMDD-NNNN"),
        ("person-first_name", "", "Ange förnamn"),
        ("person-first_name", "x" * 500, "som mest 100"),
        ("person-first_name", "Nora\x00", "Null-tecken"),
        ("person-protection_level", "secret", "giltigt alternativ"),
        ("case-referral_source", "", "Välj vem som aktualiserade ärendet"),
    ],
)
def test_create_bad_input_gets_a_message_and_saves_nothing(
    login, worker, field: str, value: str, message: str
) -> None:
    response = login(worker).post("/arenden/nytt/", _create_payload(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'class="error-summary"' in response.content.decode()
    assert not Individual.objects.exists()
    assert not Case.objects.exists()


def test_police_cannot_open_cases(login, officer) -> None:
    assert login(officer).get("/arenden/nytt/").status_code == 403


def test_detail_shows_person_status_history_and_logs(login, worker, case: Case) -> None:
    response = login(worker).get(case.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert str(case.individual) in body
    assert "Aktualisering" in body
    assert AuditEvent.objects.filter(action=AuditAction.CASE_VIEW, case_id=case.pk).count() == 1


def test_protected_person_has_a_banner_and_masked_identity(login, worker, make_case) -> None:
    protected = make_case(worker, protection_level="protected_registration", address="Hemlig 1")
    body = login(worker).get(protected.get_absolute_url()).content.decode()
    number = protected.individual.personnummer
    assert 'data-testid="protection-banner"' in body
    assert f"{number[:8]}-****" in body
    assert number[8:] not in body
    assert "Hemlig 1" not in body
    assert "Skyddad adress" in body


def test_status_form(login, worker, case: Case) -> None:
    client = login(worker)
    ok = client.post(f"/arenden/{case.pk}/status/", {"to_status": "initial_assessment"})
    assert ok.status_code == 302
    skip = client.post(f"/arenden/{case.pk}/status/", {"to_status": "closed", "reason": "x"})
    assert skip.status_code == 400
    drop = client.post(f"/arenden/{case.pk}/status/", {"to_status": "dropped_out", "reason": ""})
    assert drop.status_code == 400
    assert "Ange ett skäl" in drop.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.INITIAL_ASSESSMENT


def test_status_form_refuses_get(login, worker, case: Case) -> None:
    assert login(worker).get(f"/arenden/{case.pk}/status/").status_code == 405


def test_intervention_forms(login, worker, case: Case) -> None:
    client = login(worker)
    url = f"/arenden/{case.pk}/insatser/ny/"
    assert client.get(url).status_code == 200
    missing = client.post(url, {"kind": "work", "status": "planned"})
    assert missing.status_code == 400
    assert "Ange en utförare" in missing.content.decode()
    backwards = client.post(
        url,
        {
            "kind": "work",
            "status": "planned",
            "provider_name": "AF",
            "start_date": "2026-05-02",
            "end_date": "2026-05-01",
        },
    )
    assert backwards.status_code == 400
    bad_date = client.post(
        url, {"kind": "work", "status": "planned", "provider_name": "AF", "start_date": "32/13"}
    )
    assert bad_date.status_code == 400
    created = client.post(url, {"kind": "work", "status": "planned", "provider_name": "AF"})
    assert created.status_code == 302
    item = case.interventions.get()
    edit = f"/arenden/{case.pk}/insatser/{item.pk}/"
    assert client.get(edit).status_code == 200
    assert (
        client.post(
            edit, {"kind": "work", "status": "ongoing", "provider_name": "AF", "goal": "Jobb"}
        ).status_code
        == 302
    )
    item.refresh_from_db()
    assert (item.status, item.goal) == ("ongoing", "Jobb")


def test_intervention_of_another_case_is_not_found(login, worker, make_case) -> None:
    first, second = make_case(worker), make_case(worker, first_name="Andra")
    item = services.intervention_create(
        case=first, by=worker, kind=InterventionKind.WORK, provider_name="AF"
    )
    assert login(worker).get(f"/arenden/{second.pk}/insatser/{item.pk}/").status_code == 404


@pytest.mark.parametrize("text", HOSTILE)
def test_journal_accepts_any_text_and_escapes_it(login, worker, case: Case, text: str) -> None:
    client = login(worker)
    response = client.post(f"/arenden/{case.pk}/journal/", {"text": text})
    if len(text) > 10_000 or "\x00" in text:
        # Too long, or a NUL byte (which PostgreSQL cannot store): a message, nothing saved.
        assert response.status_code == 400
        assert not case.journal_entries.exists()
        return
    assert response.status_code == 302
    body = client.get(case.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in body


def test_empty_journal_entry_is_refused(login, worker, case: Case) -> None:
    response = login(worker).post(f"/arenden/{case.pk}/journal/", {"text": "   "})
    assert response.status_code == 400
    assert not case.journal_entries.exists()


def test_threat_form_for_police(login, officer, case: Case, share_with, police_agency) -> None:
    share_with(case, police_agency)
    client = login(officer)
    url = f"/arenden/{case.pk}/hotbedomning/ny/"
    assert client.get(url).status_code == 200
    past = client.post(url, {"level": "high", "summary": "s", "next_review_date": "2020-01-01"})
    assert past.status_code == 400
    assert "framtiden" in past.content.decode()
    missing = client.post(url, {"level": "high", "summary": "s"})
    assert missing.status_code == 400
    future = (timezone.localdate() + timedelta(days=10)).isoformat()
    ok = client.post(
        url, {"level": "high", "summary": "s", "details": "d", "next_review_date": future}
    )
    assert ok.status_code == 302
    case.refresh_from_db()
    assert case.threat_level == ThreatLevel.HIGH


def test_threat_form_is_not_for_social_workers(login, worker, case: Case) -> None:
    assert login(worker).get(f"/arenden/{case.pk}/hotbedomning/ny/").status_code == 403


def test_case_edit_form(login, worker, case: Case) -> None:
    client = login(worker)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    bad = client.post(f"/arenden/{case.pk}/andra/", {"agreement_signed_on": future})
    assert bad.status_code == 400
    ok = client.post(
        f"/arenden/{case.pk}/andra/",
        {"agreement_signed_on": "2026-01-02", "agreement_conditions": "Inga droger"},
    )
    assert ok.status_code == 302
    case.refresh_from_db()
    assert case.agreement_conditions == "Inga droger"


def test_start_page_lists(login, worker, officer, make_case) -> None:
    mine = make_case(worker, first_name="Min")
    Case.objects.filter(pk=mine.pk).update(
        threat_review_due=timezone.localdate() - timedelta(days=2)
    )
    response = login(worker).get("/")
    lists = next(panel["lists"] for panel in response.context["panels"] if "lists" in panel)
    assert [case for case, _person in lists["my_cases"]] == [mine]
    assert [case for case, _person in lists["threat_reviews"]] == [mine]
    assert lists["follow_ups"] == []


def test_person_details_can_be_corrected_and_protection_set_by_hand(
    login, worker, case: Case
) -> None:
    client = login(worker)
    url = f"/arenden/{case.pk}/person/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "first_name": "Adam",
            "last_name": "Nytt-Namn",
            "protection_level": "fictitious_identity",
            "phone": "",
            "address": "Ny väg 2",
        },
    )
    assert response.status_code == 302
    case.individual.refresh_from_db()
    assert case.individual.protection_level == "fictitious_identity"
    assert case.individual.address == "Ny väg 2"
    event = AuditEvent.objects.get(action=AuditAction.INDIVIDUAL_UPDATE)
    assert "Ny väg" not in event.reason


def test_protected_address_is_not_editable_until_revealed(login, worker, make_case) -> None:
    protected = make_case(worker, protection_level="protected_registration", address="Hemlig 9")
    client = login(worker)
    url = f"/arenden/{protected.pk}/person/"
    page = client.get(url).content.decode()
    assert "Hemlig 9" not in page
    assert 'name="address"' not in page
    client.post(
        url,
        {
            "first_name": "Adam",
            "last_name": "Testsson",
            "protection_level": "protected_registration",
            "address": "Ändrad",
        },
    )
    protected.individual.refresh_from_db()
    assert protected.individual.address == "Hemlig 9"
    client.post(f"/arenden/{protected.pk}/visa-skyddade-uppgifter/", {"reason": "urgent"})
    assert "Hemlig 9" in client.get(url).content.decode()


def test_person_edit_bad_input(login, worker, case: Case) -> None:
    response = login(worker).post(
        f"/arenden/{case.pk}/person/",
        {"first_name": "", "last_name": "x", "protection_level": "bogus"},
    )
    assert response.status_code == 400
    case.individual.refresh_from_db()
    assert case.individual.first_name == "Adam"
