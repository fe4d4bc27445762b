"""Ids that do not exist or belong to others, in every URL that takes one
(the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from avhopp.models import User
from cases.models import CaseShare, Consent
from tests.access_support import discover_id_patterns
from tests.hostile_support import (
    CASE_OF,
    CHILD_OF,
    FEW,
    Stage,
    actor_for,
    huge_ints,
    isolated,
    nothing_changes,
    submit,
)

# --- Ids ------------------------------------------------------------------------------------


@FEW
@given(number=huge_ints, which=st.sampled_from(["case_pk", "pk"]))
@isolated
def test_ids_that_do_not_exist(
    number: int, which: str, stage: Stage, login: Callable[[User], Client]
) -> None:
    """Every URL with an id, with a huge or unknown id in each place: 404 (or the 403/405 the
    role or method gets first), never 500."""
    clients = {actor: login(stage.users[actor]) for actor in ("worker", "coordinator")}
    clients["agency_admin"] = login(stage.users["agency_admin"])
    with nothing_changes(stage):
        for pattern in discover_id_patterns():
            if which not in pattern.params:
                continue
            kwargs = {name: 1 for name in pattern.params}
            if "case_pk" in pattern.params:
                kwargs["case_pk"] = getattr(stage, CASE_OF.get(pattern.name, "case")).pk
            kwargs[which] = number
            url = reverse(pattern.name, kwargs=kwargs)
            client = clients[actor_for(pattern.name)]
            for method in ("get", "post"):
                response = submit(client, method, url, {"reason": "urgent", "text": "x"})
                assert response.status_code in {403, 404, 405}, (
                    f"{method.upper()} {url}: {response.status_code}"
                )


def test_ids_that_belong_to_others(stage: Stage, login: Callable[[User], Client]) -> None:
    """Another municipality's case, or a child object of another case through our own."""
    clients = {
        actor: login(stage.users[actor]) for actor in ("worker", "coordinator", "agency_admin")
    }
    problems: list[str] = []
    with nothing_changes(stage):
        for pattern in discover_id_patterns():
            own_case = getattr(stage, CASE_OF.get(pattern.name, "case")).pk
            child = CHILD_OF.get(pattern.name) or (
                "referral" if pattern.name.startswith("referrals:") else None
            )
            foreign_child = stage.foreign_objects[child] if child else 0
            variants: list[dict[str, int]] = []
            if "case_pk" in pattern.params:  # their case (and their child object)
                variants.append({"case_pk": stage.foreign.pk, "pk": foreign_child})
            if "pk" in pattern.params:  # their child object, through our own case
                variants.append({"case_pk": own_case, "pk": foreign_child})
            variants = [
                {key: value for key, value in kwargs.items() if key in pattern.params}
                for kwargs in variants
            ]
            for kwargs in variants:
                url = reverse(pattern.name, kwargs=kwargs)
                client = clients[actor_for(pattern.name)]
                for method in ("get", "post"):
                    response = submit(client, method, url, {"reason": "urgent", "text": "x"})
                    if response.status_code not in {403, 404, 405}:
                        problems.append(f"{method.upper()} {url}: {response.status_code}")
    assert not problems, "\n".join(problems)
    assert not Consent.objects.filter(withdrawn_at__isnull=False).exists()
    assert not CaseShare.objects.filter(revoked_at__isnull=False).exists()
