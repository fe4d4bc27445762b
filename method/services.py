"""Method writes. Each happens here, in one transaction with its audit event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import Agency, AgencyKind, AuditAction, NotificationKind
from avhopp.notifications import notify, reminder_claim, reminders_claimed
from cases import services as case_services
from cases.hooks import Decision, DecisionKind
from cases.models import NEXT_STATUS, Case, CaseStatus, CaseStatusChange
from cases.policy import CaseAction, CasePolicy
from method.followup import anchor, due_points
from method.links import parse_links
from method.models import (
    DETAILED_CONDITIONS,
    INTERVAL_CONDITIONS,
    OUTCOME_ANSWERS,
    Agreement,
    AgreementCondition,
    AgreementEntry,
    CaseChecklist,
    CaseStep,
    ChecklistTemplate,
    ChecklistVersion,
    DecisionRecord,
    Delegation,
    EntryKind,
    FollowUpOutcome,
    StepState,
    StepTemplate,
    phases_worked_in,
)
from method.policy import DelegationPolicy, MethodAction, MethodPolicy
from method.selectors import outcomes_coming_due

if TYPE_CHECKING:
    from avhopp.models import User


# --- Checklists on cases ----------------------------------------------------------------------


def current_version(agency_id: int | None) -> ChecklistVersion | None:
    """The newest published version of the municipality's own template, else (and for no
    municipality) of the national default."""
    published = ChecklistVersion.objects.filter(published_at__isnull=False).order_by("-number")
    own = published.filter(template__agency_id=agency_id).first() if agency_id else None
    return own or published.filter(template__agency__isnull=True).first()


def checklist_bind(case: Case, by: User) -> CaseChecklist | None:
    """A new case is worked under the version current now, for good (cases.hooks)."""
    version = current_version(case.owning_agency_id)
    if version is None:
        return None
    checklist = CaseChecklist.objects.create(case=case, version=version)
    CaseStep.objects.bulk_create(
        CaseStep(checklist=checklist, step=step) for step in version.steps.all()
    )
    return checklist


def open_required_steps(case: Case, status: str) -> list[CaseStep]:
    return list(
        CaseStep.objects.filter(
            checklist__case=case,
            state=StepState.OPEN,
            step__required=True,
            step__phase__in=phases_worked_in(status),
        )
        .select_related("step")
        .order_by("step__position", "pk")
    )


def status_gate(change: CaseStatusChange, by: User) -> None:
    """A case moves on to its next phase only with the required steps of the phases worked
    in its status done or waived (cases.hooks). Dropping out is never held: the person left."""
    if NEXT_STATUS.get(CaseStatus(change.from_status)) != change.to_status:
        return
    missing = open_required_steps(change.case, change.from_status)
    if missing:
        raise ValidationError(
            _(
                "Ärendet kan inte gå vidare förrän de obligatoriska stegen är gjorda eller "
                "undantagna med ett skäl: %(steps)s."
            )
            % {"steps": ", ".join(item.step.title for item in missing)}
        )


def _settle(case_step: CaseStep, by: User, case: Case, state: StepState, reason: str) -> None:
    CasePolicy.require(by, CaseAction.EDIT, case)
    case_step = CaseStep.objects.select_for_update().get(pk=case_step.pk)
    if case_step.checklist.case_id != case.pk:
        raise ValidationError(_("Steget hör inte till ärendet."))
    if case_step.state != StepState.OPEN:
        raise ValidationError(_("Steget är redan avklarat."))
    case_step.state, case_step.waiver_reason = state, reason
    case_step.settled_at, case_step.settled_by = timezone.now(), by
    case_step.full_clean()
    case_step.save(update_fields=["state", "waiver_reason", "settled_at", "settled_by"])
    audit_record(
        actor=by, action=AuditAction.CHECKLIST_STEP, obj=case_step, case_id=case.pk, reason=state
    )


@transaction.atomic
def step_complete(*, case_step: CaseStep, case: Case, by: User) -> None:
    _settle(case_step, by, case, StepState.DONE, "")


@transaction.atomic
def step_waive(*, case_step: CaseStep, case: Case, by: User, reason: str) -> None:
    """The reason stays with the step (not in the audit log, which never holds case text)."""
    if not reason.strip():
        raise ValidationError(_("Ange varför steget undantas."))
    _settle(case_step, by, case, StepState.WAIVED, reason.strip())


# --- Templates ---------------------------------------------------------------------------------


@transaction.atomic
def template_copy(*, by: User) -> ChecklistTemplate:
    """The municipality's own template, starting as a draft copy of the national default's
    current version; cases keep the national one until the copy is published."""
    MethodPolicy.check(by, MethodAction.EDIT_TEMPLATE)
    if MethodPolicy.edits_national(by):
        raise ValidationError(_("Den nationella mallen ändras direkt, den kopieras inte."))
    if ChecklistTemplate.objects.filter(agency_id=by.agency_id).exists():
        raise ValidationError(_("Kommunen har redan en egen mall."))
    national = current_version(None)
    if national is None:
        raise ValidationError(_("Det finns ingen nationell mall att kopiera."))
    template = ChecklistTemplate.objects.create(
        agency=by.agency, name=str(by.agency), copied_from=national
    )
    version = ChecklistVersion.objects.create(template=template, number=1, created_by=by)
    _copy_steps(national, version)
    audit_record(actor=by, action=AuditAction.METHOD_TEMPLATE, obj=template, reason="copy")
    return template


def _copy_steps(source: ChecklistVersion, target: ChecklistVersion) -> None:
    StepTemplate.objects.bulk_create(
        StepTemplate(
            version=target,
            phase=step.phase,
            position=step.position,
            title=step.title,
            required=step.required,
            guidance=step.guidance,
            links=step.links,
            copied_from=step,
        )
        for step in source.steps.all()
    )


def draft_of(template: ChecklistTemplate, by: User) -> ChecklistVersion:
    """The template's draft, begun as a copy of its newest version when there is none."""
    draft = template.versions.select_for_update().filter(published_at__isnull=True).first()
    if draft is not None:
        return draft
    newest = template.versions.order_by("-number").first()
    draft = ChecklistVersion.objects.create(
        template=template, number=(newest.number if newest else 0) + 1, created_by=by
    )
    if newest is not None:
        _copy_steps(newest, draft)
    return draft


