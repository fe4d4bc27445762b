"""Relocation writes. Each step is one transaction that locks the relocation's row, checks
the step it is in, and writes the step and its audit event: a double-submitted form or two
municipalities accepting at once leave one consistent state, and the loser a message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from avhopp import jobs
from avhopp.models import Agency, AgencyKind, AuditAction, NotificationKind
from avhopp.notifications import notify, users_of
from cases import hooks as case_hooks
from cases import services as case_services
from cases.hooks import DecisionKind
from cases.models import Case, Consent
from relocations.audit import relocation_audit
from relocations.calendar import add_working_days, one_month_after
from relocations.models import (
    OPEN_STATUSES,
    AbortReason,
    AvoidedPlace,
    Candidate,
    Clearance,
    DeclineReason,
    HousingNeed,
    OfferStatus,
    Placement,
    PlacementAgreement,
    Relocation,
    RelocationStatus,
    RelocationStep,
)
from relocations.policy import RelocationAction, RelocationPolicy

if TYPE_CHECKING:
    from avhopp.models import User


MAX_CANDIDATES = 3


@transaction.atomic
def relocation_request(
    *,
    case: Case,
    by: User,
    consent: Consent,
    urgency: str,
    housing_need: str,
    needs_summary: str,
    ivo_permit: str = "",
    people_moving: int = 1,
    children_moving: int = 0,
    avoided_municipalities: Sequence[Agency] = (),
    avoided_regions: Sequence[str] = (),
    avoid_reason: str = "",
) -> Relocation:
    """Needs the person's current consent covering relocation, naming the national
    coordination, and a police threat assessment whose review date has not passed."""
    RelocationPolicy.require_request(by, case)
    Case.objects.select_for_update().get(pk=case.pk)  # one request at a time per case
    today = timezone.localdate()
    if (
        consent.individual_id != case.individual_id
        or not consent.relocation
        or not consent.is_current(today)
        or consent.recipient.kind != AgencyKind.NATIONAL_COORDINATION
    ):
        raise ValidationError(
            _(
                "Det krävs ett gällande samtycke från personen som omfattar omplacering och "
                "nämner den nationella samordningen."
            )
        )
    assessment = case.threat_assessments.order_by("-assessed_at", "-id").first()
    if assessment is None or assessment.next_review_date < today:
        raise ValidationError(
            _("Det krävs en hotbedömning från polisen vars omprövningsdatum inte har passerat.")
        )
    if (
        Relocation.objects.filter(case=case)
        .exclude(status__in=[RelocationStatus.HANDED_OVER, RelocationStatus.ABORTED])
        .exists()
    ):
        raise ValidationError(_("Ärendet har redan en pågående omplacering."))
    if housing_need != HousingNeed.PROTECTED:
        ivo_permit = ""
    relocation = Relocation(
        case=case,
        sending_agency_id=case.owning_agency_id,
        sending_responsible_id=case.responsible_id,
        coordinating_agency=consent.recipient,
        consent=consent,
        requested_by=by,
        urgency=urgency,
        housing_need=housing_need,
        ivo_permit=ivo_permit.strip(),
        people_moving=people_moving,
        children_moving=children_moving,
        needs_summary=needs_summary.strip(),
    )
    relocation.full_clean()
    relocation.save()
    for place in [*avoided_municipalities, *avoided_regions]:
        _avoid(relocation, place, reason=avoid_reason, by=by, police_only=False)
    RelocationStep.objects.create(relocation=relocation, status=relocation.status, by=by)
    case_hooks.decision_taken(kind=DecisionKind.RELOCATION, case=case, by=by, subject=relocation)
    relocation_audit(actor=by, action=AuditAction.RELOCATION_REQUEST, relocation=relocation)
    _notify_turns(relocation, _turns(relocation), by=by)
    return relocation


def _avoid(
    relocation: Relocation, place: Agency | str, *, reason: str, by: User, police_only: bool
) -> AvoidedPlace:
    avoided = AvoidedPlace(
        relocation=relocation,
        municipality=place if isinstance(place, Agency) else None,
        region=place.strip() if isinstance(place, str) else "",
        reason=reason.strip(),
        police_only=police_only,
        given_by_agency_id=by.agency_id,
    )
    avoided.full_clean()
    avoided.save()
    return avoided


@transaction.atomic
def avoided_place_add(
    *, relocation: Relocation, by: User, place: Agency | str, reason: str
) -> AvoidedPlace:
    """The police's reason is theirs alone; the place is shown to all who match."""
    RelocationPolicy.require(by, RelocationAction.ADD_AVOIDED_PLACE, relocation)
    relocation = _locked(relocation, {RelocationStatus.MATCHING, RelocationStatus.CLEARANCE})
    police_only = RelocationPolicy.allows(by, RelocationAction.READ_POLICE_REASONS, relocation)
    avoided = _avoid(relocation, place, reason=reason, by=by, police_only=police_only)
    relocation_audit(
        actor=by,
        action=AuditAction.RELOCATION_TRANSITION,
        obj=avoided,
        relocation=relocation,
        reason="avoid",
    )
    return avoided


