"""A form that comes back with errors says so first: "Fel: " in the page's title, and an error
summary at the top of the form, focused on opening, linking to each field."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from avhopp.models import User
from cases.models import Case
from relocations.models import Relocation
from tests.relocation_support import Parties

pytestmark = pytest.mark.django_db
SITE = " \N{EN DASH} Avhopp"  # after every page's title


def title_of(body: str) -> str:
    return re.search(r"<title>(.*?)</title>", body, re.S)[1]


def summaries_of(body: str) -> list[str]:
    return re.findall(r'<div class="error-summary"[^>]*>.*?</div>', body, re.S)


def test_case_form_with_errors_has_fel_in_the_title_and_a_focused_summary(
    login: Callable[[User], Client], worker: User
) -> None:
    client = login(worker)
    assert title_of(client.get("/arenden/nytt/").content.decode()) == f"Nytt ärende{SITE}"
    response = client.post("/arenden/nytt/", {"person-first_name": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert title_of(body) == f"Fel: Nytt ärende{SITE}"
    # One summary per form of the page (person, case), each with its own heading id; the
    # first is focused when the page opens (autofocus: the first on the page wins).
    first, second = summaries_of(body)
    assert re.search(r"<div [^>]*tabindex=\"-1\"[^>]*autofocus", first)
    assert 'aria-labelledby="error-summary-person"' in first
    assert 'id="error-summary-person"' in first
    assert 'aria-labelledby="error-summary-case"' in second
    assert "Förnamn: Ange förnamn" in first
    assert "Aktualiserad av: Välj vem som aktualiserade ärendet" in second
    assert "Detta fält måste fyllas i" not in body
    # Each link leads to its field, and the field names its message.
    targets = re.findall(r'<li><a href="#([^"]+)">', first + second)
    assert "id_person-first_name" in targets
    for target in targets:
        assert f'id="{target}"' in body, target
    field = re.search(r'<input[^>]*id="id_person-first_name"[^>]*>', body)[0]
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="id_person-first_name_error"' in field
    assert 'id="id_person-first_name_error"' in body


def test_a_radio_field_s_error_links_to_its_first_choice(
    login: Callable[[User], Client], colleague: User, case: Case
) -> None:
    response = login(colleague).post(reverse("cases:outside_reason", args=[case.pk]), {"other": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert title_of(body).startswith("Fel: ")
    assert '<a href="#id_reason_0">Skäl: Välj skäl</a>' in body
    assert 'id="id_reason_0"' in body
    assert 'id="id_reason_error"' in body


def test_a_step_form_among_several_puts_fel_in_the_title(
    login: Callable[[User], Client], relocation: Relocation, parties: Parties
) -> None:
    client = login(parties.national)
    page = client.get(relocation.get_absolute_url()).content.decode()
    assert not title_of(page).startswith("Fel:")
    response = client.post(reverse("relocations:propose", args=[relocation.pk]), {"x": ""})
    body = response.content.decode()
    assert response.status_code == 400
    assert title_of(body) == f"Fel: {relocation.reference}{SITE}"
    assert "Välj föreslagna kommuner" in summaries_of(body)[0]


def test_a_search_with_errors_puts_fel_in_the_title(
    login: Callable[[User], Client], log_reviewer: User
) -> None:
    response = login(log_reviewer).get("/logg/", {"date_from": "1999-12-31"})
    assert response.status_code == 400
    assert title_of(response.content.decode()) == f"Fel: Logg{SITE}"


def test_fel_follows_the_page_s_language(login: Callable[[User], Client], worker: User) -> None:
    client = login(worker)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.post("/arenden/nytt/", {"person-first_name": ""}).content.decode()
    assert title_of(body).startswith("Error: ")
    assert "Enter first name" in body
