"""Gallring: what is due, the archive officer's decision, the deletion in bounded batches, the
research sample's archive export; legal holds.

The audit log is never touched by gallring. It names a case and a person only by their ids
(never a name or an identity number), and once the file is deleted those ids point at nothing:
the gallring item that deleted it maps them to a pseudonym for anyone reading the log later.
That keeps the log strictly append-only (its trigger has no bypass to guard) while nothing in
it identifies the person any more. The national register keeps its own pseudonymised record.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.audit_partitions import add_months, audit_partitions_drop_before
from avhopp.models import Agency, AgencyKind, AuditAction
from avhopp.storage import delete_document
from cases.models import (
    Case,
    CaseGroupObjectPermission,
    CaseShare,
    CaseStatus,
    CaseStatusChange,
    CaseTeamMember,
    CaseUserObjectPermission,
    Consent,
    CoordinationAlert,
    Individual,
    Intervention,
    JournalEntry,
    JournalExtract,
    ThreatAssessment,
)
from method.models import (
    Agreement,
    AgreementCondition,
    AgreementEntry,
    CaseChecklist,
    CaseStep,
    DecisionRecord,
    FollowUpOutcome,
)
from referrals.models import Referral
from relocations.models import (
    AvoidedPlace,
    Candidate,
    Placement,
    PlacementAgreement,
    Relocation,
    RelocationStep,
)
from retention.dates import add_years, birth_day_of_month, due_dates
from retention.documents import archive_export_create, enqueue
from retention.models import (
    ArchiveExport,
    Extract,
    GallringItem,
    GallringProposal,
    HoldKind,
    ItemAction,
    ItemOutcome,
    LegalHold,
    ProposalStatus,
    RecordKind,
    RetentionRule,
)
from retention.policy import GallringAction, GallringPolicy

if TYPE_CHECKING:
    from avhopp.models import User


# Rows deleted per transaction: each batch holds its row locks for a few milliseconds, so
# gallring never stands in the way of the day's work, whatever the size of a file.
BATCH_SIZE = 500
CLOSED_STATUSES = (CaseStatus.CLOSED, CaseStatus.DROPPED_OUT)


def rule_on(day: date, kind: str = RecordKind.CASE_FILE) -> RetentionRule:
    rule = RetentionRule.objects.filter(record_kind=kind, valid_from__lte=day).first()
    if rule is None:
        raise ValidationError(_("Det finns ingen gallringsregel för den dagen."))
    return rule


def _newest(queryset: QuerySet, field: str, outer: str = "pk", key: str = "case") -> Subquery:
    return Subquery(
        queryset.filter(**{key: OuterRef(outer)}).order_by(f"-{field}").values(field)[:1]
    )


def with_last_entry(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate `last_entry_at`: the newest entry anywhere in the file (the case itself, its
    status history, interventions, threat assessments, journal, shares, referrals, relocation
    steps, the
    method's agreements and their entries, checklist steps done or waived, decisions and
    outcomes at follow-up, and the person's consents and edits)."""
    entries = [
        _newest(CaseStatusChange.objects, "changed_at"),
        _newest(Intervention.objects, "updated_at"),
        _newest(ThreatAssessment.objects, "assessed_at"),
        _newest(JournalEntry.objects, "created_at"),
        _newest(CaseShare.objects, "created_at"),
        _newest(CaseShare.objects.exclude(revoked_at=None), "revoked_at"),
        _newest(Referral.objects, "created_at"),
        _newest(Referral.objects.exclude(answered_at=None), "answered_at"),
        _newest(RelocationStep.objects, "entered_at", key="relocation__case"),
        _newest(Agreement.objects, "created_at"),
        _newest(AgreementEntry.objects, "recorded_at", key="agreement__case"),
        _newest(CaseStep.objects.exclude(settled_at=None), "settled_at", key="checklist__case"),
        _newest(DecisionRecord.objects, "decided_at"),
        _newest(FollowUpOutcome.objects, "recorded_at"),
        _newest(Consent.objects, "created_at", "individual_id", "individual"),
        _newest(
            Consent.objects.exclude(withdrawn_at=None),
            "withdrawn_at",
            "individual_id",
            "individual",
        ),
    ]
    # GREATEST skips NULLs on PostgreSQL but not on SQLite: every term falls back to the case.
    return cases.annotate(
        last_entry_at=Greatest(
            "updated_at",
            Coalesce("closed_at", "updated_at"),
            Coalesce("individual__updated_at", "updated_at"),
            *(Coalesce(entry, "updated_at") for entry in entries),
        )
    )


