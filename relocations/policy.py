"""Who may see which relocations, take which step, and read the destination. Every such
decision is made here; views, selectors, services and templates ask.

A relocation is visible to those who take part in it: the sending municipality's
coordinators and the case's responsible worker, the national coordination the consent names,
the police region covering the sending municipality (the threat) and the police region of each
candidate (the clearance), a candidate municipality's coordinators while an offer to it is
open, and the receiving municipality's coordinators once it accepted. Nobody else, whatever
their role in those agencies: they get 404.

The destination is a decision of its own (VIEW_DESTINATION_NAME, VIEW_DESTINATION_ADDRESS):
the receiving municipality, the national coordination and the police region that cleared it
read both; at the sending municipality only its coordinators and the responsible worker read
the name (they decide and pay), and nobody the address. The national coordinator never reads
the person's identity or the journal: the request is blind to everyone but the sending side
and, once it accepted, the receiving municipality.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet

from avhopp.models import AgencyKind, Role
from avhopp.policy import agency_kind
from cases.models import Case
from cases.policy import CaseAction, CasePolicy
from relocations.models import Candidate, OfferStatus, Relocation

if TYPE_CHECKING:
    from avhopp.models import User


class RelocationAction(models.TextChoices):
    LIST = "list"  # the start page's waiting list and the relocation list (no relocation)
    VIEW = "view"
    VIEW_IDENTITY = "view_identity"  # the person's name and the case
    VIEW_DESTINATION_NAME = "view_destination_name"
    VIEW_DESTINATION_ADDRESS = "view_destination_address"
    READ_POLICE_REASONS = "read_police_reasons"
    VIEW_ALL_CANDIDATES = "view_all_candidates"
    VIEW_FIGURES = "view_figures"
    ADD_AVOIDED_PLACE = "add_avoided_place"
    PROPOSE = "propose"
    SEND_OFFER = "send_offer"
    ANSWER_CLEARANCE = "answer_clearance"  # needs the candidate
    ANSWER_OFFER = "answer_offer"  # needs the candidate
    ARRANGE = "arrange"  # the placement, the move and the answer to a handover
    REQUEST_HANDOVER = "request_handover"  # also the IVO application of a disputed one
    ABORT = "abort"
    DOWNLOAD_AGREEMENT = "download_agreement"


class RelocationPolicy:
    @staticmethod
    def visible_to(user: User) -> QuerySet[Relocation]:
        if not RelocationPolicy.allows(user, RelocationAction.LIST):
            return Relocation.objects.none()
        agency_id = user.agency_id
        if _is_national(user):
            return Relocation.objects.filter(coordinating_agency_id=agency_id)
        if _is_police(user):
            clearing = Candidate.objects.filter(
                relocation_id=OuterRef("pk"), police_agency_id=agency_id
            )
            return Relocation.objects.filter(
                Q(sending_agency__police_region_id=agency_id) | Exists(clearing)
            )
        if _is_municipal_coordinator(user):
            offered = Candidate.objects.filter(
                relocation_id=OuterRef("pk"), municipality_id=agency_id, offer=OfferStatus.SENT
            )
            return Relocation.objects.filter(
                Q(sending_agency_id=agency_id) | Q(receiving_agency_id=agency_id) | Exists(offered)
            )
        return Relocation.objects.filter(sending_responsible=user)

    @staticmethod
    def allows(
        user: User,
        action: RelocationAction,
        relocation: Relocation | None = None,
        candidate: Candidate | None = None,
    ) -> bool:
        """`relocation` is one visible to the user (None for LIST); `candidate` one of its
        candidates, for the answers a candidate's police or municipality give."""
        if action == RelocationAction.LIST:
            return (
                _is_national(user)
                or _is_police(user)
                or _is_municipal_coordinator(user)
                or (_in_kind(user, AgencyKind.SOCIAL_SERVICES) and user.role == Role.SOCIAL_WORKER)
            )
        if relocation is None:
            # The totals over all relocations the national coordination coordinates.
            return action == RelocationAction.VIEW_FIGURES and _is_national(user)
        agency_id = user.agency_id
        sender = relocation.sending_agency_id == agency_id and (
            _is_municipal_coordinator(user) or relocation.sending_responsible_id == user.pk
        )
        sending_coordinator = sender and _is_municipal_coordinator(user)
        national = _is_national(user) and relocation.coordinating_agency_id == agency_id
        receiver = (
            relocation.receiving_agency_id == agency_id
            and relocation.receiving_agency_id is not None
            and _is_municipal_coordinator(user)
        )
        clearing_police = (
            _is_police(user)
            and relocation.clearing_police_id is not None
            and relocation.clearing_police_id == agency_id
        )
        match action:
            case RelocationAction.VIEW:
                return True
            case RelocationAction.VIEW_IDENTITY:
                return sender or receiver
            case RelocationAction.VIEW_DESTINATION_NAME:
                return sender or receiver or national or clearing_police
            case RelocationAction.VIEW_DESTINATION_ADDRESS:
                return receiver or national or clearing_police
            case RelocationAction.READ_POLICE_REASONS:
                # Only police taking part (visible relocation): the region of the threat, or
                # of a candidate.
                return _is_police(user)
            case RelocationAction.VIEW_ALL_CANDIDATES | RelocationAction.VIEW_FIGURES:
                return national
            case RelocationAction.PROPOSE | RelocationAction.SEND_OFFER:
                return national
            case RelocationAction.ADD_AVOIDED_PLACE:
                return sending_coordinator or (
                    _is_police(user) and relocation.sending_agency.police_region_id == agency_id
                )
            case RelocationAction.ANSWER_CLEARANCE:
                return (
                    candidate is not None
                    and _is_police(user)
                    and candidate.police_agency_id == agency_id
                )
            case RelocationAction.ANSWER_OFFER:
                return (
                    candidate is not None
                    and _is_municipal_coordinator(user)
                    and candidate.municipality_id == agency_id
                )
            case RelocationAction.ARRANGE:
                return receiver
            case RelocationAction.REQUEST_HANDOVER:
                return sending_coordinator
            case RelocationAction.ABORT:
                return sending_coordinator or national
            case RelocationAction.DOWNLOAD_AGREEMENT:
                return sender or receiver or national
        return False

    @staticmethod
    def check(
        user: User,
        action: RelocationAction,
        relocation: Relocation | None = None,
        candidate: Candidate | None = None,
    ) -> None:
        if not RelocationPolicy.allows(user, action, relocation, candidate):
            raise PermissionDenied

    @staticmethod
    def require(
        user: User,
        action: RelocationAction,
        relocation: Relocation,
        candidate: Candidate | None = None,
    ) -> None:
        """The services' own check, whoever calls them: the relocation must be visible to the
        user and the action allowed."""
        if not RelocationPolicy.visible_to(user).filter(pk=relocation.pk).exists():
            raise PermissionDenied
        RelocationPolicy.check(user, action, relocation, candidate)

    @staticmethod
    def may_request(user: User, case: Case) -> bool:
        """The case's own coordinators ask for a relocation (the case must be visible)."""
        return CasePolicy.allows(user, CaseAction.RELOCATE, case)

    @staticmethod
    def require_request(user: User, case: Case) -> None:
        CasePolicy.require(user, CaseAction.RELOCATE, case)

    @staticmethod
    def candidates_visible_to(user: User, relocation: Relocation) -> QuerySet[Candidate]:
        """The national coordinator sees every candidate; a police region those it clears; a
        municipality its own; the sending side none (a candidate is not a destination)."""
        candidates = Candidate.objects.filter(relocation=relocation)
        if RelocationPolicy.allows(user, RelocationAction.VIEW_ALL_CANDIDATES, relocation):
            return candidates
        if _is_police(user):
            return candidates.filter(police_agency_id=user.agency_id)
        if _is_municipal_coordinator(user) and relocation.sending_agency_id != user.agency_id:
            return candidates.filter(municipality_id=user.agency_id)
        return candidates.none()

    @staticmethod
    def waiting_roles(user: User) -> dict[str, bool]:
        """Which of the start page's waiting lists are the user's to answer."""
        return {
            "match": _is_national(user),
            "clear": _is_police(user),
            "answer": _is_municipal_coordinator(user),
        }


def _in_kind(user: User, kind: AgencyKind) -> bool:
    return user.is_authenticated and user.agency_id is not None and agency_kind(user) == kind


def _is_national(user: User) -> bool:
    return _in_kind(user, AgencyKind.NATIONAL_COORDINATION) and (
        user.role == Role.NATIONAL_COORDINATOR
    )


def _is_police(user: User) -> bool:
    """The role alone opens nothing: a police officer of a police agency."""
    return _in_kind(user, AgencyKind.POLICE) and user.role == Role.POLICE_OFFICER


def _is_municipal_coordinator(user: User) -> bool:
    return _in_kind(user, AgencyKind.SOCIAL_SERVICES) and user.role == Role.COORDINATOR
