"""Writes. Each state change happens here, in one transaction with its audit event."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from avhopp import jobs
from avhopp.audit import audit_event, audit_record, audit_record_all
from avhopp.models import Agency, AgencyKind, AuditAction, AuditEvent, NotificationKind, User
from avhopp.notifications import notify, reminder_claim, reminders_claimed, users_of
from cases import hooks
from cases.hooks import DecisionKind
from cases.identity import REGISTRATION_REFUSED, birth_date_of
from cases.models import (
    ACTIVE_INTERVENTION_STATUSES,
    END_REASONS,
    OPEN_STATUSES,
    STATUSES_NEEDING_REASON,
    Case,
    CaseShare,
    CaseStatus,
    CaseStatusChange,
    CaseTeamMember,
    Consent,
    ConsentScope,
    CoordinationAlert,
    Individual,
    Intervention,
    InterventionStatus,
    JournalEntry,
    JournalExtract,
    JournalExtractStatus,
    LogSampleReview,
    ProtectionLevel,
    ThreatAssessment,
    allowed_transitions,
)
from cases.policy import AuditLogAction, AuditLogPolicy, CaseAction, CasePolicy

if TYPE_CHECKING:
    from cases.policy import CaseAccess


class IdentityNumberTaken(ValidationError):
    """The number is registered already; `registered` is whom it belongs to, for the log and
    the owner's alert, never for the user who tried."""

    def __init__(self, registered: Individual) -> None:
        super().__init__({"personnummer": [ValidationError(REGISTRATION_REFUSED, code="refused")]})
        self.registered = registered


@transaction.atomic
def individual_create(
    *,
    by: User,
    first_name: str,
    last_name: str,
    personnummer: str | None = None,
    birth_date: date | None = None,
    gender: str = "",
    protection_level: str = ProtectionLevel.NONE,
    phone: str = "",
    address: str = "",
) -> Individual:
    CasePolicy.require(by, CaseAction.CREATE)
    individual = Individual(
        first_name=first_name,
        last_name=last_name,
        personnummer=personnummer,
        birth_date=birth_date,
        gender=gender,
        protection_level=protection_level,
        phone=phone,
        address=address,
    )
    if individual.personnummer:
        individual.birth_date = birth_date_of(individual.personnummer)
        individual.reserve_number = None
    elif not individual.reserve_number:
        individual.reserve_number = _next_reserve_number()
    try:
        individual.full_clean()
        with transaction.atomic():  # a savepoint: the insert may lose a race for the number
            individual.save()
    except (ValidationError, IntegrityError) as error:
        registered = (
            Individual.objects.filter(personnummer=individual.personnummer).first()
            if individual.personnummer
            else None
        )
        if registered is None:
            raise
        # Registered meanwhile (after the form's check): the same answer as the form gives.
        raise IdentityNumberTaken(registered) from error
    audit_record(
        actor=by, action=AuditAction.INDIVIDUAL_CREATE, obj=individual, individual_id=individual.pk
    )
    return individual


@transaction.atomic
def identity_collision_record(*, by: User, registered: Individual | None) -> None:
    """A registration refused for its identity number: `registered` is the person already
    registered under it, None when the number was refused unlooked-at (the policy's limit).

    Two events, so that neither agency's log review learns more than it should. The
    attempter's event carries their agency but no case or person: it is what the rate limit
    counts, and the attempting agency's log reviewer reads it without learning which case the
    number hit. The owner's event carries the case and person but no agency id (the agency's
    name stays, as text): the owning agency reads it through the case, the attempting agency,
    which reads events by agency id, never. The owning agency's coordinators are alerted while
    the case is open.
    """
    CasePolicy.require(by, CaseAction.CREATE)
    events = [
        audit_event(
            actor=by,
            action=AuditAction.IDENTITY_COLLISION,
            reason="" if registered is not None else "rate_limited",
        )
    ]
    if registered is not None:
        # The open case if there is one, else the latest: its owner's log shows the attempt.
        cases = registered.cases.order_by("-opened_at", "-pk")
        open_case = cases.filter(status__in=OPEN_STATUSES).first()
        case = open_case or cases.first()
        owner_event = audit_event(
            actor=by,
            action=AuditAction.IDENTITY_COLLISION,
            case_id=case.pk if case else None,
            individual_id=registered.pk,
        )
        owner_event.agency_id = None
        events.append(owner_event)
        if open_case is not None:
            CoordinationAlert.objects.create(case=open_case, from_agency=by.agency)
    audit_record_all(events)


