"""Wrong HTTP methods and POSTs without a CSRF token, on every URL
(the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from avhopp.models import Role, User
from cases.models import CaseStatus
from tests.access_support import discover_id_patterns
from tests.conftest import PASSWORD
from tests.hostile_support import CASE_OF, CHILD_OF, Stage, actor_for, nothing_changes, submit
from tests.support import verify_second_factor

# --- Wrong methods and missing CSRF ---------------------------------------------------------


def _all_urls(stage: Stage) -> dict[str, str]:
    """Every named URL outside admin/ and i18n/, with the stage's own ids filled in."""
    children = {
        "intervention": stage.intervention.pk,
        "consent": stage.consent.pk,
        "share": stage.share.pk,
        "user": stage.users["colleague"].pk,
    }
    urls: dict[str, str] = {}
    for pattern in discover_id_patterns():
        kwargs: dict[str, int] = {}
        if "case_pk" in pattern.params:
            kwargs["case_pk"] = getattr(stage, CASE_OF.get(pattern.name, "case")).pk
        if "pk" in pattern.params:
            child = CHILD_OF.get(pattern.name)
            kwargs["pk"] = children[child] if child else stage.referral.pk
        urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)
    for name in (
        "home",
        "healthz",
        "login",
        "logout",
        "two_factor",
        "reauthenticate",
        "cases:list",
        "cases:create",
        "referrals:dashboard",
        "audit:search",
        "audit:export",
        "users:list",
    ):
        urls[name] = reverse(name)
    return urls


# Views with no method restriction serve a GET-like read to any method; that is not a change.
# The login page is a FormView: a PUT is handled as a POST without data, an empty form.
READ_ONLY = {
    "login",
    "home",
    "healthz",
    "cases:list",
    "cases:detail",
    "audit:search",
    "audit:export",
    "audit:case_readers",
    "referrals:dashboard",
    "referrals:detail",
}


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods(method: str, stage: Stage, login: Callable[[User], Client]) -> None:
    clients = {
        actor: login(stage.users[actor]) for actor in ("worker", "coordinator", "agency_admin")
    }
    problems: list[str] = []
    with nothing_changes(stage):
        for name, url in _all_urls(stage).items():
            if name == "logout":
                continue
            client = clients[actor_for(name)]
            response = submit(client, method, url, "text=x&reason=urgent")
            allowed = {302, 403, 404, 405} | ({200, 400} if name in READ_ONLY else set())
            if response.status_code not in allowed:
                problems.append(f"{method.upper()} {url} ({name}): {response.status_code}")
    assert not problems, "\n".join(problems)


def test_post_without_csrf_token_is_refused(stage: Stage) -> None:
    problems: list[str] = []
    with nothing_changes(stage):
        for name, url in _all_urls(stage).items():
            actor = actor_for(name)
            client = Client(enforce_csrf_checks=True)
            if name != "login":
                client.force_login(stage.users[actor])
                verify_second_factor(client, stage.users[actor])
            data = {
                "text": "Utan token",
                "reason": "urgent",
                "to_status": CaseStatus.INITIAL_ASSESSMENT,
                "username": stage.users[actor].username,
                "password": PASSWORD,
                "role": Role.COORDINATOR,
            }
            response = submit(client, "post", url, data)
            if response.status_code != 403:
                problems.append(f"POST {url} ({name}) without CSRF: {response.status_code}")
    assert not problems, "\n".join(problems)