def _editable_step(step: StepTemplate, by: User) -> StepTemplate:
    """The draft's copy of a step: a published step is changed in a new draft."""
    template = step.version.template
    MethodPolicy.check(by, MethodAction.EDIT_TEMPLATE, template)
    draft = draft_of(template, by)
    if step.version_id == draft.pk:
        return step
    copy = draft.steps.filter(copied_from=step).first()
    if copy is None:
        raise ValidationError(_("Steget är redan borttaget ur utkastet."))
    return copy


@transaction.atomic
def template_step_save(
    *,
    by: User,
    template: ChecklistTemplate,
    step: StepTemplate | None,
    phase: str,
    title: str,
    required: bool,
    guidance: str,
    links: str,
) -> StepTemplate:
    """Change a step (`step`) or add one to the template's draft."""
    MethodPolicy.check(by, MethodAction.EDIT_TEMPLATE, template)
    parse_links(links)  # refuses what is not a link
    if step is None:
        draft = draft_of(template, by)
        last = draft.steps.aggregate(last=Max("position"))["last"] or 0
        step = StepTemplate(version=draft, position=last + 10)
    else:
        if step.version.template_id != template.pk:
            raise ValidationError(_("Steget hör inte till mallen."))
        step = _editable_step(step, by)
    step.phase, step.title, step.required = phase, title.strip(), required
    step.guidance, step.links = guidance.strip(), links.strip()
    step.full_clean()
    step.save()
    audit_record(actor=by, action=AuditAction.METHOD_TEMPLATE, obj=step, reason="step")
    return step


