"""Gallring (retention) of case files, legal holds, archive exports and the person's extracts.

What survives a deletion is held by plain ids and references, never by a foreign key to what
was deleted: the proposal and its items are the gallring report, and an item's pseudonym is
what a deleted case's id in the audit log stands for from then on.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency
from cases.models import Case, Individual, text_limits


class RecordKind(models.TextChoices):
    CASE_FILE = "case_file", _("Personakt")


class RetentionRule(models.Model):
    """How long a kind of record is kept, and on what legal ground, from a date on. The
    statute's numbering changed with the Social Services Act (2025:400): the references are
    data, so a new numbering is a new row, never a code change."""

    record_kind = models.CharField(_("handlingstyp"), max_length=32, choices=RecordKind.choices)
    valid_from = models.DateField(_("gäller från"))
    retention_years = models.PositiveSmallIntegerField(_("gallras efter år"))
    legal_reference = models.CharField(_("lagrum"), max_length=300)
    # People born on these days of a month are kept for research and go to the archive.
    research_birth_days = models.CharField(
        _("forskningsurval: födelsedagar"), max_length=40, default="5,15,25"
    )
    research_reference = models.CharField(_("lagrum för forskningsurvalet"), max_length=300)

    class Meta:
        verbose_name = _("gallringsregel")
        verbose_name_plural = _("gallringsregler")
        ordering = ["record_kind", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_kind", "valid_from"], name="retention_rule_once_per_date"
            ),
            models.CheckConstraint(
                name="retention_rule_years_positive", condition=Q(retention_years__gte=1)
            ),
            models.CheckConstraint(
                name="retention_rule_birth_days",
                condition=Q(research_birth_days__regex=r"^([0-9]{1,2}(,[0-9]{1,2})*)?$"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_record_kind_display()} {self.valid_from}: {self.legal_reference}"

    @property
    def birth_days(self) -> frozenset[int]:
        return frozenset(int(day) for day in self.research_birth_days.split(",") if day)


class HoldKind(models.TextChoices):
    APPEAL = "appeal", _("Pågående överklagande")
    IVO = "ivo", _("Ärende hos IVO")
    OTHER = "other", _("Annat rättsligt skäl")


class LegalHold(models.Model):
    """Stops the gallring of one case file until lifted. Goes with the file when it is
    finally deleted; the gallring report says the file was held while it was."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="legal_holds")
    kind = models.CharField(_("typ"), max_length=16, choices=HoldKind.choices)
    reason = models.TextField(_("skäl"))
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("satt"), auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    lifted_at = models.DateTimeField(_("hävt"), null=True, blank=True)
    lift_reason = models.TextField(_("skäl att häva"), blank=True)

    class Meta:
        verbose_name = _("gallringsstopp")
        verbose_name_plural = _("gallringsstopp")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.CheckConstraint(name="hold_has_reason", condition=~Q(reason="")),
            models.CheckConstraint(
                name="hold_lift_has_reason",
                condition=Q(lifted_at__isnull=True) | ~Q(lift_reason=""),
            ),
            *text_limits("hold", "reason", "lift_reason"),
        ]
        indexes = [
            models.Index(fields=["case"], condition=Q(lifted_at__isnull=True), name="hold_active")
        ]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_kind_display()})"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Föreslagen")
    APPROVED = "approved", _("Beslutad, pågår")
    DONE = "done", _("Genomförd")