@transaction.atomic
def candidates_propose(
    *, relocation: Relocation, by: User, municipalities: Sequence[Agency]
) -> list[Candidate]:
    """One to three municipalities: never the sending one, an avoided one or one in an
    avoided region, nor one proposed before; each needs a police region to clear it."""
    RelocationPolicy.require(by, RelocationAction.PROPOSE, relocation)
    relocation = _locked(relocation, {RelocationStatus.MATCHING})
    if not 1 <= len(municipalities) <= MAX_CANDIDATES:
        raise ValidationError(_("Föreslå en till tre kommuner."))
    avoided = relocation.avoided_places.all()
    avoided_ids = {place.municipality_id for place in avoided if place.municipality_id}
    avoided_regions = {place.region.casefold() for place in avoided if place.region}
    proposed_before = set(relocation.candidates.values_list("municipality_id", flat=True))
    candidates = []
    for municipality in municipalities:
        if municipality.kind != AgencyKind.SOCIAL_SERVICES:
            raise ValidationError(_("%(name)s är ingen kommun.") % {"name": municipality})
        if municipality.pk == relocation.sending_agency_id:
            raise ValidationError(_("Den sändande kommunen kan inte föreslås."))
        if municipality.pk in avoided_ids or municipality.region.casefold() in avoided_regions:
            raise ValidationError(
                _("%(name)s ligger där personen inte får placeras.") % {"name": municipality}
            )
        if municipality.pk in proposed_before:
            raise ValidationError(
                _("%(name)s har redan föreslagits för den här omplaceringen.")
                % {"name": municipality}
            )
        if municipality.police_region_id is None:
            raise ValidationError(
                _("%(name)s har ingen polisregion som kan klarera.") % {"name": municipality}
            )
        proposed_before.add(municipality.pk)
        candidates.append(
            Candidate.objects.create(
                relocation=relocation,
                municipality=municipality,
                sending_agency_id=relocation.sending_agency_id,
                police_agency_id=municipality.police_region_id,
            )
        )
    _enter(relocation, RelocationStatus.CLEARANCE, by=by)
    return candidates


@transaction.atomic
def clearance_answer(*, candidate: Candidate, by: User, cleared: bool, reason: str = "") -> None:
    """The candidate's police region: cleared, or a veto. The reason is the police's alone."""
    relocation = candidate.relocation
    RelocationPolicy.require(by, RelocationAction.ANSWER_CLEARANCE, relocation, candidate)
    relocation = _locked(relocation, _CLEARING_STATUSES)
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.clearance:
        raise ValidationError(_("Kommunen är redan bedömd."))
    if not cleared and not reason.strip():
        raise ValidationError(_("Ange skälet till vetot."))
    candidate.clearance = Clearance.CLEARED if cleared else Clearance.VETO
    candidate.clearance_reason = reason.strip()
    candidate.cleared_at = timezone.now()
    candidate.save(update_fields=["clearance", "clearance_reason", "cleared_at"])
    relocation_audit(
        actor=by,
        action=AuditAction.RELOCATION_TRANSITION,
        obj=candidate,
        relocation=relocation,
        reason=f"clearance:{candidate.clearance}",
    )
    if candidate.clearance == Clearance.CLEARED and relocation.status == RelocationStatus.CLEARANCE:
        # A cleared candidate waits for the national coordinator's offer.
        turn = (relocation.coordinating_agency_id, RelocationAction.SEND_OFFER, None)
        _notify_turns(relocation, [turn], by=by)
    _back_to_matching_if_none_left(relocation, by=by)