def _next_reserve_number() -> str:
    # R + year + a random tail: unique by constraint, and it reveals nothing about the person.
    return f"R{timezone.localdate():%Y}{secrets.randbelow(10**8):08d}"


class Keep:
    """The default of an update's arguments: leave the field as it is."""


KEEP: Any = Keep()


def _apply(instance: Any, fields: dict[str, Any], *, touched: tuple[str, ...] = ()) -> None:
    """Set the fields given (not KEEP), validate against the model, and save only those."""
    changed = {name: value for name, value in fields.items() if value is not KEEP}
    for name, value in changed.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save(update_fields=[*changed, *touched])


@transaction.atomic
def individual_update(
    *,
    individual: Individual,
    by: User,
    case: Case,
    first_name: str = KEEP,
    last_name: str = KEEP,
    gender: str = KEEP,
    protection_level: str = KEEP,
    phone: str = KEEP,
    address: str = KEEP,
) -> None:
    """The identity number is fixed once registered."""
    CasePolicy.require(by, CaseAction.EDIT, case)
    if individual.pk != case.individual_id:
        raise ValidationError(_("Personen hör inte till ärendet."))
    fields = {
        "first_name": first_name,
        "last_name": last_name,
        "gender": gender,
        "protection_level": protection_level,
        "phone": phone,
        "address": address,
    }
    individual.updated_at = timezone.now()
    _apply(individual, fields, touched=("updated_at",))
    audit_record(
        actor=by,
        action=AuditAction.INDIVIDUAL_UPDATE,
        obj=individual,
        case_id=case.pk,
        individual_id=individual.pk,
    )


@transaction.atomic
def case_create(
    *,
    by: User,
    individual: Individual,
    referral_source: str,
    motivation_notes: str = "",
    responsible: User | None = None,
) -> Case:
    CasePolicy.require(by, CaseAction.CREATE)
    if responsible is not None:
        CasePolicy.require(responsible, CaseAction.CREATE)
        if responsible.agency_id != by.agency_id:
            raise ValidationError(_("Den ansvariga måste höra till den egna myndigheten."))
    now = timezone.now()
    case = Case.objects.create(
        individual=individual,
        owning_agency=by.agency,
        responsible=responsible or by,
        referral_source=referral_source,
        motivation_notes=motivation_notes,
        opened_at=now,
    )
    CaseStatusChange.objects.create(
        case=case, from_status="", to_status=CaseStatus.REPORTED, changed_by=by, changed_at=now
    )
    # The owning municipality's group holds the grant; role decides what each member does.
    assign_perm("cases.view_case", by.agency.group, case)
    assign_perm("cases.change_case", by.agency.group, case)
    hooks.case_created(case, by)
    audit_record(
        actor=by,
        action=AuditAction.CASE_CREATE,
        obj=case,
        case_id=case.pk,
        individual_id=individual.pk,
    )
    return case


@transaction.atomic
def case_update(
    *,
    case: Case,
    by: User,
    motivation_notes: str = KEEP,
    agreement_signed_on: date | None = KEEP,
    agreement_conditions: str = KEEP,
) -> None:
    CasePolicy.require(by, CaseAction.EDIT, case)
    fields = {
        "motivation_notes": motivation_notes,
        "agreement_signed_on": agreement_signed_on,
        "agreement_conditions": agreement_conditions,
    }
    _apply(case, fields, touched=("updated_at",))
    audit_record(actor=by, action=AuditAction.CASE_UPDATE, obj=case, case_id=case.pk)


