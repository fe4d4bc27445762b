"""Referrals (remisser) and SIP plans, rendered to PDF by background jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency
from cases.models import Case, Consent, InterventionKind, LegalBasis, text_limits


class DocumentKind(models.TextChoices):
    REFERRAL = "referral", _("Remiss")
    SIP = "sip", _("SIP (samordnad individuell plan)")


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("Utkast")
    QUEUED = "queued", _("I kö")
    GENERATING = "generating", _("Skapas")
    READY = "ready", _("Klar")
    SENT = "sent", _("Skickad")
    ACCEPTED = "accepted", _("Accepterad")
    DECLINED = "declined", _("Avböjd")
    FAILED = "failed", _("Misslyckades")


# Statuses in which the receiving agency sees the referral.
DELIVERED_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.DECLINED)
PENDING_STATUSES = (ReferralStatus.QUEUED, ReferralStatus.GENERATING)


class Referral(models.Model):
    kind = models.CharField(
        max_length=16, choices=DocumentKind.choices, default=DocumentKind.REFERRAL
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="sent_referrals")
    to_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="received_referrals",
        verbose_name=_("mottagande myndighet"),
    )
    external_recipient = models.CharField(_("extern mottagare"), max_length=200, blank=True)
    intervention_kind = models.CharField(
        _("insats som efterfrågas"), max_length=32, choices=InterventionKind.choices, blank=True
    )
    reason = models.TextField(_("skäl"), blank=True)
    summary = models.TextField(_("sammanfattning"), blank=True)
    requested_start = models.DateField(_("önskad start"), null=True, blank=True)
    contact_person = models.CharField(_("kontaktperson"), max_length=200)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals"
    )
    # Without a consent naming the recipient, the grounds the referral rests on, as for a share.
    legal_basis = models.CharField(
        _("rättslig grund"), max_length=32, choices=LegalBasis.choices, blank=True
    )
    legal_basis_citation = models.CharField(_("hänvisning"), max_length=300, blank=True)
    include_interventions = models.BooleanField(_("ta med insatser"), default=False)
    include_threat_level = models.BooleanField(_("ta med hotnivå"), default=False)
    include_journal = models.BooleanField(_("ta med journal"), default=False)
    # SIP only: who holds overall responsibility, and the next joint follow-up.
    overall_responsibility = models.CharField(_("övergripande ansvar"), max_length=200, blank=True)
    next_follow_up = models.DateField(_("nästa uppföljning"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    # The document: a path under DOCUMENT_ROOT, never a URL.
    document_path = models.CharField(max_length=200, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    document_size = models.PositiveIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When it went to the recipient: how long an answer has been awaited.
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answered_referrals",
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_comment = models.TextField(_("kommentar"), blank=True)

    class Meta:
        verbose_name = _("remiss")
        verbose_name_plural = _("remisser")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="referral_has_recipient",
                condition=Q(kind="sip") | Q(to_agency__isnull=False) | ~Q(external_recipient=""),
            ),
            models.CheckConstraint(
                name="referral_ready_has_document",
                condition=~Q(status__in=["ready", "sent", "accepted", "declined"])
                | (~Q(document_path="") & ~Q(document_sha256="")),
            ),
            *text_limits("referral", "reason", "summary", "answer_comment"),
        ]
        indexes = [
            models.Index(fields=["from_agency", "status"], name="referral_from_status"),
            models.Index(fields=["to_agency", "status"], name="referral_to_status"),
            models.Index(
                fields=["queued_at"],
                condition=Q(status__in=["queued", "generating"]),
                name="referral_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("referrals:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"REM-{self.created_at:%Y}-{self.pk:06d}"

    @property
    def status_label(self) -> str:
        return ReferralStatus(self.status).label

    @property
    def recipient_display(self) -> str:
        return self.to_agency.name if self.to_agency_id else self.external_recipient

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES
