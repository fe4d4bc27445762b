"""Quarterly reports of the statistics as PDF, made by a Celery job."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("I kö")
    GENERATING = "generating", _("Skapas")
    READY = "ready", _("Klar")
    FAILED = "failed", _("Misslyckades")


PENDING_REPORT = (ReportStatus.QUEUED, ReportStatus.GENERATING)


class QuarterlyReport(models.Model):
    # The orderer's agency: the national coordination's report counts every municipality
    # (suppressed), a municipality's its own. Its coordinators read it.
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("år"))
    quarter = models.PositiveSmallIntegerField(_("kvartal"))
    status = models.CharField(
        max_length=16, choices=ReportStatus.choices, default=ReportStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(default=timezone.now)
    generated_at = models.DateTimeField(null=True, blank=True)
    document_path = models.CharField(max_length=200, blank=True)
    page_count = models.PositiveSmallIntegerField(default=0)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="report_quarter_valid", condition=Q(quarter__gte=1, quarter__lte=4)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} Q{self.quarter}"

    def get_absolute_url(self) -> str:
        return reverse("followup:report", args=[self.pk])

    @property
    def status_label(self) -> str:
        return ReportStatus(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_REPORT
