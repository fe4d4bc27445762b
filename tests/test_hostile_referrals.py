"""Hostile input to the referral and SIP forms and the answer to a referral, generated with
hypothesis (the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from avhopp.models import User
from cases.models import InterventionKind
from referrals import services as referral_services
from referrals.models import Referral, ReferralStatus
from tests.hostile_support import (
    HOSTILE,
    RAW_MARKUP,
    Stage,
    assert_outcome,
    checkbox,
    choice,
    counts,
    extra_fields,
    field_text,
    future_date,
    isolated,
    mostly,
    one_of_ids,
    snapshot,
    stripped,
    submit,
)

# --- Referrals ------------------------------------------------------------------------------


def assert_document_escaped(referral: Referral) -> None:
    """The HTML the PDF worker renders carries the same text: escaped there too."""
    html = referral_services.referral_html(referral_id=referral.pk)
    for markup in RAW_MARKUP:
        assert markup not in html, f"unescaped {markup!r} in the document of {referral}"


@HOSTILE
@given(data=st.data())
@isolated
def test_referral_create(
    data: st.DataObject, stage: Stage, login: Callable[[User], Client]
) -> None:
    client = login(stage.users["coordinator"])
    values = {
        **data.draw(extra_fields),
        "to_agency": data.draw(one_of_ids([str(stage.prison.pk)])),
        "external_recipient": data.draw(mostly(st.just(""), field_text)),
        "intervention_kind": data.draw(choice(["", *InterventionKind.values])),
        "reason": data.draw(field_text),
        "summary": data.draw(field_text),
        "requested_start": data.draw(future_date()),
        "contact_person": data.draw(field_text),
        "consent": data.draw(one_of_ids([str(stage.consent.pk)])),
        "include_interventions": data.draw(checkbox),
        "include_threat_level": data.draw(checkbox),
        "include_journal": data.draw(checkbox),
        "status": ReferralStatus.ACCEPTED,
    }
    before = counts()
    url = reverse("referrals:create", args=[stage.coordinated.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={"Referral": 1}):
        saved = Referral.objects.latest("pk")
        assert saved.case_id == stage.coordinated.pk
        assert saved.reason == stripped(values["reason"])
        assert saved.summary == stripped(values["summary"])
        assert saved.contact_person == stripped(values["contact_person"])
        assert saved.status == ReferralStatus.QUEUED
        assert_document_escaped(saved)


@HOSTILE
@given(data=st.data())
@isolated
def test_sip_create(data: st.DataObject, stage: Stage, login: Callable[[User], Client]) -> None:
    client = login(stage.users["coordinator"])
    values = {
        **data.draw(extra_fields),
        "overall_responsibility": data.draw(field_text),
        "next_follow_up": data.draw(future_date()),
        "contact_person": data.draw(field_text),
        "summary": data.draw(field_text),
        "consent": data.draw(one_of_ids([str(stage.consent.pk)])),
    }
    before = counts()
    url = reverse("referrals:sip_create", args=[stage.coordinated.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={"Referral": 1}):
        saved = Referral.objects.latest("pk")
        assert saved.overall_responsibility == stripped(values["overall_responsibility"])
        assert saved.summary == stripped(values["summary"])
        assert_document_escaped(saved)


@HOSTILE
@given(decision=choice(["accept", "decline"]), comment=field_text, extra=extra_fields)
@isolated
def test_referral_answer(
    decision: str,
    comment: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    Referral.objects.filter(pk=stage.received.pk).update(
        status=ReferralStatus.SENT, answered_at=None, answer_comment=""
    )
    client = login(stage.users["prison_officer"])
    before, state = counts(), snapshot(stage.received)
    url = reverse("referrals:answer", args=[stage.received.pk])
    response = submit(client, "post", url, {**extra, "decision": decision, "comment": comment})
    if assert_outcome(response, before, saves={}, unchanged=state, objects=(stage.received,)):
        saved = Referral.objects.get(pk=stage.received.pk)
        want = ReferralStatus.ACCEPTED if decision == "accept" else ReferralStatus.DECLINED
        assert (saved.status, saved.answer_comment) == (want, stripped(comment))