# Moving a case into support is the decision on support; ending it, the decision to close.
_STATUS_DECISIONS = {
    CaseStatus.INTERVENTIONS: DecisionKind.SUPPORT,
    CaseStatus.CLOSED: DecisionKind.CLOSURE,
    CaseStatus.DROPPED_OUT: DecisionKind.CLOSURE,
}


@transaction.atomic
def case_change_status(
    *, case: Case, to_status: str, by: User, reason: str = "", end_reason: str = ""
) -> None:
    CasePolicy.require(by, CaseAction.EDIT, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if to_status not in allowed_transitions(case.status):
        raise ValidationError(
            _("Ärendet kan inte gå från %(from)s till %(to)s.")
            % {
                "from": case.get_status_display(),
                "to": dict(CaseStatus.choices).get(to_status, "?"),
            }
        )
    if to_status in STATUSES_NEEDING_REASON and not reason.strip():
        raise ValidationError(_("Ange ett skäl för att avsluta eller avbryta ärendet."))
    if end_reason and end_reason not in END_REASONS.get(to_status, ()):
        raise ValidationError(_("Orsaken hör inte till den statusen."))
    now = timezone.now()
    change = CaseStatusChange.objects.create(
        case=case,
        from_status=case.status,
        to_status=to_status,
        changed_by=by,
        changed_at=now,
        reason=reason.strip(),
    )
    hooks.status_changing(change, by)
    if kind := _STATUS_DECISIONS.get(to_status):
        hooks.decision_taken(kind=kind, case=case, by=by, subject=change)
    case.status = to_status
    fields = ["status", "updated_at"]
    if to_status == CaseStatus.INTERVENTIONS and case.first_support_at is None:
        case.first_support_at = now
        fields.append("first_support_at")
    if to_status in STATUSES_NEEDING_REASON:
        case.closed_at, case.close_reason = now, reason.strip()
        case.end_reason = end_reason
        fields += ["closed_at", "close_reason", "end_reason"]
    case.save(update_fields=fields)
    audit_record(
        actor=by, action=AuditAction.CASE_STATUS, obj=case, case_id=case.pk, reason=to_status
    )


@transaction.atomic
def intervention_create(
    *,
    case: Case,
    by: User,
    kind: str,
    provider_agency: Agency | None = None,
    provider_name: str = "",
    status: str = InterventionStatus.PLANNED,
    decision_date: date | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    follow_up_date: date | None = None,
    goal: str = "",
    outcome: str = "",
) -> Intervention:
    CasePolicy.require(by, CaseAction.EDIT, case)
    intervention = Intervention(
        case=case,
        created_by=by,
        kind=kind,
        provider_agency=provider_agency,
        provider_name=provider_name,
        status=status,
        decision_date=decision_date,
        start_date=start_date,
        end_date=end_date,
        follow_up_date=follow_up_date,
        goal=goal,
        outcome=outcome,
    )
    intervention.full_clean()
    intervention.save()
    if decision_date is not None:
        hooks.decision_taken(kind=DecisionKind.SUPPORT, case=case, by=by, subject=intervention)
    audit_record(
        actor=by, action=AuditAction.INTERVENTION_CREATE, obj=intervention, case_id=case.pk
    )
    return intervention


@transaction.atomic
def intervention_update(
    *,
    intervention: Intervention,
    by: User,
    kind: str = KEEP,
    provider_agency: Agency | None = KEEP,
    provider_name: str = KEEP,
    status: str = KEEP,
    decision_date: date | None = KEEP,
    start_date: date | None = KEEP,
    end_date: date | None = KEEP,
    follow_up_date: date | None = KEEP,
    goal: str = KEEP,
    outcome: str = KEEP,
) -> None:
    CasePolicy.require(by, CaseAction.EDIT, intervention.case)
    fields = {
        "kind": kind,
        "provider_agency": provider_agency,
        "provider_name": provider_name,
        "status": status,
        "decision_date": decision_date,
        "start_date": start_date,
        "end_date": end_date,
        "follow_up_date": follow_up_date,
        "goal": goal,
        "outcome": outcome,
    }
    # The stored date, not the instance's: a refused earlier call may have changed that.
    decided_on = Intervention.objects.values_list("decision_date", flat=True).get(
        pk=intervention.pk
    )
    _apply(intervention, fields, touched=("updated_at",))
    # Setting or moving the decision date is deciding the support (again).
    if intervention.decision_date is not None and intervention.decision_date != decided_on:
        hooks.decision_taken(
            kind=DecisionKind.SUPPORT, case=intervention.case, by=by, subject=intervention
        )
    audit_record(
        actor=by,
        action=AuditAction.INTERVENTION_UPDATE,
        obj=intervention,
        case_id=intervention.case_id,
    )


@transaction.atomic
def journal_entry_create(
    *, case: Case, by: User, text: str, corrects: JournalEntry | None = None
) -> JournalEntry:
    CasePolicy.require(by, CaseAction.EDIT, case)
    if corrects is not None and corrects.case_id != case.pk:
        raise ValidationError(_("Rättelsen måste gälla en anteckning i samma ärende."))
    entry = JournalEntry.objects.create(case=case, author=by, text=text, corrects=corrects)
    audit_record(actor=by, action=AuditAction.JOURNAL_CREATE, obj=entry, case_id=case.pk)
    return entry


@transaction.atomic
def threat_assessment_create(
    *,
    case: Case,
    by: User,
    level: str,
    summary: str,
    next_review_date: date,
    details: str = "",
    protected_address: bool = False,
    relocation: bool = False,
    personal_protection: bool = False,
    other_measures: str = "",
) -> ThreatAssessment:
    CasePolicy.require(by, CaseAction.ADD_THREAT_ASSESSMENT, case)
    assessment = ThreatAssessment(
        case=case,
        assessed_by=by,
        level=level,
        summary=summary,
        details=details,
        protected_address=protected_address,
        relocation=relocation,
        personal_protection=personal_protection,
        other_measures=other_measures,
        next_review_date=next_review_date,
    )
    assessment.full_clean()
    assessment.save()
    # The newest assessment is the current one: copy its level onto the case for lists.
    case.threat_level = assessment.level
    case.threat_review_due = assessment.next_review_date
    case.save(update_fields=["threat_level", "threat_review_due", "updated_at"])
    audit_record(actor=by, action=AuditAction.THREAT_CREATE, obj=assessment, case_id=case.pk)
    return assessment


@transaction.atomic
def consent_create(
    *,
    individual: Individual,
    case: Case,
    by: User,
    recipient: Agency,
    given_on: date,
    document_reference: str,
    valid_until: date | None = None,
    scope_interventions: bool = False,
    scope_threat_level: bool = False,
    scope_journal: bool = False,
    relocation: bool = False,
) -> Consent:
    CasePolicy.require(by, CaseAction.SHARE, case)
    if individual.pk != case.individual_id:
        raise ValidationError(_("Personen hör inte till ärendet."))
    consent = Consent(
        individual=individual,
        created_by=by,
        recipient=recipient,
        given_on=given_on,
        valid_until=valid_until,
        document_reference=document_reference,
        scope_interventions=scope_interventions,
        scope_threat_level=scope_threat_level,
        scope_journal=scope_journal,
        relocation=relocation,
    )
    consent.full_clean()
    consent.save()
    audit_record(
        actor=by,
        action=AuditAction.CONSENT_CREATE,
        obj=consent,
        case_id=case.pk,
        individual_id=individual.pk,
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, by: User | None, case: Case | None = None) -> None:
    """Withdrawal takes effect at once: every share resting on the consent is revoked.
    `by` None is the person's withdrawal recorded by the system (no case at hand)."""
    if by is not None:
        if case is None or consent.individual_id != case.individual_id:
            raise ValidationError(_("Samtycket hör inte till ärendet."))
        CasePolicy.require(by, CaseAction.SHARE, case)
    consent.withdrawn_at = timezone.now()
    consent.save(update_fields=["withdrawn_at"])
    audit_record(
        actor=by,
        action=AuditAction.CONSENT_WITHDRAW,
        obj=consent,
        case_id=case.pk if case else None,
        individual_id=consent.individual_id,
    )
    for share in consent.shares.filter(revoked_at__isnull=True).select_related("case", "agency"):
        _revoke(share, by=by, reason="consent_withdrawn")


def consent_covers(consent: Consent, *, agency: Agency, individual: Individual) -> bool:
    return (
        consent.individual_id == individual.pk
        and consent.recipient_id == agency.pk
        and consent.is_current()
    )


@transaction.atomic
def case_share(
    *,
    case: Case,
    agency: Agency,
    by: User,
    consent: Consent | None = None,
    legal_basis: str = "",
    legal_basis_citation: str = "",
    scopes: frozenset[ConsentScope] = frozenset(),
) -> CaseShare:
    """Share on a current consent covering the agency, or on a recorded legal basis."""
    CasePolicy.require(by, CaseAction.SHARE, case)
    if agency.pk == case.owning_agency_id:
        raise ValidationError(_("Ärendet tillhör redan den myndigheten."))
    if CaseShare.objects.filter(case=case, agency=agency, revoked_at__isnull=True).exists():
        raise ValidationError(_("Ärendet är redan delat med %(agency)s.") % {"agency": agency})
    if consent is not None:
        if not consent_covers(consent, agency=agency, individual=case.individual):
            raise ValidationError(_("Samtycket gäller inte den mottagaren eller har upphört."))
        # The consent's scope is the ceiling: a share can never read more than it allows.
        scopes = (
            frozenset(s for s in scopes if consent.covers(s))
            if scopes
            else frozenset(s for s in ConsentScope if consent.covers(s))
        )
        legal_basis, legal_basis_citation = "", ""
    elif not (legal_basis and legal_basis_citation.strip()):
        raise ValidationError(
            _("Det krävs ett gällande samtycke eller en rättslig grund med hänvisning.")
        )
    share = CaseShare.objects.create(
        case=case,
        agency=agency,
        consent=consent,
        legal_basis=legal_basis,
        legal_basis_citation=legal_basis_citation.strip(),
        expires_on=consent.valid_until if consent else None,
        created_by=by,
        **{f"scope_{scope.value}": True for scope in scopes},
    )
    assign_perm("cases.view_case", agency.group, case)
    audit_record(
        actor=by,
        action=AuditAction.CASE_SHARE,
        obj=share,
        case_id=case.pk,
        reason=f"{legal_basis}: {legal_basis_citation}" if legal_basis else "consent",
    )
    notify(
        users=users_of([agency.pk], _may(case, CaseAction.VIEW)),
        kind=NotificationKind.CASE_SHARED,
        url=case.get_absolute_url(),
        by=by,
    )
    return share


def _may(case: Case, *actions: CaseAction) -> Callable[[User], bool]:
    """Whether a user sees the case and may take one of the actions on it, as its pages ask
    (the checkpoint): the recipients of what the case's notifications lead to."""

    shares = {share.agency_id: share for share in case.shares.filter(revoked_at__isnull=True)}

    def may(user: User) -> bool:
        share = shares.get(user.agency_id)
        return any(CasePolicy.allows(user, action, case, share) for action in actions) and (
            CasePolicy.visible_to(user).filter(pk=case.pk).exists()
        )

    return may


@transaction.atomic
def case_unshare(*, share: CaseShare, by: User) -> None:
    CasePolicy.require(by, CaseAction.SHARE, share.case)
    _revoke(share, by=by, reason="unshared")


def _revoke(share: CaseShare, *, by: User | None, reason: str) -> None:
    share.revoked_at = timezone.now()
    share.revoked_reason = reason
    share.save(update_fields=["revoked_at", "revoked_reason"])
    remove_perm("cases.view_case", share.agency.group, share.case)
    audit_record(
        actor=by, action=AuditAction.CASE_UNSHARE, obj=share, case_id=share.case_id, reason=reason
    )
    _team_leave(
        CaseTeamMember.objects.filter(case_id=share.case_id, user__agency_id=share.agency_id),
        by=by,
        reason=reason,
    )


def case_transfer(*, case: Case, to_agency: Agency, responsible: User, by: User) -> int:
    """Move a case to another municipality ("flytt av ärende"); the number of shares revoked.

    The owning grants move, so the sending municipality no longer sees the case. Every active
    share is revoked: each rested on the sending municipality's decision. The consents the
    sending municipality recorded end too: a consent lets the municipality that asked for it
    share, so the new owner asks the person anew before it shares or refers. Who may transfer
    is the caller's policy (relocations.policy, a receiving coordinator accepting a handover):
    nobody at the new owner can see the case before, so no case action fits. Call inside the
    caller's transaction."""
    if to_agency.kind != AgencyKind.SOCIAL_SERVICES or responsible.agency_id != to_agency.pk:
        raise ValidationError(_("Ärendet kan bara flyttas till en kommuns socialtjänst."))
    shares = list(
        CaseShare.objects.filter(case=case, revoked_at__isnull=True).select_related("agency")
    )
    # Before the grants move: revoking a share to the new owner removes its group's view.
    for share in shares:
        _revoke(share, by=by, reason="case_transferred")
    consents = list(
        Consent.objects.filter(
            individual_id=case.individual_id,
            withdrawn_at__isnull=True,
            created_by__agency_id=case.owning_agency_id,
        )
    )
    Consent.objects.filter(pk__in=[consent.pk for consent in consents]).update(
        withdrawn_at=timezone.now()
    )
    audit_record_all(
        [
            audit_event(
                actor=by,
                action=AuditAction.CONSENT_WITHDRAW,
                obj=consent,
                case_id=case.pk,
                individual_id=consent.individual_id,
                reason="case_transferred",
            )
            for consent in consents
        ]
    )
    # The team worked for the sending municipality, which no longer sees the case.
    _team_leave(CaseTeamMember.objects.filter(case_id=case.pk), by=by, reason="case_transferred")
    from_group = case.owning_agency.group
    for permission in ("cases.view_case", "cases.change_case"):
        remove_perm(permission, from_group, case)
        assign_perm(permission, to_agency.group, case)
    case.owning_agency, case.responsible = to_agency, responsible
    case.save(update_fields=["owning_agency", "responsible", "updated_at"])
    audit_record(
        actor=by, action=AuditAction.CASE_UPDATE, obj=case, case_id=case.pk, reason="transferred"
    )
    return len(shares)


def consents_expire(*, today: date | None = None) -> int:
    """Revoke shares whose consent has run out. Run periodically by Celery beat."""
    today = today or timezone.localdate()
    expired = CaseShare.objects.filter(revoked_at__isnull=True, expires_on__lt=today)
    count = 0
    for share in expired.select_related("case", "agency"):
        with transaction.atomic():
            _revoke(share, by=None, reason="consent_expired")
        count += 1
    return count


@transaction.atomic
def case_team_add(*, case: Case, member: User, by: User) -> CaseTeamMember:
    """Add to the case's team someone who may read the case already: membership spares them
    the outside-assignment reason, and never lets anyone read more."""
    CasePolicy.require(by, CaseAction.MANAGE_TEAM, case)
    if member.pk == case.responsible_id:
        raise ValidationError(_("Den ansvariga handläggaren hör redan till ärendet."))
    if not CasePolicy.team_candidates(case).filter(pk=member.pk).exists():
        raise ValidationError(
            _("%(user)s får inte läsa ärendet och kan därför inte vara med i teamet.")
            % {"user": member}
        )
    try:
        with transaction.atomic():  # a savepoint: the constraint decides a race between two adds
            membership = CaseTeamMember.objects.create(case=case, user=member, added_by=by)
    except IntegrityError:
        raise ValidationError(
            _("%(user)s är redan med i ärendets team.") % {"user": member}
        ) from None
    audit_record(actor=by, action=AuditAction.CASE_TEAM_ADD, obj=member, case_id=case.pk)
    return membership


@transaction.atomic
def case_team_remove(*, membership: CaseTeamMember, by: User) -> None:
    CasePolicy.require(by, CaseAction.MANAGE_TEAM, membership.case)
    _team_leave(CaseTeamMember.objects.filter(pk=membership.pk), by=by, reason="")


def _team_leave(memberships: QuerySet[CaseTeamMember], *, by: User | None, reason: str) -> None:
    """Remove the memberships, one audit event each, naming the member who left."""
    left = list(memberships.values_list("pk", "case_id", "user_id"))
    if not left:
        return
    CaseTeamMember.objects.filter(pk__in=[pk for pk, _case, _user in left]).delete()
    audit_record_all(
        [
            audit_event(
                actor=by,
                action=AuditAction.CASE_TEAM_REMOVE,
                object_type=User._meta.label,
                object_id=str(user_id),
                case_id=case_id,
                reason=reason,
            )
            for _pk, case_id, user_id in left
        ]
    )


def identity_reveal(*, access: CaseAccess, reason: str) -> None:
    audit_record(
        actor=access.user,
        action=AuditAction.IDENTITY_REVEAL,
        obj=access.case.individual,
        case_id=access.case.pk,
        individual_id=access.case.individual_id,
        reason=reason,
    )


def outside_assignment_read(*, access: CaseAccess, reason: str) -> None:
    audit_record(
        actor=access.user,
        action=AuditAction.OUTSIDE_ASSIGNMENT_READ,
        obj=access.case,
        case_id=access.case.pk,
        reason=reason,
    )


@transaction.atomic
def log_sample_review(*, by: User, event: AuditEvent, note: str = "") -> LogSampleReview:
    """Mark an event of the month's sample reviewed, once per agency. The note stays in the
    review, not in the log: it may say more about the person than the log ever does."""
    AuditLogPolicy.require(by, AuditLogAction.REVIEW_SAMPLE, event)
    review, created = LogSampleReview.objects.get_or_create(
        agency_id=by.agency_id,
        event_id=event.pk,
        defaults={
            "event_occurred_at": event.occurred_at,
            "reviewed_by": by,
            "note": note.strip(),
        },
    )
    if not created:
        raise ValidationError(_("Händelsen är redan granskad."))
    audit_record(actor=by, action=AuditAction.AUDIT_SAMPLE_REVIEW, obj=review)
    return review


# --- Reminders (Celery beat, daily) ---------------------------------------------------------


def reminders_send(*, today: date | None = None) -> int:
    """Remind of threat reviews and interventions' follow-ups coming due within
    AVHOPP_REMINDER_DAYS, and of consents running out within AVHOPP_CONSENT_REMINDER_DAYS:
    each thing and due date once, however often this runs and even when two runs race (the
    core's claim, in the transaction that notifies). A changed date is a new reminder. The
    number sent."""
    today = today or timezone.localdate()
    claimed = reminders_claimed(due_from=today)
    sent = 0
    for subject, due_on, kind, case, recipients in _due_reminders(today):
        if (subject, due_on) in claimed:
            continue
        with transaction.atomic():
            if not reminder_claim(subject=subject, due_on=due_on):
                continue  # another run sent it meanwhile
            notify(users=recipients(), kind=kind, url=case.get_absolute_url())
        sent += 1
    return sent


Reminder = tuple[str, date, NotificationKind, Case, Callable[[], list["User"]]]


def _due_reminders(today: date) -> Iterator[Reminder]:
    soon = today + timedelta(days=settings.AVHOPP_REMINDER_DAYS)
    reviews = Case.objects.filter(status__in=OPEN_STATUSES, threat_review_due__range=(today, soon))
    for case in reviews.order_by("pk"):
        yield (
            f"threat_review:{case.pk}",
            case.threat_review_due,
            NotificationKind.THREAT_REVIEW_DUE,
            case,
            lambda case=case: _threat_reviewers(case),
        )
    follow_ups = Intervention.objects.filter(
        status__in=ACTIVE_INTERVENTION_STATUSES,
        follow_up_date__range=(today, soon),
        case__status__in=OPEN_STATUSES,
    ).select_related("case")
    for intervention in follow_ups.order_by("pk"):
        case = intervention.case
        yield (
            f"follow_up:{intervention.pk}",
            intervention.follow_up_date,
            NotificationKind.FOLLOW_UP_DUE,
            case,
            lambda case=case: responsible_recipients(case, CaseAction.EDIT),
        )
    consent_soon = today + timedelta(days=settings.AVHOPP_CONSENT_REMINDER_DAYS)
    consents = Consent.objects.filter(
        withdrawn_at__isnull=True, valid_until__range=(today, consent_soon)
    ).select_related("created_by__agency")
    for consent in consents.order_by("pk"):
        # The person's open case at the municipality that recorded the consent.
        case = (
            Case.objects.filter(
                individual_id=consent.individual_id,
                owning_agency_id=consent.created_by.agency_id,
                status__in=OPEN_STATUSES,
            )
            .order_by("-opened_at")
            .first()
        )
        if case is not None:
            yield (
                f"consent:{consent.pk}",
                consent.valid_until,
                NotificationKind.CONSENT_EXPIRING,
                case,
                lambda case=case, consent=consent: _consent_keepers(case, consent),
            )


def _threat_reviewers(case: Case) -> list[User]:
    """The police who may record the next assessment, of every agency that sees the case,
    and the responsible worker."""
    shared_with = case.shares.filter(revoked_at__isnull=True).values_list("agency_id", flat=True)
    police = users_of(
        [case.owning_agency_id, *shared_with], _may(case, CaseAction.ADD_THREAT_ASSESSMENT)
    )
    return [*police, *responsible_recipients(case, CaseAction.READ_THREAT_LEVEL)]


def responsible_recipients(case: Case, action: CaseAction) -> list[User]:
    """The case's responsible worker, while active and allowed `action` on it as its pages
    ask: the recipient of a reminder that is theirs to act on (here and in method.services)."""
    return [user for user in [case.responsible] if user.is_active and _may(case, action)(user)]


def _consent_keepers(case: Case, consent: Consent) -> list[User]:
    """Who recorded the consent, while they may still handle consents on the case, and the
    case's responsible worker, who meets the person to ask anew."""
    keepers = [consent.created_by] if _may(case, CaseAction.SHARE)(consent.created_by) else []
    return [*keepers, *responsible_recipients(case, CaseAction.READ_OWNER_DETAILS)]


def journal_extract_order(*, access: CaseAccess) -> JournalExtract:
    """A PDF of the journal for the file, made by a job for the reader who orders it. The
    order is logged; each download is logged again (cases.extract_views)."""
    access.check(CaseAction.READ_JOURNAL)
    extract = JournalExtract.objects.create(case=access.case, requested_by=access.user)
    audit_record(
        actor=access.user,
        action=AuditAction.JOURNAL_EXTRACT,
        obj=extract,
        case_id=access.case.pk,
    )
    transaction.on_commit(lambda: enqueue_journal_extract(extract.pk))
    return extract


def enqueue_journal_extract(extract_id: int) -> bool:
    """Publish the job. With the broker down, the extract stays queued for the requeuer."""
    from cases.tasks import render_journal_extract  # the tasks import this module

    return jobs.publish(render_journal_extract, extract_id)


def journal_extracts_requeue_stale(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Publish again the extracts left queued (the broker was down, a worker vanished)."""
    from cases.tasks import render_journal_extract

    owed = JournalExtract.objects.filter(status=JournalExtractStatus.QUEUED)
    return jobs.requeue_stale(owed, task=render_journal_extract, older_than=older_than, limit=100)


def journal_extract_mark_failed(*, extract_id: int, error: str) -> None:
    JournalExtract.objects.filter(pk=extract_id, status=JournalExtractStatus.QUEUED).update(
        status=JournalExtractStatus.FAILED, error_message=error[:300]
    )