@dataclass(frozen=True)
class DueFile:
    case: Case
    last_entry_on: date
    due_on: date
    deadline: date
    action: ItemAction
    held: bool


def files_due(*, agency: Agency, as_of: date) -> Iterator[DueFile]:
    """The agency's closed case files due on `as_of`, held ones included (marked). An open
    case is never due: whatever its last entry, it is closed first."""
    rule = rule_on(as_of)
    # Loose in SQL (two days' slack for the leap day and the time zone), exact below.
    cutoff = timezone.make_aware(
        datetime.combine(add_years(as_of, -rule.retention_years) + timedelta(days=2), time())
    )
    active_hold = LegalHold.objects.filter(case=OuterRef("pk"), lifted_at__isnull=True)
    cases = (
        with_last_entry(
            Case.objects.filter(
                owning_agency=agency, status__in=CLOSED_STATUSES, updated_at__lt=cutoff
            )
        )
        .filter(last_entry_at__lt=cutoff)
        .annotate(held=Exists(active_hold))
        .select_related("individual")
        .order_by("pk")
    )
    for case in cases:
        last = timezone.localdate(case.last_entry_at)
        due_on, deadline = due_dates(last, rule.retention_years)
        if due_on > as_of:
            continue
        research = birth_day_of_month(case.individual) in rule.birth_days
        if (
            research
            and ArchiveExport.objects.filter(
                case_id=case.pk, created_at__gte=case.last_entry_at
            ).exists()
        ):
            continue  # exported since its last entry: kept, nothing more to do
        yield DueFile(
            case=case,
            last_entry_on=last,
            due_on=due_on,
            deadline=deadline,
            action=ItemAction.ARCHIVE if research else ItemAction.DELETE,
            held=case.held,
        )


def _in_open_proposal() -> QuerySet[GallringItem]:
    return GallringItem.objects.filter(
        outcome=ItemOutcome.PENDING,
        proposal__status__in=[ProposalStatus.PROPOSED, ProposalStatus.APPROVED],
    )


@transaction.atomic
def gallring_propose(*, agency: Agency, as_of: date) -> GallringProposal | None:
    """The month's proposal for one agency: its due files by reference, held ones and those
    in an undecided proposal left out. None when nothing is due."""
    pending = set(_in_open_proposal().values_list("case_id", flat=True))
    due = [f for f in files_due(agency=agency, as_of=as_of) if not f.held]
    due = [f for f in due if f.case.pk not in pending]
    if not due:
        return None
    proposal = GallringProposal.objects.create(
        agency=agency, as_of=as_of, legal_reference=rule_on(as_of).legal_reference
    )
    GallringItem.objects.bulk_create(
        GallringItem(
            proposal=proposal,
            case_id=f.case.pk,
            individual_id=f.case.individual_id,
            case_reference=f.case.reference,
            last_entry_on=f.last_entry_on,
            due_on=f.due_on,
            deadline=f.deadline,
            action=f.action,
        )
        for f in due
    )
    audit_record(actor=None, action=AuditAction.GALLRING_PROPOSED, obj=proposal)
    return proposal


def gallring_propose_all(*, as_of: date) -> int:
    """The monthly job: a proposal for every municipality with something due."""
    made = 0
    for agency in Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES).order_by("pk"):
        made += gallring_propose(agency=agency, as_of=as_of) is not None
    return made


