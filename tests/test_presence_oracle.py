"""Registering a person must not tell whether they are already in the programme: one answer for
every refusal of the number, a limit on refusals per user, an alert to the owning agency's
coordinators, and a log event that each agency reads only its own side of."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from avhopp.models import AuditAction, AuditEvent, Role
from cases.forms import CaseForm, IndividualForm
from cases.models import Case, CoordinationAlert, Individual
from cases.policy import IDENTITY_COLLISION_LIMIT
from tests.conftest import make_personnummer

pytestmark = pytest.mark.django_db

REFUSED = "Registreringen kan inte göras. Kontakta er samordnare."
_serials = iter(range(500, 999))


def _payload(number: str) -> dict[str, str]:
    return {
        "person-first_name": "Nora",
        "person-last_name": "Ny",
        "person-personnummer": f"{number[:8]}-{number[8:]}",
        "person-protection_level": "none",
        "case-referral_source": "self",
    }


def _fresh_number() -> str:
    return make_personnummer(date(1991, 6, 2), next(_serials))


def _register(client, number: str):
    return client.post("/arenden/nytt/", _payload(number))


def _collide(client, case: Case, times: int = 1) -> None:
    for _ in range(times):
        assert _register(client, case.individual.personnummer).status_code == 400


def test_an_existing_number_and_a_limited_one_get_the_same_answer(
    login, outsider, make_user, other_municipality, case: Case
) -> None:
    existing = _register(login(outsider), case.individual.personnummer)
    limited_user = make_user(other_municipality, Role.SOCIAL_WORKER, username="limited")
    limited = login(limited_user)
    _collide(limited, case, IDENTITY_COLLISION_LIMIT)
    fresh = _register(limited, _fresh_number())

    assert existing.status_code == fresh.status_code == 400
    for response in (existing, fresh):
        body = response.content.decode()
        assert REFUSED in body
        assert "finns redan" not in body
        assert case.reference not in body
    assert (
        existing.context["individual_form"].errors["personnummer"]
        == fresh.context["individual_form"].errors["personnummer"]
        == [REFUSED]
    )
    assert Individual.objects.count() == 1
    assert Case.objects.count() == 1


def test_the_limit_refuses_every_number_and_is_logged(
    login, outsider, make_user, other_municipality, case: Case
) -> None:
    client = login(outsider)
    _collide(client, case, IDENTITY_COLLISION_LIMIT - 1)
    # Below the limit a new person is registered as usual.
    assert _register(client, _fresh_number()).status_code == 302
    _collide(client, case)

    number = _fresh_number()
    response = _register(client, number)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert not Individual.objects.filter(personnummer=number).exists()
    refused = AuditEvent.objects.filter(
        action=AuditAction.IDENTITY_COLLISION, user_id=outsider.pk, case_id__isnull=True
    )
    assert refused.count() == IDENTITY_COLLISION_LIMIT + 1
    assert refused.filter(reason="rate_limited").count() == 1
    # The refusal looked nothing up: no alert and no event for the owner beyond the real ones.
    assert CoordinationAlert.objects.count() == IDENTITY_COLLISION_LIMIT
    # The limit is the user's: a colleague in the same agency still registers.
    colleague = login(make_user(other_municipality, Role.SOCIAL_WORKER, username="colleague2"))
    assert _register(colleague, _fresh_number()).status_code == 302


def test_owning_coordinators_alone_see_the_alert(
    login, outsider, coordinator, worker, officer, make_user, other_municipality, case: Case
) -> None:
    _collide(login(outsider), case)

    page = login(coordinator).get("/").content.decode()
    assert 'data-testid="coordination-alerts"' in page
    assert "Botkyrka kommun försökte registrera personen i ärende" in page
    assert f'<a href="{case.get_absolute_url()}">{case.reference}</a>' in page
    assert case.individual.personnummer not in page
    assert case.individual.personnummer[:8] not in page

    outsider_coordinator = make_user(other_municipality, Role.COORDINATOR, username="oc")
    for user in (worker, outsider, officer, outsider_coordinator):
        page = login(user).get("/").content.decode()
        assert 'data-testid="coordination-alerts"' not in page
        assert "försökte registrera" not in page


def test_the_owners_log_reviewer_finds_the_attempt_on_the_case(
    login, outsider, log_reviewer, case: Case
) -> None:
    _collide(login(outsider), case)
    response = login(log_reviewer).get("/logg/", {"case": case.reference})
    events = [
        e
        for e in response.context["page"].object_list
        if e.action == AuditAction.IDENTITY_COLLISION
    ]
    assert [(e.username, e.agency_name, e.individual_id) for e in events] == [
        (outsider.username, "Botkyrka kommun", case.individual_id)
    ]


def test_the_attempting_agencys_log_reviewer_does_not_learn_the_case(
    login, outsider, make_user, other_municipality, case: Case
) -> None:
    _collide(login(outsider), case)
    reviewer = login(make_user(other_municipality, Role.LOG_REVIEWER, username="oreviewer"))

    response = reviewer.get("/logg/")
    # The event's name says the registration was refused, not that the number exists.
    assert "finns redan" not in response.content.decode()
    assert "individual_unique_personnummer" not in response.content.decode()
    events = list(response.context["page"].object_list)
    collisions = [e for e in events if e.action == AuditAction.IDENTITY_COLLISION]
    # The attempt is there, by the agency's own user, but names neither case nor person.
    assert [(e.username, e.case_id, e.individual_id) for e in collisions] == [
        (outsider.username, None, None)
    ]
    assert case.pk not in {e.case_id for e in events}
    assert list(reviewer.get("/logg/", {"case": case.reference}).context["page"].object_list) == []
    person = case.individual.personnummer
    by_person = reviewer.get("/logg/", {"person": person}).context["page"].object_list
    assert list(by_person) == []

    export = reviewer.get("/logg/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    header = rows[0]
    assert {row[header.index("Ärende")] for row in rows[1:]} <= {""}
    # Neither the case nor the person is named anywhere in the export.
    text = "\n".join(",".join(row) for row in rows)
    assert case.reference not in text
    assert person[:8] not in text


@pytest.mark.parametrize("lost_at", ["constraint_check", "validation", "insert"])
def test_a_number_registered_meanwhile_gets_the_same_answer(
    login, outsider, case: Case, monkeypatch: pytest.MonkeyPatch, lost_at: str
) -> None:
    """Two registrations of one number at once: the one that loses after the number's check,
    at the person form's constraint check, in the model's validation or at the insert itself,
    gets the form's answer, not a 500 or the model's own message."""
    number = _fresh_number()
    form_class = IndividualForm if lost_at == "constraint_check" else CaseForm
    checked = form_class.clean

    def registered_meanwhile(form):
        # The number is checked already; another request registers it now, before this one
        # checks the person's constraints or saves.
        Individual.objects.filter(pk=case.individual_id).update(personnummer=number)
        return checked(form)

    monkeypatch.setattr(form_class, "clean", registered_meanwhile)
    if lost_at == "insert":
        monkeypatch.setattr(Individual, "validate_constraints", lambda *args, **kwargs: None)
        monkeypatch.setattr(Individual, "validate_unique", lambda *args, **kwargs: None)
    people = Individual.objects.count()
    response = _register(login(outsider), number)
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert "finns redan" not in response.content.decode()
    assert "individual_unique_personnummer" not in response.content.decode()
    assert Individual.objects.count() == people
    assert AuditEvent.objects.filter(action=AuditAction.IDENTITY_COLLISION).count() == 2
    assert CoordinationAlert.objects.filter(case=case).count() == 1