# The police may answer for the other candidates while one holds an offer.
_CLEARING_STATUSES = frozenset(
    {RelocationStatus.MATCHING, RelocationStatus.CLEARANCE, RelocationStatus.OFFERED}
)


def _back_to_matching_if_none_left(relocation: Relocation, *, by: User | None) -> None:
    """With no candidate waiting for the police or for an offer, the request is matched
    anew."""
    waiting = relocation.candidates.filter(
        Q(clearance="") | (Q(clearance=Clearance.CLEARED) & Q(offer=""))
    )
    if relocation.status == RelocationStatus.CLEARANCE and not waiting.exists():
        _enter(relocation, RelocationStatus.MATCHING, by=by)


@transaction.atomic
def offer_send(*, candidate: Candidate, by: User) -> None:
    relocation = candidate.relocation
    RelocationPolicy.require(by, RelocationAction.SEND_OFFER, relocation)
    relocation = _locked(relocation, {RelocationStatus.CLEARANCE, RelocationStatus.MATCHING})
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.relocation_id != relocation.pk:
        raise ValidationError(_("Kommunen hör inte till omplaceringen."))
    if candidate.clearance != Clearance.CLEARED or candidate.offer:
        raise ValidationError(_("Bara en klarerad kommun som inte fått erbjudandet kan få det."))
    today = timezone.localdate()
    candidate.offer = OfferStatus.SENT
    candidate.offer_sent_at = timezone.now()
    candidate.offer_due_on = add_working_days(today, settings.AVHOPP_OFFER_ANSWER_WORKING_DAYS)
    candidate.save(update_fields=["offer", "offer_sent_at", "offer_due_on"])
    _enter(relocation, RelocationStatus.OFFERED, by=by, obj=candidate)


def offer_answer(
    *,
    candidate: Candidate,
    by: User,
    accepted: bool,
    intake_contact: str = "",
    decline_reason: str = "",
) -> None:
    """Accept (with an intake contact) or decline (with a reason). An answer after the
    deadline finds the offer expired (committed first, on its own)."""
    relocation_expire_due(relocation_id=candidate.relocation_id)
    _offer_answer(
        candidate=candidate,
        by=by,
        accepted=accepted,
        intake_contact=intake_contact,
        decline_reason=decline_reason,
    )


@transaction.atomic
def _offer_answer(
    *, candidate: Candidate, by: User, accepted: bool, intake_contact: str, decline_reason: str
) -> None:
    # The relocation's row is locked first, whatever its step: of two answers given at once
    # the second waits, then finds the offer answered (or expired) and is told so.
    relocation = _locked(candidate.relocation, frozenset(RelocationStatus))
    candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.municipality_id == by.agency_id and candidate.offer == OfferStatus.EXPIRED:
        raise ValidationError(_("Svarstiden har gått ut. Förfrågan är tillbaka i matchningen."))
    if candidate.municipality_id == by.agency_id and candidate.offer != OfferStatus.SENT:
        raise ValidationError(_("Erbjudandet är redan besvarat."))
    RelocationPolicy.require(by, RelocationAction.ANSWER_OFFER, relocation, candidate)
    candidate.offer_answered_at = timezone.now()
    if accepted:
        if not intake_contact.strip():
            raise ValidationError(_("Ange en kontakt för mottagandet."))
        candidate.offer, candidate.intake_contact = OfferStatus.ACCEPTED, intake_contact.strip()
        candidate.save(update_fields=["offer", "intake_contact", "offer_answered_at"])
        _enter(
            relocation,
            RelocationStatus.ACCEPTED,
            by=by,
            obj=candidate,
            receiving_agency_id=candidate.municipality_id,
            clearing_police_id=candidate.police_agency_id,
        )
        return
    if decline_reason not in DeclineReason.values:
        raise ValidationError(_("Välj ett skäl till att erbjudandet avböjs."))
    candidate.offer, candidate.decline_reason = OfferStatus.DECLINED, decline_reason
    candidate.save(update_fields=["offer", "decline_reason", "offer_answered_at"])
    _enter(relocation, RelocationStatus.MATCHING, by=by, obj=candidate)


