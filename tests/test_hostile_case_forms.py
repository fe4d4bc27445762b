"""Hostile input to the forms on a case, generated with hypothesis
(the contract is in tests/hostile_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from avhopp.models import AuditAction, AuditEvent, User
from cases.models import (
    Case,
    CaseShare,
    CaseStatus,
    CaseStatusChange,
    Consent,
    ConsentScope,
    EndReason,
    Individual,
    Intervention,
    InterventionKind,
    InterventionStatus,
    JournalEntry,
    LegalBasis,
    ProtectionLevel,
    ThreatAssessment,
    ThreatLevel,
)
from tests.hostile_support import (
    HOSTILE,
    Stage,
    assert_outcome,
    checkbox,
    choice,
    counts,
    extra_fields,
    field_text,
    future_date,
    hostile_date,
    hostile_id,
    hostile_next,
    isolated,
    mostly,
    one_of_ids,
    past_date,
    snapshot,
    stripped,
    submit,
)

# --- Forms on a case ------------------------------------------------------------------------


@HOSTILE
@given(text=field_text, corrects=mostly(st.just(""), hostile_id), extra=extra_fields)
@isolated
def test_journal_entry(
    text: str,
    corrects: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["worker"])
    before = counts()
    url = reverse("cases:journal_create", args=[stage.case.pk])
    response = submit(client, "post", url, {**extra, "text": text, "corrects": corrects})
    if assert_outcome(response, before, saves={"JournalEntry": 1}):
        entry = JournalEntry.objects.latest("pk")
        assert entry.text == stripped(text)
        assert entry.case_id == stage.case.pk
        assert entry.author_id == stage.users["worker"].pk


@HOSTILE
@given(
    notes=field_text,
    conditions=field_text,
    signed=past_date(),
    extra=extra_fields,
)
@isolated
def test_case_edit(
    notes: str,
    conditions: str,
    signed: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["worker"])
    before, state = counts(), snapshot(stage.case)
    url = reverse("cases:edit", args=[stage.case.pk])
    data = {
        **extra,
        "motivation_notes": notes,
        "agreement_conditions": conditions,
        "agreement_signed_on": signed,
    }
    response = submit(client, "post", url, data)
    if assert_outcome(response, before, saves={}, unchanged=state, objects=(stage.case,)):
        case = Case.objects.get(pk=stage.case.pk)
        assert case.motivation_notes == stripped(notes)
        assert case.agreement_conditions == stripped(conditions)
        assert case.owning_agency_id == stage.case.owning_agency_id


@HOSTILE
@given(
    first=field_text,
    last=field_text,
    gender=choice(["", "female", "male", "other"]),
    protection=choice(list(ProtectionLevel.values)),
    phone=field_text,
    address=field_text,
    extra=extra_fields,
)
@isolated
def test_person_edit(
    first: str,
    last: str,
    gender: str,
    protection: str,
    phone: str,
    address: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["worker"])
    person = stage.case.individual
    before, state = counts(), snapshot(person)
    url = reverse("cases:individual_edit", args=[stage.case.pk])
    data = {
        **extra,
        "first_name": first,
        "last_name": last,
        "gender": gender,
        "protection_level": protection,
        "phone": phone,
        "address": address,
        "personnummer": "199001011234",
    }
    response = submit(client, "post", url, data)
    if assert_outcome(response, before, saves={}, unchanged=state, objects=(person,)):
        saved = Individual.objects.get(pk=person.pk)
        assert (saved.first_name, saved.last_name) == (stripped(first), stripped(last))
        assert (saved.phone, saved.address) == (stripped(phone), stripped(address))
        assert saved.personnummer == person.personnummer  # fixed once registered
    # Put the person back, so the next example starts unprotected and editable.
    Individual.objects.filter(pk=person.pk).update(protection_level=ProtectionLevel.NONE)


@HOSTILE
@given(
    to_status=mostly(
        st.sampled_from([CaseStatus.INITIAL_ASSESSMENT.value, CaseStatus.DROPPED_OUT.value]),
        choice([*CaseStatus.values, ""]),
    ),
    reason=field_text,
    end_reason=mostly(st.just(EndReason.PERSON_LEFT.value), choice([*EndReason.values, ""])),
    extra=extra_fields,
)
@isolated
def test_status_change(
    to_status: str,
    reason: str,
    end_reason: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["worker"])
    Case.objects.filter(pk=stage.case.pk).update(status=CaseStatus.REPORTED, closed_at=None)
    before, state = counts(), snapshot(stage.case)
    url = reverse("cases:status", args=[stage.case.pk])
    data = {**extra, "to_status": to_status, "reason": reason, "end_reason": end_reason}
    response = submit(client, "post", url, data)
    if assert_outcome(
        response, before, saves={"CaseStatusChange": 1}, unchanged=state, objects=(stage.case,)
    ):
        change = CaseStatusChange.objects.latest("pk")
        assert change.to_status == to_status
        assert change.reason == stripped(reason)
        assert Case.objects.get(pk=stage.case.pk).status == to_status


def _intervention_data(draw: st.DrawFn, agency_pk: int) -> dict[str, str]:
    return {
        **draw(extra_fields),
        "kind": draw(choice(list(InterventionKind.values))),
        "provider_agency": draw(one_of_ids(["", str(agency_pk)])),
        "provider_name": draw(field_text),
        "status": draw(choice(list(InterventionStatus.values))),
        "decision_date": draw(mostly(st.just(""), hostile_date)),
        "start_date": draw(mostly(st.just(""), hostile_date)),
        "end_date": draw(mostly(st.just(""), hostile_date)),
        "follow_up_date": draw(mostly(st.just(""), hostile_date)),
        "goal": draw(field_text),
        "outcome": draw(field_text),
    }


def _assert_intervention(saved: Intervention, data: dict[str, str]) -> None:
    assert saved.kind == data["kind"]
    assert saved.provider_name == stripped(data["provider_name"])
    assert saved.goal == stripped(data["goal"])
    assert saved.outcome == stripped(data["outcome"])


@HOSTILE
@given(data=st.data())
@isolated
def test_intervention_create(
    data: st.DataObject, stage: Stage, login: Callable[[User], Client]
) -> None:
    client = login(stage.users["worker"])
    values = _intervention_data(data.draw, stage.prison.pk)
    before = counts()
    url = reverse("cases:intervention_create", args=[stage.case.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={"Intervention": 1}):
        saved = Intervention.objects.latest("pk")
        assert saved.case_id == stage.case.pk
        _assert_intervention(saved, values)


@HOSTILE
@given(data=st.data())
@isolated
def test_intervention_edit(
    data: st.DataObject, stage: Stage, login: Callable[[User], Client]
) -> None:
    client = login(stage.users["worker"])
    values = _intervention_data(data.draw, stage.prison.pk)
    before, state = counts(), snapshot(stage.intervention)
    url = reverse("cases:intervention_edit", args=[stage.case.pk, stage.intervention.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={}, unchanged=state, objects=(stage.intervention,)):
        saved = Intervention.objects.get(pk=stage.intervention.pk)
        assert saved.case_id == stage.case.pk
        _assert_intervention(saved, values)


@HOSTILE
@given(
    level=choice(list(ThreatLevel.values)),
    summary=field_text,
    details=field_text,
    measures=field_text,
    flags=st.tuples(checkbox, checkbox, checkbox),
    review=future_date(),
    extra=extra_fields,
)
@isolated
def test_threat_assessment(
    level: str,
    summary: str,
    details: str,
    measures: str,
    flags: tuple[str, str, str],
    review: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["officer"])
    before = counts()
    url = reverse("cases:threat_create", args=[stage.case.pk])
    data = {
        **extra,
        "level": level,
        "summary": summary,
        "details": details,
        "other_measures": measures,
        "protected_address": flags[0],
        "relocation": flags[1],
        "personal_protection": flags[2],
        "next_review_date": review,
    }
    response = submit(client, "post", url, data)
    if assert_outcome(response, before, saves={"ThreatAssessment": 1}):
        saved = ThreatAssessment.objects.latest("pk")
        assert (saved.level, saved.summary) == (level, stripped(summary))
        assert saved.details == stripped(details)
        assert saved.other_measures == stripped(measures)


@HOSTILE
@given(data=st.data())
@isolated
def test_consent_create(data: st.DataObject, stage: Stage, login: Callable[[User], Client]) -> None:
    client = login(stage.users["coordinator"])
    own = stage.coordinated.owning_agency_id
    values = {
        **data.draw(extra_fields),
        "recipient": data.draw(one_of_ids([str(stage.prison.pk), str(stage.prison.pk), str(own)])),
        "scope_interventions": data.draw(checkbox),
        "scope_threat_level": data.draw(checkbox),
        "scope_journal": data.draw(checkbox),
        "given_on": data.draw(past_date()),
        "valid_until": data.draw(st.one_of(future_date(), st.just(""))),
        "document_reference": data.draw(field_text),
    }
    before = counts()
    url = reverse("cases:consent_create", args=[stage.coordinated.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={"Consent": 1}):
        saved = Consent.objects.latest("pk")
        assert saved.individual_id == stage.coordinated.individual_id
        assert saved.recipient_id == stage.prison.pk
        assert saved.document_reference == stripped(values["document_reference"])


@HOSTILE
@given(data=st.data())
@isolated
def test_share_create(data: st.DataObject, stage: Stage, login: Callable[[User], Client]) -> None:
    client = login(stage.users["coordinator"])
    CaseShare.objects.filter(case=stage.coordinated).delete()  # each example may share anew
    values: dict[str, Any] = {
        **data.draw(extra_fields),
        "agency": data.draw(
            one_of_ids(
                [
                    str(stage.prison.pk),
                    str(stage.prison.pk),
                    str(stage.coordinated.owning_agency_id),
                ]
            )
        ),
        "consent": data.draw(one_of_ids(["", str(stage.consent.pk)])),
        "legal_basis": data.draw(choice(["", *LegalBasis.values])),
        "legal_basis_citation": data.draw(field_text),
        "scopes": data.draw(
            st.lists(choice(list(ConsentScope.values)), max_size=4),
        ),
    }
    before = counts()
    url = reverse("cases:share_create", args=[stage.coordinated.pk])
    response = submit(client, "post", url, values)
    if assert_outcome(response, before, saves={"CaseShare": 1}):
        saved = CaseShare.objects.latest("pk")
        assert (saved.case_id, saved.agency_id) == (stage.coordinated.pk, stage.prison.pk)
        if saved.consent_id is None:
            assert saved.legal_basis_citation == stripped(values["legal_basis_citation"])


REASONS = ["covering", "joint_meeting", "urgent", "supervision", "other"]


@HOSTILE
@given(reason=choice(REASONS), other=field_text, target=hostile_next, extra=extra_fields)
@example(reason="urgent", other="", target="evil", extra={})  # BUG-1: NoReverseMatch, 500
@isolated
def test_outside_reason(
    reason: str,
    other: str,
    target: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["colleague"])
    base = reverse("cases:outside_reason", args=[stage.case.pk])
    page = submit(client, "get", base, {"next": target})
    assert page.status_code == 200
    events = AuditEvent.objects.filter(action=AuditAction.OUTSIDE_ASSIGNMENT_READ)
    logged = events.count()
    before = counts()
    data = {**extra, "reason": reason, "other": other, "next": target}
    response = submit(client, "post", base, data)
    if assert_outcome(response, before, saves={}):
        assert events.count() == logged + 1
        expected = f"other: {stripped(other)}" if reason == "other" else reason
        assert events.latest("pk").reason == expected[:300]
    else:
        assert events.count() == logged


@HOSTILE
@given(reason=choice(REASONS), other=field_text, extra=extra_fields)
@isolated
def test_reveal_reason(
    reason: str,
    other: str,
    extra: dict[str, str],
    stage: Stage,
    login: Callable[[User], Client],
) -> None:
    client = login(stage.users["worker"])
    events = AuditEvent.objects.filter(action=AuditAction.IDENTITY_REVEAL)
    logged = events.count()
    before = counts()
    url = reverse("cases:reveal", args=[stage.protected.pk])
    response = submit(client, "post", url, {**extra, "reason": reason, "other": other})
    revealed = assert_outcome(response, before, saves={})
    assert events.count() == logged + (1 if revealed else 0)