@transaction.atomic
def gallring_approve(*, proposal: GallringProposal, by: User) -> None:
    """The archive officer's decision; the deletion follows in a background job."""
    GallringPolicy.check(by, GallringAction.DECIDE, proposal)
    proposal = GallringProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != ProposalStatus.PROPOSED:
        raise ValidationError(_("Förslaget är redan beslutat."))
    if not proposal.items.exists():
        raise ValidationError(_("Förslaget innehåller inga akter att besluta om."))
    proposal.status = ProposalStatus.APPROVED
    proposal.decided_by, proposal.decided_at = by, timezone.now()
    proposal.queued_at = proposal.decided_at
    proposal.save(update_fields=["status", "decided_by", "decided_at", "queued_at"])
    audit_record(actor=by, action=AuditAction.GALLRING_APPROVED, obj=proposal)
    transaction.on_commit(lambda: enqueue("execute_gallring", proposal.pk))


def gallring_execute(*, proposal_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Carry out an approved proposal, item by item. Safe to run again, and twice at once (a
    retry, a redelivered job, the requeuer): each item is settled once, in the transaction
    that does what its outcome says, and a file whose deletion has begun is deleted to the
    end by whichever run comes to it, so a run after a lost worker carries on from there."""
    proposal = GallringProposal.objects.get(pk=proposal_id)
    if proposal.status != ProposalStatus.APPROVED:
        return
    rule = rule_on(timezone.localdate())
    for item in proposal.items.filter(outcome=ItemOutcome.PENDING):
        _carry_out(item, proposal, rule, batch_size)
        # The requeuer's clock: a run that gets on is not stale, however long the proposal.
        GallringProposal.objects.filter(pk=proposal.pk).update(queued_at=timezone.now())
    GallringProposal.objects.filter(pk=proposal.pk, status=ProposalStatus.APPROVED).update(
        status=ProposalStatus.DONE, completed_at=timezone.now()
    )


def gallring_requeue_stale(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Publish again the approved proposals that have not got on for `older_than`: the broker
    was down at the decision, or the worker vanished midway."""
    from retention.tasks import execute_gallring  # the tasks import this module

    owed = GallringProposal.objects.filter(status=ProposalStatus.APPROVED)
    return jobs.requeue_stale(owed, task=execute_gallring, older_than=older_than)


def _carry_out(
    item: GallringItem, proposal: GallringProposal, rule: RetentionRule, batch_size: int
) -> None:
    if not item.pseudonym:  # its deletion has not begun: decide what is to be done
        case = with_last_entry(Case.objects.filter(pk=item.case_id)).first()
        outcome = _outcome(item, case, rule)
        if outcome != ItemOutcome.DELETED:
            with transaction.atomic():
                if _settle(item, outcome) and outcome == ItemOutcome.ARCHIVED:
                    archive_export_create(case=case, item=item)
            return
        _begin_deletion(item)
    case_file_delete(case_id=item.case_id, individual_id=item.individual_id, batch_size=batch_size)
    with transaction.atomic():
        if _settle(item, ItemOutcome.DELETED):
            audit_record(
                actor=proposal.decided_by,
                action=AuditAction.GALLRING_DELETED,
                object_type="retention.GallringItem",
                object_id=str(item.pk),
                case_id=item.case_id,
                individual_id=item.individual_id,
                reason=item.pseudonym,
            )


def _outcome(item: GallringItem, case: Case | None, rule: RetentionRule) -> ItemOutcome:
    if case is None:
        return ItemOutcome.GONE
    if LegalHold.objects.filter(case=case, lifted_at__isnull=True).exists():
        return ItemOutcome.HELD
    # A new entry since the proposal makes the file no longer due.
    due_on, _deadline = due_dates(timezone.localdate(case.last_entry_at), rule.retention_years)
    if due_on > timezone.localdate() or case.status not in CLOSED_STATUSES:
        return ItemOutcome.NO_LONGER_DUE
    return ItemOutcome.ARCHIVED if item.action == ItemAction.ARCHIVE else ItemOutcome.DELETED


def _begin_deletion(item: GallringItem) -> None:
    """Keep the item's pseudonym before anything is deleted. It marks the deletion begun, so a
    later run finishes it instead of finding the file gone, and it is the one the log gets,
    whichever run that is."""
    GallringItem.objects.filter(pk=item.pk, pseudonym="").update(pseudonym=_new_pseudonym())
    item.refresh_from_db(fields=["pseudonym"])  # this run's, or a run's at the same time


def _settle(item: GallringItem, outcome: ItemOutcome) -> bool:
    """Record the item's outcome unless another run has settled it meanwhile (then False).
    The caller does what the outcome says in the same transaction, so it is done once."""
    pending = GallringItem.objects.filter(pk=item.pk, outcome=ItemOutcome.PENDING)
    if outcome != ItemOutcome.DELETED:
        pending = pending.filter(pseudonym="")  # a deletion, once begun, ends as one
    return pending.update(outcome=outcome, done_at=timezone.now()) == 1


def _new_pseudonym() -> str:
    return f"G-{secrets.token_hex(6).upper()}"


# Where the models that keep a document name it in the document store.
DOCUMENT_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Referral: ("document_path",),
    Extract: ("document_path",),
    Agreement: ("document_path",),
    JournalExtract: ("document_path",),
    PlacementAgreement: ("full_path", "sending_path"),
}