@transaction.atomic
def template_step_remove(*, by: User, template: ChecklistTemplate, step: StepTemplate) -> None:
    MethodPolicy.check(by, MethodAction.EDIT_TEMPLATE, template)
    if step.version.template_id != template.pk:
        raise ValidationError(_("Steget hör inte till mallen."))
    _editable_step(step, by).delete()
    audit_record(actor=by, action=AuditAction.METHOD_TEMPLATE, obj=template, reason="remove")


@transaction.atomic
def template_publish(*, by: User, template: ChecklistTemplate) -> ChecklistVersion:
    """New cases get the published version; running cases keep theirs."""
    MethodPolicy.check(by, MethodAction.EDIT_TEMPLATE, template)
    draft = template.versions.select_for_update().filter(published_at__isnull=True).first()
    if draft is None:
        raise ValidationError(_("Det finns inga ändringar att publicera."))
    if not draft.steps.exists():
        raise ValidationError(_("En checklista behöver minst ett steg."))
    draft.published_at = timezone.now()
    draft.save(update_fields=["published_at"])
    audit_record(actor=by, action=AuditAction.METHOD_TEMPLATE, obj=draft, reason="publish")
    return draft


# --- Delegation ----------------------------------------------------------------------------------


@transaction.atomic
def delegation_create(
    *,
    by: User,
    user: User,
    kind: str,
    reference: str,
    valid_from: date,
    valid_until: date | None = None,
) -> Delegation:
    MethodPolicy.check(by, MethodAction.MANAGE_DELEGATIONS)
    if not DelegationPolicy.delegates_for(by).filter(pk=user.pk).exists():
        raise ValidationError(_("Delegering kan bara ges till handläggare i den egna kommunen."))
    delegation = Delegation(
        agency=by.agency,
        user=user,
        kind=kind,
        reference=reference.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=by,
    )
    delegation.full_clean()
    delegation.save()
    audit_record(actor=by, action=AuditAction.DELEGATION_CHANGE, obj=delegation, reason=kind)
    return delegation


@transaction.atomic
def delegation_end(*, by: User, delegation: Delegation) -> None:
    """Ends at once; the decisions taken under it keep pointing at it."""
    MethodPolicy.check(by, MethodAction.MANAGE_DELEGATIONS)
    if delegation.agency_id != by.agency_id:
        raise ValidationError(_("Delegeringen hör inte till den egna kommunen."))
    if delegation.ended_at is None:
        delegation.ended_at = timezone.now()
        delegation.save(update_fields=["ended_at"])
    audit_record(actor=by, action=AuditAction.DELEGATION_CHANGE, obj=delegation, reason="end")


def decision_record(decision: Decision) -> DecisionRecord:
    """Check the decision-maker's delegation and record the decision under it (cases.hooks,
    inside the deciding service's transaction)."""
    today = timezone.localdate()
    delegation = DelegationPolicy.delegation_for(decision.by, decision.kind, today)
    if delegation is None:
        raise ValidationError(
            _(
                "Beslutet (%(kind)s) ligger utanför din delegering. Be den som har delegation "
                "enligt kommunens delegationsordning att fatta det."
            )
            % {"kind": DecisionKind(decision.kind).label.lower()}
        )
    record = DecisionRecord.objects.create(
        case=decision.case,
        kind=decision.kind,
        decided_by=decision.by,
        delegation=delegation,
        delegation_reference=delegation.reference,
        subject_type=decision.subject._meta.label,
        subject_id=str(decision.subject.pk),
    )
    audit_record(
        actor=decision.by,
        action=AuditAction.DECISION,
        obj=record,
        case_id=decision.case.pk,
        reason=decision.kind,
    )
    return record


# --- Agreements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConditionSpec:
    kind: str
    interval_days: int | None = None
    details: str = ""


