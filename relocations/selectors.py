"""Permission-aware reads of relocations. The destination is read only through
`destination_of`, which asks the policy and logs every read against the case."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from statistics import mean
from typing import TYPE_CHECKING

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avhopp.audit import audit_denied
from avhopp.models import AuditAction
from cases.models import Gender
from relocations.audit import relocation_audit
from relocations.models import (
    Candidate,
    Clearance,
    OfferStatus,
    Placement,
    Relocation,
    RelocationStatus,
    RelocationStep,
)
from relocations.policy import RelocationAction, RelocationPolicy

if TYPE_CHECKING:
    from avhopp.models import User


def relocations_visible_to(user: User) -> QuerySet[Relocation]:
    return RelocationPolicy.visible_to(user)


def get_relocation_for_user(user: User, pk: int, action: RelocationAction) -> Relocation:
    """404 for a relocation the user does not take part in, 403 for a step not theirs."""
    relocation = (
        relocations_visible_to(user)
        .select_related("sending_agency", "case__individual")
        .filter(pk=pk)
        .first()
    )
    if relocation is None:
        audit_denied(actor=user, object_type="relocations.Relocation", object_id=pk, case_id=None)
        raise Http404
    RelocationPolicy.check(user, action, relocation)
    return relocation


def get_candidate_for_user(user: User, relocation: Relocation, pk: int) -> Candidate:
    """A candidate of the relocation the user may see (404 otherwise)."""
    candidate = (
        RelocationPolicy.candidates_visible_to(user, relocation)
        .select_related("municipality")
        .filter(pk=pk)
        .first()
    )
    if candidate is None:
        raise Http404
    candidate.relocation = relocation
    return candidate


@dataclass(frozen=True)
class Destination:
    name: str
    address: str | None  # None: not the reader's to see
    housing: str
    move_date: date | None
    moved_on: date | None


def destination_of(user: User, relocation: Relocation) -> Destination | None:
    """The receiving municipality, and the new address where the reader may see it; None when
    there is none yet or the reader may see neither. Every read is logged with the case, so
    it shows in who has read the case."""
    if relocation.receiving_agency_id is None or not RelocationPolicy.allows(
        user, RelocationAction.VIEW_DESTINATION_NAME, relocation
    ):
        return None
    sees_address = RelocationPolicy.allows(
        user, RelocationAction.VIEW_DESTINATION_ADDRESS, relocation
    )
    placement = Placement.objects.filter(relocation=relocation).first()
    relocation_audit(
        actor=user,
        action=AuditAction.DESTINATION_VIEW,
        relocation=relocation,
        reason="name+address" if sees_address and placement else "name",
    )
    return Destination(
        name=relocation.receiving_agency.name,
        address=placement.address if sees_address and placement else None,
        housing=placement.get_housing_display() if placement else "",
        move_date=placement.move_date if placement else None,
        moved_on=placement.moved_on if placement else None,
    )


# --- The blind request ----------------------------------------------------------------------

AGE_BANDS = ((18, "under 18"), (21, "18-20"), (26, "21-25"), (31, "26-30"), (41, "31-40"))


def age_band(born: date | None, today: date) -> str:
    if born is None:
        return _("okänd")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return next((label for limit, label in AGE_BANDS if age < limit), "41+")


@dataclass(frozen=True)
class AvoidedShown:
    place: str
    reason: str  # "" when none, or the police's and the reader is not police
    police_only: bool


@dataclass(frozen=True)
class BlindRequest:
    """What matching needs and nothing that identifies the person."""

    age_band: str
    gender: str
    threat_level: str
    urgency: str
    housing_need: str
    ivo_permit: str
    people_moving: int
    children_moving: int
    needs_summary: str
    avoided: list[AvoidedShown]


def blind_request(user: User, relocation: Relocation) -> BlindRequest:
    person, case = relocation.case.individual, relocation.case
    reads_police = RelocationPolicy.allows(user, RelocationAction.READ_POLICE_REASONS, relocation)
    avoided = [
        AvoidedShown(
            place=str(place),
            reason=place.reason if reads_police or not place.police_only else "",
            police_only=place.police_only,
        )
        for place in relocation.avoided_places.select_related("municipality")
    ]
    return BlindRequest(
        age_band=age_band(person.birth_date, timezone.localdate()),
        gender=Gender(person.gender).label if person.gender else _("okänt"),
        threat_level=case.threat_level_label or _("ingen bedömning"),
        urgency=relocation.get_urgency_display(),
        housing_need=relocation.get_housing_need_display(),
        ivo_permit=relocation.ivo_permit,
        people_moving=relocation.people_moving,
        children_moving=relocation.children_moving,
        needs_summary=relocation.needs_summary,
        avoided=avoided,
    )


# --- What waits for whom (the start page) ---------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    relocation_id: int
    reference: str
    what: str
    since: datetime
    due: date | None = None

    @property
    def days(self) -> int:
        return (timezone.now() - self.since).days


def _step_since() -> Subquery:
    return Subquery(
        RelocationStep.objects.filter(relocation_id=OuterRef("pk"))
        .order_by("-entered_at", "-id")
        .values("entered_at")[:1]
    )


# A coordinator's own next step, by the side it is on and the relocation's step.
_RECEIVING_NEXT = {
    RelocationStatus.ACCEPTED: gettext_lazy("Ordna placeringen"),
    RelocationStatus.ARRANGED: gettext_lazy("Bekräfta flytten"),
    RelocationStatus.HANDOVER: gettext_lazy("Ta över ärendet"),
}
_SENDING_NEXT = {
    RelocationStatus.MOVED: gettext_lazy("Begär överlämning"),
    RelocationStatus.DISPUTED: gettext_lazy("Registrera ansökan till IVO"),
}


def waiting_for(user: User) -> list[Waiting]:
    """Requests to match, offers to send, clearances to give, offers to answer, placements
    to arrange and handovers to request and accept, the oldest first. Never a destination:
    the reference and the wait only. One query per kind of party, whatever the number."""
    roles = RelocationPolicy.waiting_roles(user)
    visible = relocations_visible_to(user)
    rows: list[Waiting] = []
    candidates = Candidate.objects.filter(relocation__in=visible).select_related("relocation")
    if roles["match"]:
        # A cleared candidate with no offer yet waits for the national coordinator too.
        to_offer = Candidate.objects.filter(
            relocation_id=OuterRef("pk"), clearance=Clearance.CLEARED, offer=""
        ).order_by("cleared_at")
        to_match = visible.filter(
            Q(status=RelocationStatus.MATCHING)
            | Q(status=RelocationStatus.CLEARANCE, pk__in=to_offer.values("relocation_id"))
        ).annotate(since=_step_since(), cleared=Subquery(to_offer.values("cleared_at")[:1]))
        rows += [
            Waiting(r.pk, r.reference, _("Matcha förfrågan"), r.since)
            if r.status == RelocationStatus.MATCHING
            else Waiting(r.pk, r.reference, _("Skicka erbjudande"), r.cleared)
            for r in to_match[:50]
        ]
    if roles["clear"]:
        to_clear = candidates.filter(
            police_agency_id=user.agency_id,
            clearance="",
            relocation__status__in=[RelocationStatus.CLEARANCE, RelocationStatus.OFFERED],
        )
        rows += [
            Waiting(c.relocation_id, c.relocation.reference, _("Klarera kommun"), c.proposed_at)
            for c in to_clear[:50]
        ]
    if roles["answer"]:
        offers = candidates.filter(municipality_id=user.agency_id, offer=OfferStatus.SENT)
        rows += [
            Waiting(
                c.relocation_id,
                c.relocation.reference,
                _("Besvara erbjudande"),
                c.offer_sent_at,
                c.offer_due_on,
            )
            for c in offers[:50]
        ]
        own_steps = visible.filter(
            Q(receiving_agency_id=user.agency_id, status__in=list(_RECEIVING_NEXT))
            | Q(sending_agency_id=user.agency_id, status=RelocationStatus.MOVED)
            | Q(
                sending_agency_id=user.agency_id,
                status=RelocationStatus.DISPUTED,
                ivo_reference="",
            )
        ).annotate(since=_step_since())
        rows += [
            Waiting(
                r.pk,
                r.reference,
                str(
                    _RECEIVING_NEXT[r.status]
                    if r.receiving_agency_id == user.agency_id
                    else _SENDING_NEXT[r.status]
                ),
                r.since,
                r.handover_due_on if r.status == RelocationStatus.HANDOVER else None,
            )
            for r in own_steps[:50]
        ]
    return sorted(rows, key=lambda row: row.since)


# --- Figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    days_per_step: dict[str, float]  # step label -> days spent in it
    request_to_move: int | None  # days from the request to the move


def _days(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() / 86400, 1)


def _figures(relocation: Relocation, steps: list[RelocationStep], moved_on: date | None) -> Figures:
    spent: dict[str, float] = defaultdict(float)
    now = timezone.now()
    for step, following in zip(steps, [*steps[1:], None], strict=True):
        if following is None and step.status in (
            RelocationStatus.HANDED_OVER,
            RelocationStatus.ABORTED,
        ):
            break  # an ended relocation spends no time in its last step
        end = following.entered_at if following else now
        spent[RelocationStatus(step.status).label] += _days(step.entered_at, end)
    to_move = (moved_on - timezone.localdate(relocation.requested_at)).days if moved_on else None
    return Figures(days_per_step=dict(spent), request_to_move=to_move)


def relocation_figures(relocation: Relocation) -> Figures:
    moved_on = Placement.objects.filter(relocation=relocation).values_list("moved_on", flat=True)
    return _figures(relocation, list(relocation.steps.all()), next(iter(moved_on), None))


@dataclass(frozen=True)
class Totals:
    count: int
    by_status: dict[str, int]
    mean_days_per_step: dict[str, float]
    mean_request_to_move: float | None
    moved: int


def relocation_totals(user: User) -> Totals:
    """Over the relocations the national coordinator coordinates (the national statistics
    take these later): a few queries whatever the number."""
    relocations = list(relocations_visible_to(user))
    steps: dict[int, list[RelocationStep]] = defaultdict(list)
    for step in RelocationStep.objects.filter(relocation__in=relocations).order_by(
        "entered_at", "id"
    ):
        steps[step.relocation_id].append(step)
    moved = dict(
        Placement.objects.filter(relocation__in=relocations, moved_on__isnull=False).values_list(
            "relocation_id", "moved_on"
        )
    )
    figures = [_figures(r, steps[r.pk], moved.get(r.pk)) for r in relocations]
    per_step: dict[str, list[float]] = defaultdict(list)
    for figure in figures:
        for label, days in figure.days_per_step.items():
            per_step[label].append(days)
    to_move = [f.request_to_move for f in figures if f.request_to_move is not None]
    by_status: dict[str, int] = defaultdict(int)
    for relocation in relocations:
        by_status[relocation.status_label] += 1
    return Totals(
        count=len(relocations),
        by_status=dict(by_status),
        mean_days_per_step={label: round(mean(days), 1) for label, days in per_step.items()},
        mean_request_to_move=round(mean(to_move), 1) if to_move else None,
        moved=len(to_move),
    )