class GallringProposal(models.Model):
    """What the monthly job found due at one agency, the archive officer's decision, and once
    carried out the gallring report: what went, when, by whose decision, on what ground."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("föreslagen"), auto_now_add=True)
    as_of = models.DateField(_("per dag"))
    legal_reference = models.CharField(_("lagrum"), max_length=300)
    status = models.CharField(
        _("status"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("beslutad av"),
    )
    decided_at = models.DateTimeField(_("beslutad"), null=True, blank=True)
    completed_at = models.DateTimeField(_("genomförd"), null=True, blank=True)
    # When its execution was last published, or last got on: the requeuer's clock.
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("gallringsförslag")
        verbose_name_plural = _("gallringsförslag")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="proposal_decision_has_decider",
                condition=Q(status="proposed")
                | (Q(decided_by__isnull=False) & Q(decided_at__isnull=False)),
            ),
        ]
        indexes = [
            models.Index(
                fields=["queued_at"], condition=Q(status="approved"), name="proposal_approved"
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"GALLR-{self.created_at:%Y}-{self.pk:05d}"


class ItemAction(models.TextChoices):
    DELETE = "delete", _("Gallras")
    ARCHIVE = "archive", _("Bevaras (forskningsurval), arkivexport")


class ItemOutcome(models.TextChoices):
    PENDING = "pending", _("Väntar")
    DELETED = "deleted", _("Gallrad")
    ARCHIVED = "archived", _("Arkivexport beställd")
    NO_LONGER_DUE = "no_longer_due", _("Inte längre aktuell (ny anteckning)")
    HELD = "held", _("Gallringsstopp")
    GONE = "gone", _("Akten fanns inte längre")


class GallringItem(models.Model):
    """One case file of a proposal, by reference and id only: no name, no identity number."""

    proposal = models.ForeignKey(GallringProposal, on_delete=models.PROTECT, related_name="items")
    case_id = models.BigIntegerField(_("ärende-id"))
    individual_id = models.BigIntegerField(_("person-id"))
    case_reference = models.CharField(_("ärende"), max_length=32)
    last_entry_on = models.DateField(_("senaste anteckning"))
    due_on = models.DateField(_("gallras från"))
    deadline = models.DateField(_("gallrad senast"))
    action = models.CharField(_("åtgärd"), max_length=16, choices=ItemAction.choices)
    outcome = models.CharField(
        _("utfall"), max_length=16, choices=ItemOutcome.choices, default=ItemOutcome.PENDING
    )
    done_at = models.DateTimeField(_("utförd"), null=True, blank=True)
    # What the deleted case's and person's ids in the audit log stand for from now on.
    pseudonym = models.CharField(_("pseudonym"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("akt i gallringsförslag")
        verbose_name_plural = _("akter i gallringsförslag")
        ordering = ["due_on", "case_id"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "case_id"], name="item_case_once"),
            models.UniqueConstraint(
                fields=["pseudonym"], condition=~Q(pseudonym=""), name="item_pseudonym_unique"
            ),
            models.CheckConstraint(
                name="item_deleted_has_pseudonym",
                condition=~Q(outcome="deleted") | ~Q(pseudonym=""),
            ),
        ]
        indexes = [models.Index(fields=["case_id"], name="item_case")]

    def __str__(self) -> str:
        return f"{self.case_reference} ({self.get_outcome_display()})"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", _("I kö")
    READY = "ready", _("Klar")
    FAILED = "failed", _("Misslyckades")


class DocumentFields(models.Model):
    """A PDF made by a Celery task and kept in the private document store."""

    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    document_path = models.CharField(max_length=200, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    # When the job was last published: the requeuer's clock.
    queued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True

    @property
    def status_label(self) -> str:
        return DocumentStatus(self.status).label


class ArchiveExport(DocumentFields):
    """A research-sample case file exported to the archive: a PDF/A of the whole file and a
    manifest with checksums. The case stays; the export is the archive's copy."""

    case_id = models.BigIntegerField(_("ärende-id"))
    case_reference = models.CharField(_("ärende"), max_length=32)
    item = models.ForeignKey(
        GallringItem, on_delete=models.PROTECT, null=True, blank=True, related_name="exports"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    manifest_path = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("arkivexport")
        verbose_name_plural = _("arkivexporter")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case_id", "-created_at"], name="archive_case_time"),
            models.Index(
                fields=["queued_at"], condition=Q(status="queued"), name="archive_export_queued"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_reference} ({self.created_at:%Y-%m-%d})"


class ExtractKind(models.TextChoices):
    REGISTER = "register", _("Registerutdrag")
    LOG = "log", _("Loggutdrag")


class Extract(DocumentFields):
    """A person's register extract (GDPR art. 15) or log extract (who has read the file),
    made at the person's request by the responsible worker after checking their identity,
    and handed over only by that worker: it is never mailed, and its only copy is in the
    document store. Deleted with the case file."""

    kind = models.CharField(_("typ"), max_length=16, choices=ExtractKind.choices)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="extracts")
    individual = models.ForeignKey(Individual, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    identity_checked = models.CharField(_("identiteten kontrollerad genom"), max_length=200)

    class Meta:
        verbose_name = _("utdrag")
        verbose_name_plural = _("utdrag")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="extract_identity_checked", condition=~Q(identity_checked="")
            )
        ]
        indexes = [
            models.Index(fields=["queued_at"], condition=Q(status="queued"), name="extract_queued")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case}"

    @property
    def kind_label(self) -> str:
        return ExtractKind(self.kind).label