@transaction.atomic
def placement_record(
    *, relocation: Relocation, by: User, housing: str, address: str, move_date: date
) -> Placement:
    RelocationPolicy.require(by, RelocationAction.ARRANGE, relocation)
    relocation = _locked(relocation, {RelocationStatus.ACCEPTED})
    if move_date < relocation.requested_at.date():
        raise ValidationError(_("Flyttdatumet kan inte ligga före begäran."))
    placement = Placement(
        relocation=relocation, housing=housing, address=address.strip(), move_date=move_date
    )
    placement.full_clean()
    placement.save()
    PlacementAgreement.objects.create(relocation=relocation)
    _enter(relocation, RelocationStatus.ARRANGED, by=by)
    transaction.on_commit(lambda: enqueue_agreement(relocation.pk))
    return placement


def enqueue_agreement(relocation_id: int) -> bool:
    """Publish the agreement's job. With the broker down the periodic requeue publishes it
    later (agreements_requeue_stale)."""
    from relocations.tasks import generate_agreement  # the tasks import this module

    return jobs.publish(generate_agreement, relocation_id)


def agreements_requeue_stale(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-publish agreements queued long ago and never made (the broker was down, or a
    worker vanished)."""
    from relocations.tasks import generate_agreement

    owed = PlacementAgreement.objects.filter(generated_at__isnull=True)
    return jobs.requeue_stale(
        owed, task=generate_agreement, older_than=older_than, key="relocation_id"
    )


@transaction.atomic
def move_confirm(*, relocation: Relocation, by: User, moved_on: date) -> None:
    RelocationPolicy.require(by, RelocationAction.ARRANGE, relocation)
    relocation = _locked(relocation, {RelocationStatus.ARRANGED})
    if moved_on > timezone.localdate():
        raise ValidationError(_("Flytten kan bara bekräftas när den har skett."))
    if moved_on < relocation.requested_at.date():
        raise ValidationError(_("Flyttdatumet kan inte ligga före begäran."))
    Placement.objects.filter(relocation=relocation).update(moved_on=moved_on)
    _enter(relocation, RelocationStatus.MOVED, by=by)


@transaction.atomic
def handover_request(*, relocation: Relocation, by: User, closing_summary: str) -> None:
    """The sending municipality asks the receiving one to take the case over; it keeps the
    closing summary, which must not say where the person went."""
    RelocationPolicy.require(by, RelocationAction.REQUEST_HANDOVER, relocation)
    relocation = _locked(relocation, {RelocationStatus.MOVED})
    summary = closing_summary.strip()
    if not summary:
        raise ValidationError(_("Skriv en avslutande sammanfattning."))
    if _names_destination(summary, relocation.receiving_agency):
        raise ValidationError(_("Sammanfattningen får inte nämna vart personen har flyttat."))
    _enter(
        relocation,
        RelocationStatus.HANDOVER,
        by=by,
        closing_summary=summary,
        handover_requested_at=timezone.now(),
        handover_due_on=one_month_after(timezone.localdate()),
    )


def _names_destination(text: str, receiving: Agency) -> bool:
    """The receiving municipality's name, or its first word ("Malmö" of "Malmö stad, ...")."""
    lowered = text.casefold()
    name = receiving.name.casefold()
    first = name.replace(",", " ").split()[0]
    return name in lowered or (len(first) >= 3 and first in lowered)


def handover_answer(*, relocation: Relocation, by: User, accepted: bool, reason: str = "") -> None:
    """On acceptance the case moves to the receiving municipality (cases.services
    .case_transfer); a refusal makes the handover disputed, for an application to IVO. An
    answer after the month finds it disputed already (committed first, on its own)."""
    relocation_expire_due(relocation_id=relocation.pk)
    _handover_answer(relocation=relocation, by=by, accepted=accepted, reason=reason)


@transaction.atomic
def _handover_answer(*, relocation: Relocation, by: User, accepted: bool, reason: str) -> None:
    RelocationPolicy.require(by, RelocationAction.ARRANGE, relocation)
    relocation = _locked(relocation, {RelocationStatus.HANDOVER})
    if not accepted:
        if not reason.strip():
            raise ValidationError(_("Ange varför överlämningen avböjs."))
        _enter(
            relocation,
            RelocationStatus.DISPUTED,
            by=by,
            reason="refused",
            handover_refusal=reason.strip(),
        )
        return
    case = (
        Case.objects.select_for_update().select_related("owning_agency").get(pk=relocation.case_id)
    )
    revoked = case_services.case_transfer(
        case=case, to_agency=relocation.receiving_agency, responsible=by, by=by
    )
    _enter(
        relocation,
        RelocationStatus.HANDED_OVER,
        by=by,
        reason=f"shares_revoked:{revoked}",
        closed_at=timezone.now(),
    )


@transaction.atomic
def ivo_record(*, relocation: Relocation, by: User, reference: str, outcome: str = "") -> None:
    RelocationPolicy.require(by, RelocationAction.REQUEST_HANDOVER, relocation)
    relocation = _locked(relocation, {RelocationStatus.DISPUTED})
    if not reference.strip():
        raise ValidationError(_("Ange IVO:s diarienummer."))
    relocation.ivo_reference, relocation.ivo_outcome = reference.strip(), outcome.strip()
    relocation.full_clean()
    relocation.save(update_fields=["ivo_reference", "ivo_outcome", "updated_at"])
    relocation_audit(
        actor=by,
        action=AuditAction.RELOCATION_TRANSITION,
        relocation=relocation,
        reason="ivo",
    )


@transaction.atomic
def relocation_abort(*, relocation: Relocation, by: User, reason: str) -> None:
    RelocationPolicy.require(by, RelocationAction.ABORT, relocation)
    relocation = _locked(relocation, OPEN_STATUSES)
    if reason not in AbortReason.values:
        raise ValidationError(_("Välj ett skäl till avbrottet."))
    # An open offer ends with the request.
    relocation.candidates.filter(offer=OfferStatus.SENT).update(offer=OfferStatus.EXPIRED)
    _enter(
        relocation,
        RelocationStatus.ABORTED,
        by=by,
        reason=reason,
        abort_reason=reason,
        closed_at=timezone.now(),
    )


def relocations_expire() -> int:
    """Offers unanswered past their working days go back to matching; handovers unanswered
    for a month become disputed. Run periodically by Celery beat, and before any answer."""
    today = timezone.localdate()
    due = Relocation.objects.filter(
        Q(status=RelocationStatus.OFFERED, candidates__offer=OfferStatus.SENT)
        & Q(candidates__offer_due_on__lt=today)
        | Q(status=RelocationStatus.HANDOVER, handover_due_on__lt=today)
    )
    return sum(relocation_expire_due(relocation_id=pk) for pk in due.values_list("pk", flat=True))


@transaction.atomic
def relocation_expire_due(*, relocation_id: int) -> bool:
    """Whether an answer this relocation waited for was overdue, and is now: an offer past
    its working days is expired and the request is matched anew; a handover unanswered for
    a month (SoL) is disputed."""
    today = timezone.localdate()
    relocation = Relocation.objects.select_for_update().get(pk=relocation_id)
    if relocation.status == RelocationStatus.OFFERED:
        candidate = (
            relocation.candidates.select_for_update()
            .filter(offer=OfferStatus.SENT, offer_due_on__lt=today)
            .first()
        )
        if candidate is None:
            return False
        candidate.offer = OfferStatus.EXPIRED
        candidate.save(update_fields=["offer"])
        _enter(relocation, RelocationStatus.MATCHING, by=None, obj=candidate, reason="expired")
        return True
    if relocation.status == RelocationStatus.HANDOVER and relocation.handover_due_on < today:
        _enter(relocation, RelocationStatus.DISPUTED, by=None, reason="no_answer")
        return True
    return False


def _locked(relocation: Relocation, allowed: set[str] | frozenset[str]) -> Relocation:
    """The relocation's row, locked until the transaction ends, in one of the steps the
    transition starts from; else a message naming the step it is in."""
    locked = (
        Relocation.objects.select_for_update(of=("self",))
        .select_related("sending_agency", "receiving_agency")
        .get(pk=relocation.pk)
    )
    if locked.status not in allowed:
        raise ValidationError(
            _("Omplaceringen är i steget %(step)s och det går inte att göra det nu.")
            % {"step": locked.status_label}
        )
    return locked


def _enter(
    relocation: Relocation,
    status: RelocationStatus,
    *,
    by: User | None,
    obj: models.Model | None = None,
    reason: str = "",
    **fields: object,
) -> None:
    """Enter a step, saving with it the fields that step sets (in one UPDATE, so that the
    table's consistency checks see them together), dated and audited."""
    relocation.status = status
    for name, value in fields.items():
        setattr(relocation, name, value)
    relocation.save(update_fields=["status", "updated_at", *fields])
    RelocationStep.objects.create(relocation=relocation, status=status, by=by)
    relocation_audit(
        actor=by,
        action=AuditAction.RELOCATION_TRANSITION,
        obj=obj,
        relocation=relocation,
        reason=f"{status}{f':{reason}' if reason else ''}",
    )
    _notify_turns(relocation, _turns(relocation), by=by)


# Whose turn a step is: an agency, and the action its users must be allowed (the step's own
# checks, relocations.policy); the candidates' steps are each candidate's.
Turn = tuple[int | None, RelocationAction, Candidate | None]
_TURNS = {
    RelocationStatus.MATCHING: ("coordinating_agency_id", RelocationAction.PROPOSE),
    RelocationStatus.ACCEPTED: ("receiving_agency_id", RelocationAction.ARRANGE),
    RelocationStatus.ARRANGED: ("receiving_agency_id", RelocationAction.ARRANGE),
    RelocationStatus.HANDOVER: ("receiving_agency_id", RelocationAction.ARRANGE),
    RelocationStatus.MOVED: ("sending_agency_id", RelocationAction.REQUEST_HANDOVER),
    RelocationStatus.DISPUTED: ("sending_agency_id", RelocationAction.REQUEST_HANDOVER),
}


def _turns(relocation: Relocation) -> list[Turn]:
    candidates = relocation.candidates.order_by("pk")
    if relocation.status == RelocationStatus.CLEARANCE:
        return [
            (c.police_agency_id, RelocationAction.ANSWER_CLEARANCE, c)
            for c in candidates.filter(clearance="")
        ]
    if relocation.status == RelocationStatus.OFFERED:
        return [
            (c.municipality_id, RelocationAction.ANSWER_OFFER, c)
            for c in candidates.filter(offer=OfferStatus.SENT)
        ]
    if relocation.status in _TURNS:
        field, action = _TURNS[relocation.status]
        return [(getattr(relocation, field), action, None)]
    return []


def _notify_turns(relocation: Relocation, turns: list[Turn], *, by: User | None) -> None:
    """Tell those whose turn it is now that a step waits: never where, nor for whom."""
    for agency_id, action, candidate in turns:

        def may(
            user: User, action: RelocationAction = action, candidate: Candidate | None = candidate
        ) -> bool:
            return RelocationPolicy.allows(user, action, relocation, candidate) and (
                RelocationPolicy.visible_to(user).filter(pk=relocation.pk).exists()
            )

        notify(
            users=users_of([agency_id], may),
            kind=NotificationKind.RELOCATION_STEP,
            url=relocation.get_absolute_url(),
            by=by,
        )
