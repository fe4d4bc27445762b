"""Referral writes and document generation."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import AuditAction, NotificationKind
from avhopp.notifications import notify, users_of
from avhopp.pdf import render_pdf
from avhopp.storage import documents_recorded, write_document
from cases.masking import shown_identity
from cases.models import Case, ConsentScope
from cases.policy import CaseAction, CasePolicy
from referrals.models import DocumentKind, Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy, grounds_hold

if TYPE_CHECKING:
    from avhopp.models import Agency, User
    from cases.models import Consent


SECTION_SCOPES = {
    "include_interventions": ConsentScope.INTERVENTIONS,
    "include_threat_level": ConsentScope.THREAT_LEVEL,
    "include_journal": ConsentScope.JOURNAL,
}


NEEDS_GROUNDS = gettext_lazy(
    "Det krävs ett gällande samtycke eller en rättslig grund med hänvisning."
)
# Consent.recipient is an agency: no consent can name an external party.
EXTERNAL_NEEDS_LEGAL_BASIS = gettext_lazy(
    "Ett samtycke kan bara gälla en myndighet. En extern mottagare kräver en rättslig grund "
    "med hänvisning."
)


def sections_allowed(consent: Consent | None) -> set[str]:
    """A document may carry only the sections its consent covers; basics always."""
    if consent is None:
        return set()
    return {field for field, scope in SECTION_SCOPES.items() if consent.covers(scope)}


@transaction.atomic
def referral_create(
    *,
    case: Case,
    by: User,
    kind: str = DocumentKind.REFERRAL,
    contact_person: str,
    consent: Consent | None = None,
    summary: str = "",
    to_agency: Agency | None = None,
    external_recipient: str = "",
    intervention_kind: str = "",
    reason: str = "",
    requested_start: date | None = None,
    include_interventions: bool = False,
    include_threat_level: bool = False,
    include_journal: bool = False,
    overall_responsibility: str = "",
    next_follow_up: date | None = None,
    legal_basis: str = "",
    legal_basis_citation: str = "",
) -> Referral:
    """A referral rests on a current consent of the person naming the receiving agency, or on
    a legal basis with a citation, as a share does. A consent names an agency, never an external
    party: a referral to an external recipient rests on a legal basis. A SIP rests on consent."""
    CasePolicy.require(by, CaseAction.REFER, case)
    external_recipient = external_recipient.strip()
    if to_agency is not None and external_recipient:
        raise ValidationError(_("Ange antingen myndighet eller extern mottagare."))
    if consent is not None and (
        not consent.is_current()
        or consent.individual_id != case.individual_id
        or (to_agency and consent.recipient_id != to_agency.pk)
    ):
        raise ValidationError(_("Samtycket gäller inte den här personen och mottagaren."))
    if kind != DocumentKind.SIP:
        if consent is not None and to_agency is None:
            raise ValidationError(EXTERNAL_NEEDS_LEGAL_BASIS)
        if consent is not None:
            legal_basis, legal_basis_citation = "", ""
        elif not (legal_basis and legal_basis_citation.strip()):
            raise ValidationError(NEEDS_GROUNDS)
    else:
        legal_basis, legal_basis_citation = "", ""
    if kind == DocumentKind.SIP and (
        consent is None or not consent.covers(ConsentScope.INTERVENTIONS)
    ):
        raise ValidationError(_("En SIP kräver ett samtycke som täcker insatser."))
    sections = {
        "include_interventions": include_interventions,
        "include_threat_level": include_threat_level,
        "include_journal": include_journal,
    }
    allowed = sections_allowed(consent)
    if any(included and field not in allowed for field, included in sections.items()):
        raise ValidationError(_("Samtycket täcker inte alla valda avsnitt."))
    referral = Referral(
        case=case,
        from_agency=case.owning_agency,
        created_by=by,
        kind=kind,
        to_agency=to_agency,
        external_recipient=external_recipient,
        intervention_kind=intervention_kind,
        reason=reason,
        summary=summary,
        requested_start=requested_start,
        contact_person=contact_person,
        consent=consent,
        legal_basis=legal_basis,
        legal_basis_citation=legal_basis_citation.strip(),
        overall_responsibility=overall_responsibility,
        next_follow_up=next_follow_up,
        **sections,
    )
    referral.full_clean()
    referral.save()
    audit_record(actor=by, action=AuditAction.REFERRAL_CREATE, obj=referral, case_id=case.pk)
    _queue(referral)
    return referral


def _queue(referral: Referral) -> None:
    """Mark as queued now; publish only after commit, so the worker finds the row."""
    referral.status = ReferralStatus.QUEUED
    referral.queued_at = timezone.now()
    referral.error_message = ""
    referral.save(update_fields=["status", "queued_at", "error_message"])
    transaction.on_commit(lambda: enqueue_generation(referral.pk))


def enqueue_generation(referral_id: int) -> bool:
    """Publish the job. With the broker down, the referral stays queued for the requeuer."""
    from referrals.tasks import generate_document  # the tasks import this module

    return jobs.publish(generate_document, referral_id)


@transaction.atomic
def referral_retry(*, referral: Referral, by: User) -> None:
    ReferralPolicy.require(by, ReferralAction.SEND, referral)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status != ReferralStatus.FAILED:
        raise ValidationError(_("Bara en misslyckad remiss kan försökas igen."))
    _queue(referral)
    audit_record(
        actor=by,
        action=AuditAction.REFERRAL_CREATE,
        obj=referral,
        case_id=referral.case_id,
        reason="retry",
    )


def referrals_requeue_stale(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Re-publish referrals stuck in the queue (broker was down, or a worker vanished)."""
    from referrals.tasks import generate_document

    owed = Referral.objects.filter(status__in=[ReferralStatus.QUEUED, ReferralStatus.GENERATING])
    return jobs.requeue_stale(owed, task=generate_document, older_than=older_than)


def document_filename(referral: Referral) -> str:
    return f"referrals/{referral.pk}.pdf"


def referral_render(*, referral_id: int) -> None:
    """Render the referral's document. Idempotent: a re-run leaves the same single file."""
    with transaction.atomic():
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None or referral.status not in (
            ReferralStatus.QUEUED,
            ReferralStatus.GENERATING,
        ):
            return  # already done (a redelivered or duplicate job) or never submitted
        referral.status = ReferralStatus.GENERATING
        referral.attempts += 1
        # The clock the requeuer reads: a render that started recently is not stale.
        referral.queued_at = timezone.now()
        referral.save(update_fields=["status", "attempts", "queued_at"])
    html = referral_html(referral_id=referral_id)
    pdf = render_pdf(html)
    relative = document_filename(referral)
    write_document(relative, pdf.content)
    documents_recorded(
        Referral.objects.filter(pk=referral_id),
        [relative],
        document_path=relative,
        document_sha256=hashlib.sha256(pdf.content).hexdigest(),
        document_size=len(pdf.content),
        page_count=pdf.page_count,
        generated_at=timezone.now(),
        status=ReferralStatus.READY,
        error_message="",
    )


def referral_mark_failed(*, referral_id: int, error: str) -> None:
    Referral.objects.filter(
        pk=referral_id, status__in=[ReferralStatus.QUEUED, ReferralStatus.GENERATING]
    ).update(status=ReferralStatus.FAILED, error_message=error[:300])


def referral_html(*, referral_id: int) -> str:
    """The document's HTML: masked identity, chosen sections, never threat details."""
    referral = Referral.objects.select_related(
        "case__individual", "case__responsible", "from_agency", "to_agency", "consent__recipient"
    ).get(pk=referral_id)
    case = referral.case
    context: dict[str, Any] = {
        "referral": referral,
        "case": case,
        # Documents leave the owning agency: a protected identity is always masked in them.
        "identity": shown_identity(case.individual, revealed=False),
        "today": timezone.localdate(),
    }
    is_sip = referral.kind == DocumentKind.SIP
    if referral.include_interventions or is_sip:
        context["interventions"] = list(case.interventions.select_related("provider_agency"))
    if referral.include_threat_level:
        context["threat"] = case.threat_assessments.defer("details").first()
    if referral.include_journal:
        context["journal"] = list(case.journal_entries.select_related("author")[:20])
    if is_sip:
        context["participants"] = sorted(
            {referral.from_agency.name}
            | {i.provider_display for i in context["interventions"]}
            | set(
                case.shares.filter(revoked_at__isnull=True).values_list("agency__name", flat=True)
            )
        )
    template = "referrals/sip_document.html" if is_sip else "referrals/referral_document.html"
    with translation.override("sv"):
        return render_to_string(template, context)