@transaction.atomic
def agreement_create(
    *,
    case: Case,
    by: User,
    start_date: date,
    review_date: date,
    conditions: Sequence[ConditionSpec],
    police_party: Agency | None = None,
) -> Agreement:
    """A new agreement; the case's current one, if any, ends today and is kept as history."""
    CasePolicy.require(by, CaseAction.EDIT, case)
    if not conditions:
        raise ValidationError(_("En överenskommelse behöver minst ett villkor."))
    if police_party is not None and police_party.kind != AgencyKind.POLICE:
        raise ValidationError(_("Bara polisen kan vara part utöver socialtjänsten."))
    current = Agreement.objects.select_for_update().filter(case=case, ended_on__isnull=True).first()
    if current is not None:
        current.ended_on = timezone.localdate()
        current.save(update_fields=["ended_on"])
    agreement = Agreement(
        case=case,
        police_party=police_party,
        start_date=start_date,
        review_date=review_date,
        supersedes=current,
        created_by=by,
        queued_at=timezone.now(),
    )
    agreement.full_clean()
    agreement.save()
    for spec in conditions:
        condition = AgreementCondition(
            agreement=agreement,
            kind=spec.kind,
            interval_days=spec.interval_days if spec.kind in INTERVAL_CONDITIONS else None,
            details=spec.details.strip() if spec.kind in DETAILED_CONDITIONS else "",
        )
        condition.full_clean()
        condition.save()
    audit_record(actor=by, action=AuditAction.AGREEMENT_WRITE, obj=agreement, case_id=case.pk)
    transaction.on_commit(lambda: enqueue_agreement(agreement.pk))
    return agreement


@transaction.atomic
def agreement_sign(*, agreement: Agreement, case: Case, by: User, signed_on: date) -> None:
    """Signed by all parties on the day; the case's own agreement fields follow it."""
    CasePolicy.require(by, CaseAction.EDIT, case)
    if agreement.case_id != case.pk or not agreement.is_current:
        raise ValidationError(_("Bara ärendets gällande överenskommelse kan undertecknas."))
    if signed_on > timezone.localdate():
        raise ValidationError(_("Underskriftsdatumet kan inte ligga i framtiden."))
    agreement.signed_on = signed_on
    agreement.save(update_fields=["signed_on"])
    audit_record(
        actor=by, action=AuditAction.AGREEMENT_WRITE, obj=agreement, case_id=case.pk, reason="sign"
    )
    conditions = "\n".join(str(c) for c in agreement.conditions.all())
    case_services.case_update(
        case=case, by=by, agreement_signed_on=signed_on, agreement_conditions=conditions
    )


@transaction.atomic
def agreement_entry_add(
    *,
    agreement: Agreement,
    case: Case,
    by: User,
    kind: str,
    occurred_on: date,
    at_time: time | None = None,
    result: str = "",
    condition: AgreementCondition | None = None,
    consequence: str = "",
    note: str = "",
) -> AgreementEntry:
    """Test results and breaches have happened; a meeting may be planned ahead."""
    CasePolicy.require(by, CaseAction.EDIT, case)
    if agreement.case_id != case.pk:
        raise ValidationError(_("Överenskommelsen hör inte till ärendet."))
    _check_entry(agreement, kind, occurred_on, result, condition, consequence)
    entry = AgreementEntry(
        agreement=agreement,
        kind=kind,
        occurred_on=occurred_on,
        at_time=at_time if kind == EntryKind.MEETING else None,
        result=result if kind == EntryKind.DRUG_TEST else "",
        condition=condition if kind == EntryKind.BREACH else None,
        consequence=consequence if kind == EntryKind.BREACH else "",
        note=note.strip(),
        recorded_by=by,
    )
    entry.full_clean()
    entry.save()
    audit_record(
        actor=by, action=AuditAction.AGREEMENT_ENTRY, obj=entry, case_id=case.pk, reason=kind
    )
    return entry


