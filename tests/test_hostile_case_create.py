"""Hostile input to the new-case form, generated with hypothesis
(the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from avhopp.models import User
from cases.models import Case, ProtectionLevel, ReferralSource
from tests.conftest import make_personnummer
from tests.hostile_support import (
    HOSTILE,
    Stage,
    assert_outcome,
    choice,
    counts,
    extra_fields,
    field_text,
    isolated,
    mostly,
    past_date,
    stripped,
    submit,
)

# --- Creating cases -------------------------------------------------------------------------

_serials = iter(range(1, 999))


@HOSTILE
@given(data=st.data())
@isolated
def test_case_create(data: st.DataObject, stage: Stage, login: Callable[[User], Client]) -> None:
    client = login(stage.users["worker"])
    number = make_personnummer(
        data.draw(st.dates(min_value=date(1950, 1, 1), max_value=date(2005, 12, 31))),
        next(_serials),
    )
    existing = stage.case.individual.personnummer or ""
    values = {
        **{f"person-{k}": v for k, v in data.draw(extra_fields).items()},
        "person-first_name": data.draw(field_text),
        "person-last_name": data.draw(field_text),
        "person-personnummer": data.draw(
            mostly(st.sampled_from(["", number, number, existing]), field_text)
        ),
        "person-birth_date": data.draw(past_date()),
        "person-gender": data.draw(choice(["", "female", "male", "other"])),
        "person-protection_level": data.draw(choice(list(ProtectionLevel.values))),
        "person-phone": data.draw(field_text),
        "person-address": data.draw(field_text),
        "case-referral_source": data.draw(choice(list(ReferralSource.values))),
        "case-motivation_notes": data.draw(field_text),
        "case-owning_agency": str(stage.foreign.owning_agency_id),
        "case-responsible": str(stage.users["outsider"].pk),
    }
    before = counts()
    response = submit(client, "post", reverse("cases:create"), values)
    if assert_outcome(response, before, saves={"Individual": 1, "Case": 1, "CaseStatusChange": 1}):
        case = Case.objects.select_related("individual").latest("pk")
        person = case.individual
        assert person.first_name == stripped(values["person-first_name"])
        assert person.last_name == stripped(values["person-last_name"])
        assert person.address == stripped(values["person-address"])
        assert case.motivation_notes == stripped(values["case-motivation_notes"])
        assert case.owning_agency_id == stage.users["worker"].agency_id
        assert case.responsible_id == stage.users["worker"].pk
