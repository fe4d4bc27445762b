"""Nothing of another municipality's case reaches any page a viewer can open (the access
matrix, tests/access_support.py)."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from avhopp.models import User
from cases.identity import format_identity_number
from cases.models import Case
from tests.access_support import (
    FOREIGN_ADDRESS,
    FOREIGN_CONDITION,
    FOREIGN_DETAILS,
    FOREIGN_FIRST,
    FOREIGN_GOAL,
    FOREIGN_JOURNAL,
    FOREIGN_LAST,
    FOREIGN_PROVIDER,
    FOREIGN_SUMMARY,
    REASON_ACTORS,
    World,
    body_of,
    give_outside_reason,
)

# --- Leak check -----------------------------------------------------------------------------


def foreign_strings(case: Case) -> list[str]:
    number = case.individual.personnummer
    assert number is not None
    return [
        FOREIGN_FIRST,
        FOREIGN_LAST,
        number,
        format_identity_number(number),
        f"{number[2:8]}-{number[8:]}",
        FOREIGN_ADDRESS,
        "Gömda gränd",
        FOREIGN_DETAILS,
        "Korpgluggen",
        FOREIGN_SUMMARY,
        FOREIGN_JOURNAL,
        FOREIGN_GOAL,
        FOREIGN_PROVIDER,
        FOREIGN_CONDITION,
        "Hökgänget",
    ]


def without_echo(body: str, query: str, full_path: str) -> str:
    """Remove the places a page legitimately echoes the viewer's own search input."""
    for echoed in (query, full_path):
        for form in {echoed, html.escape(echoed), html.escape(echoed, quote=False)}:
            body = body.replace(f'value="{form}"', 'value=""')
    # The log search's export link carries the search itself.
    query_string = full_path.partition("?")[2]
    return body.replace(f"?{html.escape(query_string)}", "?") if query_string else body


LEAK_ACTORS = ("worker", "colleague", "coordinator", "log_reviewer", "agency_admin", "officer")


@pytest.mark.parametrize("actor", LEAK_ACTORS)
def test_nothing_of_a_foreign_case_leaks(
    actor: str, world: World, foreign_case: Case, login: Callable[[User], Client]
) -> None:
    client = login(world.users[actor])
    if actor in REASON_ACTORS:
        give_outside_reason(client, world.case)
    number = foreign_case.individual.personnummer
    assert number is not None
    name = f"{FOREIGN_FIRST} {FOREIGN_LAST}"
    searches = [
        ("/arenden/", {"q": name}),
        ("/arenden/", {"q": FOREIGN_LAST}),
        ("/arenden/", {"q": number}),
        ("/arenden/", {"q": format_identity_number(number)}),
        ("/arenden/nytt/", {"q": name}),
        ("/arenden/nytt/", {"q": number}),
        ("/logg/", {"person": name}),
        ("/logg/", {"person": number}),
        ("/logg/export.csv", {"person": FOREIGN_LAST}),
        ("/arenden/export.csv", {"q": name}),
        ("/arenden/export.csv", {"q": number}),
    ]
    plain = ["/", "/arenden/", "/remisser/", "/logg/", "/logg/export.csv", "/admin/"]
    plain += ["/metod/mallar/", "/metod/delegeringar/", "/metod/kalender.ics"]
    plain += ["/logg/anvandare/", "/logg/stickprov/", "/logg/stickprov/?month=previous"]
    plain += ["/arenden/export.csv", "/arenden/export.xlsx"]
    plain += list(world.id_urls().values())
    requests: list[tuple[str, dict[str, str]]] = [(url, {}) for url in plain] + searches
    needles = foreign_strings(foreign_case)
    content = actor in {"worker", "colleague", "coordinator", "officer"}
    expected = {
        "/": 200,
        "/arenden/": 200 if content else 403,
        "/arenden/export.csv": 200 if content else 403,
        "/arenden/export.xlsx": 200 if content else 403,
        "/arenden/nytt/": 200 if actor in REASON_ACTORS | {"worker"} else 403,
        "/remisser/": 200 if content else 403,
        "/logg/": 200 if actor == "log_reviewer" else 403,
        "/logg/export.csv": 200 if actor == "log_reviewer" else 403,
        "/logg/anvandare/": 200 if actor == "log_reviewer" else 403,
        "/logg/stickprov/": 200 if actor == "log_reviewer" else 403,
        "/admin/": 302,  # non-staff are sent to the admin login
        "/metod/mallar/": 200 if actor in REASON_ACTORS | {"worker"} else 403,
        "/metod/delegeringar/": 200 if actor == "agency_admin" else 403,
        "/metod/kalender.ics": 200,
    }
    leaks = []
    for url, params in requests:
        response = client.get(url, params)
        if url in expected:
            assert response.status_code == expected[url], (url, params, response.status_code)
        body = body_of(response)
        if params:
            echo = params.get("q") or params["person"]
            body = without_echo(body, echo, response.wsgi_request.get_full_path())
        for needle in needles:
            if needle in body:
                leaks.append(f"{url} {params}: {needle!r}")
    assert not leaks, "foreign data in responses:\n" + "\n".join(leaks)


def test_leak_check_would_notice_the_foreign_case(
    foreign_case: Case, outsider: User, login: Callable[[User], Client]
) -> None:
    """The needles are real: the owner of the foreign case does see them."""
    client = login(outsider)
    body = body_of(client.get(reverse("cases:detail", args=[foreign_case.pk])))
    number = foreign_case.individual.personnummer
    assert number is not None
    needles = (FOREIGN_FIRST, FOREIGN_ADDRESS, format_identity_number(number), FOREIGN_PROVIDER)
    for needle in needles:
        assert needle in body