def _check_entry(
    agreement: Agreement,
    kind: str,
    occurred_on: date,
    result: str,
    condition: AgreementCondition | None,
    consequence: str,
) -> None:
    errors: dict[str, str] = {}
    if kind != EntryKind.MEETING and occurred_on > timezone.localdate():
        errors["occurred_on"] = (
            _("Ett provresultat kan inte ligga i framtiden.")
            if kind == EntryKind.DRUG_TEST
            else _("Ett brott mot överenskommelsen kan inte ligga i framtiden.")
        )
    if kind == EntryKind.DRUG_TEST and not result:
        errors["result"] = _("Ange provresultatet.")
    if kind == EntryKind.BREACH and not consequence:
        errors["consequence"] = _("Ange vilken konsekvens brottet mot överenskommelsen får.")
    if (
        kind == EntryKind.BREACH
        and condition is not None
        and condition.agreement_id != agreement.pk
    ):
        errors["condition"] = _("Villkoret hör inte till överenskommelsen.")
    if errors:
        raise ValidationError(errors)


def enqueue_agreement(agreement_id: int) -> bool:
    """Publish the PDF's job. With the broker down the periodic requeue publishes it later
    (agreements_requeue_stale)."""
    from method.tasks import generate_agreement  # the tasks import this module

    return jobs.publish(generate_agreement, agreement_id)


def agreements_requeue_stale(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    from method.tasks import generate_agreement

    owed = Agreement.objects.filter(generated_at__isnull=True)
    return jobs.requeue_stale(owed, task=generate_agreement, older_than=older_than)


# --- Outcomes at follow-up -----------------------------------------------------------------------


@transaction.atomic
def outcome_record(*, case: Case, by: User, months: int, **answers: str) -> FollowUpOutcome:
    """Recorded once a follow-up point has come; `answers` are OUTCOME_ANSWERS."""
    CasePolicy.require(by, CaseAction.EDIT, case)
    recorded = set(case.outcomes.values_list("months", flat=True))
    due = {p.months: p for p in due_points(case, recorded, timezone.localdate())}
    if months not in due:
        raise ValidationError(_("Den uppföljningen är inte aktuell för ärendet."))
    if set(answers) != set(OUTCOME_ANSWERS):
        raise ValidationError(_("Besvara alla frågor."))
    outcome = FollowUpOutcome(
        case=case,
        months=months,
        anchor=anchor(),
        due_on=due[months].due_on,
        recorded_by=by,
        **answers,
    )
    outcome.full_clean()
    outcome.save()
    audit_record(
        actor=by,
        action=AuditAction.OUTCOME_RECORD,
        obj=outcome,
        case_id=case.pk,
        reason=str(months),
    )
    return outcome


def outcome_reminders_send(*, today: date | None = None) -> int:
    """Remind the responsible worker of each follow-up point coming due within
    AVHOPP_REMINDER_DAYS without an outcome, on open and closed cases alike: each case,
    point and due date once, however often this runs and even when two runs race (the core's
    claim, in the transaction that notifies). The number sent."""
    today = today or timezone.localdate()
    soon = today + timedelta(days=settings.AVHOPP_REMINDER_DAYS)
    claimed = reminders_claimed(due_from=today)
    sent = 0
    for point in outcomes_coming_due(since=today, until=soon):
        subject = f"outcome:{point.case.pk}:{point.months}"
        if (subject, point.due_on) in claimed:
            continue
        # Whom the outcome's form lets record it (EDIT); with nobody, the point stays
        # unclaimed for the next responsible worker.
        recipients = case_services.responsible_recipients(point.case, CaseAction.EDIT)
        if not recipients:
            continue
        with transaction.atomic():
            if not reminder_claim(subject=subject, due_on=point.due_on):
                continue  # another run sent it meanwhile
            notify(
                users=recipients,
                kind=NotificationKind.OUTCOMES_DUE,
                url=f"{point.case.get_absolute_url()}#outcomes",
            )
        sent += 1
    return sent
