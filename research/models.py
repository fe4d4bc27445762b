"""Researchers' requests for extracts of the national register, the national coordinator's
decision, and the extract built for an approved one. Lives in the municipal application's
database (it names users and agencies); the extract's rows come from the register."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency

# Etikprövningsmyndigheten's reference, e.g. 2024-01234-01 (older ones without the suffix).
ETHICS_REFERENCE = r"^(Dnr )?[0-9]{4}-[0-9]{4,5}(-[0-9]{2})?$"


class Variable(models.TextChoices):
    """What an extract may hold: codes from the register, nothing finer."""

    AGE_BAND = "age_band", _("Åldersgrupp vid aktualisering")
    GENDER = "gender", _("Kön")
    REGION = "region", _("Län")
    YEAR = "year", _("År för aktualisering")
    STATUS = "status", _("Status")
    OUTCOME = "outcome", _("Orsak till avslut")
    ENDED_YEAR = "ended_year", _("År för avslut")
    RELOCATED = "relocated", _("Omplacerad")
    INTERVENTION_KINDS = "intervention_kinds", _("Typer av insatser")
    # One column per configured follow-up point and question (research.services).
    FOLLOW_UPS = "follow_ups", _("Resultat vid uppföljning")


PURPOSE_MIN, PURPOSE_MAX = 20, 2000

# The quasi-identifiers: an extract is k-anonymous on those of them it holds. The outcomes at
# follow-up are not among them: they are known only to the programme, not something another
# source could link a person by, and they are what the research is about.
QUASI_IDENTIFIERS = (Variable.AGE_BAND, Variable.GENDER, Variable.REGION, Variable.YEAR)


class ExtractStatus(models.TextChoices):
    REQUESTED = "requested", _("Väntar på beslut")
    REFUSED = "refused", _("Avslagen")
    QUEUED = "queued", _("Godkänd, i kö")
    BUILDING = "building", _("Byggs")
    READY = "ready", _("Klar")
    # The build found that k-anonymity would cost too many records: refused by the rule.
    TOO_IDENTIFYING = "too_identifying", _("Kan inte lämnas ut")
    FAILED = "failed", _("Misslyckades")


PENDING = (ExtractStatus.QUEUED, ExtractStatus.BUILDING)


class ExtractRequest(models.Model):
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="extract_requests"
    )
    research_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # The national coordination that decides: only its national coordinators see the request.
    coordinating_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "national_coordination"},
        verbose_name=_("nationell samordning"),
    )
    purpose = models.TextField(_("syfte"))
    variables = models.JSONField(_("variabler"))
    ethics_reference = models.CharField(_("Etikprövningsmyndighetens diarienummer"), max_length=20)
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=ExtractStatus.choices, default=ExtractStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("motivering"), blank=True)
    progress = models.PositiveSmallIntegerField(default=0)  # percent, while building
    queued_at = models.DateTimeField(null=True, blank=True)
    explanation = models.TextField(blank=True)  # why it could not be built or given out
    # The extract: its files under DOCUMENT_ROOT, how it was made, and until when it is given.
    file_stem = models.CharField(max_length=100, blank=True)
    records = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    generalised = models.CharField(max_length=200, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="extract_ethics_reference_given",
                condition=Q(ethics_reference__regex=ETHICS_REFERENCE),
            ),
            models.CheckConstraint(
                name="extract_refusal_has_reason",
                condition=~Q(status="refused") | ~Q(decision_reason=""),
            ),
            models.CheckConstraint(
                name="extract_purpose_length",
                condition=Q(GreaterThanOrEqual(Length("purpose"), PURPOSE_MIN))
                & Q(LessThanOrEqual(Length("purpose"), PURPOSE_MAX)),
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("research:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"UTTAG-{self.requested_at:%Y}-{self.pk or 0:05d}"

    @property
    def status_label(self) -> str:
        return ExtractStatus(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING

    @property
    def variable_labels(self) -> list[str]:
        return [str(Variable(v).label) for v in self.variables]