def case_file_delete(*, case_id: int, individual_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Delete a case file in bounded batches, children first, each batch its own short
    transaction with its rows' documents. The person goes too when this was their last case;
    a model of another app that hangs off the case and is not named here is deleted by the
    final cascade, or stops it (PROTECT) before the case itself is lost. Safe to run again
    after it stopped midway, the case row gone or not: it deletes what is left."""
    for queryset in (
        Referral.objects.filter(case_id=case_id),
        Extract.objects.filter(case_id=case_id),
        # A breach protects the condition it broke, an agreement the one it superseded (the
        # newer, deleted first): entries, then conditions, then agreements newest first.
        AgreementEntry.objects.filter(agreement__case_id=case_id),
        AgreementCondition.objects.filter(agreement__case_id=case_id),
        Agreement.objects.filter(case_id=case_id),
        CaseStep.objects.filter(checklist__case_id=case_id),
        CaseChecklist.objects.filter(case_id=case_id),
        DecisionRecord.objects.filter(case_id=case_id),
        FollowUpOutcome.objects.filter(case_id=case_id),
        # A relocation protects its case: its steps, places, candidates, placement and
        # agreement go first, then the relocation.
        RelocationStep.objects.filter(relocation__case_id=case_id),
        AvoidedPlace.objects.filter(relocation__case_id=case_id),
        Candidate.objects.filter(relocation__case_id=case_id),
        Placement.objects.filter(relocation__case_id=case_id),
        PlacementAgreement.objects.filter(relocation__case_id=case_id),
        Relocation.objects.filter(case_id=case_id),
        JournalExtract.objects.filter(case_id=case_id),
        CaseShare.objects.filter(case_id=case_id),
        CoordinationAlert.objects.filter(case_id=case_id),
        CaseTeamMember.objects.filter(case_id=case_id),
        JournalEntry.objects.filter(case_id=case_id),  # newest first: a correction before its entry
        Intervention.objects.filter(case_id=case_id),
        ThreatAssessment.objects.filter(case_id=case_id),
        CaseStatusChange.objects.filter(case_id=case_id),
        LegalHold.objects.filter(case_id=case_id),
        CaseGroupObjectPermission.objects.filter(content_object_id=case_id),
        CaseUserObjectPermission.objects.filter(content_object_id=case_id),
    ):
        delete_in_batches(queryset, batch_size)
    with transaction.atomic():
        Case.objects.filter(pk=case_id).delete()
    if not Case.objects.filter(individual_id=individual_id).exists():
        delete_in_batches(Consent.objects.filter(individual_id=individual_id), batch_size)
        with transaction.atomic():
            Individual.objects.filter(pk=individual_id).delete()


def delete_in_batches(queryset: QuerySet, batch_size: int) -> None:
    """Newest first, `batch_size` rows a transaction. A journal entry's corrections are newer
    than it, so they go in its batch or before, as an agreement's revision does; within a
    batch, the link between an entry and its correction is cut first (the ORM refuses to
    delete a protected entry together with what protects it).

    The batch's documents are removed from storage inside its transaction, after its rows:
    should the commit fail, the rows still name them for the next run, and once it commits
    no document is left that no row names."""
    model: type[models.Model] = queryset.model
    self_links = [
        field.name
        for field in model._meta.concrete_fields
        if (field.many_to_one or field.one_to_one) and field.related_model is model
    ]
    files = DOCUMENT_FIELDS.get(model, ())
    while True:
        with transaction.atomic():
            ids = list(queryset.order_by("-pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return
            batch = model.objects.filter(pk__in=ids)
            documents: list[str] = []
            if files:
                # Locked, in key order: a job recording a document on one of these rows
                # waits for the deletion and then removes its document itself
                # (avhopp.storage.documents_recorded), or has recorded it and it is read here.
                locked = batch.select_for_update().order_by("pk").values_list(*files)
                documents = [path for row in locked for path in row]
            if self_links:
                batch.update(**dict.fromkeys(self_links))
            batch.delete()
            for relative in documents:
                if relative:
                    delete_document(relative)


@transaction.atomic
def legal_hold_place(*, case: Case, by: User, kind: str, reason: str) -> LegalHold:
    hold = LegalHold(case=case, kind=kind, reason=reason.strip(), placed_by=by)
    GallringPolicy.check(by, GallringAction.DECIDE, hold)
    if not hold.reason:
        raise ValidationError(_("Ange skälet till gallringsstoppet."))
    if kind not in HoldKind.values:
        raise ValidationError(_("Välj typ av gallringsstopp."))
    hold.full_clean()
    hold.save()
    audit_record(
        actor=by, action=AuditAction.LEGAL_HOLD_PLACED, obj=hold, case_id=case.pk, reason=kind
    )
    return hold


@transaction.atomic
def legal_hold_lift(*, hold: LegalHold, by: User, reason: str) -> None:
    GallringPolicy.check(by, GallringAction.DECIDE, hold)
    hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
    if hold.lifted_at is not None:
        raise ValidationError(_("Gallringsstoppet är redan hävt."))
    if not reason.strip():
        raise ValidationError(_("Ange skälet till att gallringsstoppet hävs."))
    hold.lifted_by, hold.lifted_at, hold.lift_reason = by, timezone.now(), reason.strip()
    hold.save(update_fields=["lifted_by", "lifted_at", "lift_reason"])
    audit_record(actor=by, action=AuditAction.LEGAL_HOLD_LIFTED, obj=hold, case_id=hold.case_id)


def audit_retention_months(*, longest_rule_years: int | None = None) -> int:
    """How long the audit log's months are kept: AVHOPP_AUDIT_RETENTION_MONTHS, or by
    default as long as the longest case file may lawfully stay: the longest retention period
    plus the year it becomes due in and the following one (5 + 2 years: 84 months)."""
    if settings.AVHOPP_AUDIT_RETENTION_MONTHS:
        return settings.AVHOPP_AUDIT_RETENTION_MONTHS
    years = longest_rule_years or max(
        RetentionRule.objects.values_list("retention_years", flat=True), default=5
    )
    return (years + 2) * 12


def audit_partitions_expire(*, today: date) -> list[date]:
    return audit_partitions_drop_before(
        month=add_months(today.replace(day=1), -audit_retention_months())
    )