# The confirmation page's token names the user, the referral and its document's checksum:
# a send carries proof that this user was shown this very document, lately.
CONFIRMATION_SALT = "referrals.send-confirmation"
CONFIRMATION_MAX_AGE = timedelta(minutes=30)


def send_confirmation_token(*, referral: Referral, by: User) -> str:
    """What the confirmation step puts behind its "Skicka" button."""
    return signing.dumps(_confirmed(referral, by), salt=CONFIRMATION_SALT)


def _confirmed(referral: Referral, by: User) -> dict[str, Any]:
    return {"referral": referral.pk, "user": by.pk, "document": referral.document_sha256}


def send_refusal(referral: Referral) -> str | None:
    """Why the referral cannot go out now, or None: asked by the confirmation page before it
    offers the button, and again under lock by `referral_send`."""
    if referral.kind != DocumentKind.REFERRAL:
        return _("En SIP kan inte skickas som remiss.")
    if referral.status != ReferralStatus.READY:
        return _("Remissen kan skickas först när dokumentet är klart.")
    if not grounds_hold(referral):
        return _("Samtycket som remissen vilar på gäller inte längre. Remissen kan inte skickas.")
    return None


@transaction.atomic
def referral_send(*, referral: Referral, by: User, confirmation: str) -> None:
    """Send after the confirmation step: `confirmation` is its token, and must name this user
    and the document as it is now (a document made again since has not been shown)."""
    ReferralPolicy.require(by, ReferralAction.SEND, referral)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status == ReferralStatus.READY and not _confirms(confirmation, referral, by):
        raise ValidationError(
            _("Granska dokumentet och bekräfta utskicket med knappen Skicka först.")
        )
    if refusal := send_refusal(referral):
        raise ValidationError(refusal)
    referral.status = ReferralStatus.SENT
    referral.sent_at = timezone.now()
    referral.save(update_fields=["status", "sent_at"])
    audit_record(actor=by, action=AuditAction.REFERRAL_SEND, obj=referral, case_id=referral.case_id)
    notify(
        users=users_of([referral.to_agency_id], _may(ReferralAction.ANSWER, referral)),
        kind=NotificationKind.REFERRAL_RECEIVED,
        url=referral.get_absolute_url(),
        by=by,
    )


def _may(action: ReferralAction, referral: Referral) -> Callable[[User], bool]:
    """Whether a user may see the referral and take the action on it, as its page asks."""
    return lambda user: (
        ReferralPolicy.allows(user, action, referral)
        and (ReferralPolicy.visible_to(user).filter(pk=referral.pk).exists())
    )


def _confirms(token: str, referral: Referral, by: User) -> bool:
    try:
        shown = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.BadSignature:  # an expired token too
        return False
    return shown == _confirmed(referral, by)


@transaction.atomic
def referral_answer(*, referral: Referral, by: User, accepted: bool, comment: str) -> None:
    ReferralPolicy.require(by, ReferralAction.ANSWER, referral)
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if referral.status != ReferralStatus.SENT or referral.to_agency_id != by.agency_id:
        raise ValidationError(_("Remissen kan inte besvaras nu."))
    referral.status = ReferralStatus.ACCEPTED if accepted else ReferralStatus.DECLINED
    referral.answered_by, referral.answered_at = by, timezone.now()
    referral.answer_comment = comment.strip()
    referral.save(update_fields=["status", "answered_by", "answered_at", "answer_comment"])
    audit_record(
        actor=by,
        action=AuditAction.REFERRAL_ANSWER,
        obj=referral,
        case_id=referral.case_id,
        reason=referral.status,
    )
    notify(  # its sender, while they may still read it
        users=filter(_may(ReferralAction.VIEW, referral), [referral.created_by]),
        kind=NotificationKind.REFERRAL_ANSWERED,
        url=referral.get_absolute_url(),
        by=by,
    )
