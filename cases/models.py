"""Case records: people, their cases, support, threat assessments, journal, consent, sharing."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from avhopp.models import Agency
from cases.identity import REGISTRATION_REFUSED

# The longest free text a form takes; the database holds every text column to it as well, so
# nothing that bypasses the forms (a service called directly, the admin) stores more.
TEXT_LIMIT = 10_000


def text_limits(prefix: str, *fields: str, limit: int = TEXT_LIMIT) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            name=f"{prefix}_{field}_length",
            condition=Q(LessThanOrEqual(Length(field), limit)),
        )
        for field in fields
    ]


class ProtectionLevel(models.TextChoices):
    NONE = "none", _("Ingen")
    CONFIDENTIALITY_MARKING = "confidentiality_marking", _("Sekretessmarkering")
    PROTECTED_REGISTRATION = "protected_registration", _("Skyddad folkbokföring")
    FICTITIOUS_IDENTITY = "fictitious_identity", _("Fingerade personuppgifter")


class Gender(models.TextChoices):
    FEMALE = "female", _("Kvinna")
    MALE = "male", _("Man")
    OTHER = "other", _("Annat")


class Individual(models.Model):
    first_name = models.CharField(_("förnamn"), max_length=100)
    last_name = models.CharField(_("efternamn"), max_length=100)
    # 12 digits, or NULL when unknown and a reserve identity is used. NULL rather than ""
    # so the unique constraints let any number of people lack one of the two.
    personnummer = models.CharField(_("personnummer"), max_length=12, null=True, blank=True)  # noqa: DJ001
    reserve_number = models.CharField(_("reservnummer"), max_length=20, null=True, blank=True)  # noqa: DJ001
    birth_date = models.DateField(_("födelsedatum"), null=True, blank=True)
    gender = models.CharField(_("kön"), max_length=16, choices=Gender.choices, blank=True)
    protection_level = models.CharField(
        _("skyddade personuppgifter"),
        max_length=32,
        choices=ProtectionLevel.choices,
        default=ProtectionLevel.NONE,
    )
    phone = models.CharField(_("telefon"), max_length=40, blank=True)
    address = models.CharField(_("adress"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by an edit (cases.services.individual_update), not at registration: an edit is an
    # entry in the person's file and moves its gallring date (retention.services).
    updated_at = models.DateTimeField(_("senast ändrad"), null=True, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("personer")
        constraints = [
            models.UniqueConstraint(
                fields=["personnummer"],
                condition=Q(personnummer__isnull=False),
                name="individual_unique_personnummer",
                # A form that checks the constraint says what every refusal says: a number
                # registered by another request meanwhile must not answer differently.
                violation_error_code="refused",
                violation_error_message=REGISTRATION_REFUSED,
            ),
            models.UniqueConstraint(
                fields=["reserve_number"],
                condition=Q(reserve_number__isnull=False),
                name="individual_unique_reserve_number",
            ),
            models.CheckConstraint(
                name="individual_has_identity",
                condition=Q(personnummer__isnull=False) | Q(reserve_number__isnull=False),
            ),
            models.CheckConstraint(
                name="individual_personnummer_twelve_digits",
                condition=Q(personnummer__isnull=True) | Q(personnummer__regex=r"^[0-9]{12}$"),
            ),
        ]
        indexes = [models.Index(fields=["last_name", "first_name"], name="individual_name")]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_protected(self) -> bool:
        return self.protection_level != ProtectionLevel.NONE


class CaseStatus(models.TextChoices):
    REPORTED = "reported", _("Aktualisering")
    INITIAL_ASSESSMENT = "initial_assessment", _("Initial bedömning")
    INVESTIGATION = "investigation", _("Utredning")
    INTERVENTIONS = "interventions", _("Insatser")
    FOLLOW_UP = "follow_up", _("Uppföljning")
    CLOSED = "closed", _("Avslutad")
    DROPPED_OUT = "dropped_out", _("Avbruten")


OPEN_STATUSES = frozenset(
    {
        CaseStatus.REPORTED,
        CaseStatus.INITIAL_ASSESSMENT,
        CaseStatus.INVESTIGATION,
        CaseStatus.INTERVENTIONS,
        CaseStatus.FOLLOW_UP,
    }
)
# The process moves forward one step at a time; any open case may drop out.
NEXT_STATUS = {
    CaseStatus.REPORTED: CaseStatus.INITIAL_ASSESSMENT,
    CaseStatus.INITIAL_ASSESSMENT: CaseStatus.INVESTIGATION,
    CaseStatus.INVESTIGATION: CaseStatus.INTERVENTIONS,
    CaseStatus.INTERVENTIONS: CaseStatus.FOLLOW_UP,
    CaseStatus.FOLLOW_UP: CaseStatus.CLOSED,
}
STATUSES_NEEDING_REASON = frozenset({CaseStatus.CLOSED, CaseStatus.DROPPED_OUT})


class EndReason(models.TextChoices):
    """Why a case ended, as a code the national statistics can count (the free-text reason
    says the rest). Each code belongs to one ending: completed or interrupted."""

    GOALS_MET = "goals_met", _("Målen uppnådda")
    SUPPORT_ELSEWHERE = "support_elsewhere", _("Stöd fortsätter på annat sätt")
    PERSON_LEFT = "person_left", _("Personen avbröt")
    AGREEMENT_BROKEN = "agreement_broken", _("Överenskommelsen bröts")
    NEW_CRIME = "new_crime", _("Ny brottslighet")
    CONTACT_LOST = "contact_lost", _("Kontakten förlorades")
    OTHER = "other", _("Annat skäl")


END_REASONS = {
    CaseStatus.CLOSED: (EndReason.GOALS_MET, EndReason.SUPPORT_ELSEWHERE, EndReason.OTHER),
    CaseStatus.DROPPED_OUT: (
        EndReason.PERSON_LEFT,
        EndReason.AGREEMENT_BROKEN,
        EndReason.NEW_CRIME,
        EndReason.CONTACT_LOST,
        EndReason.OTHER,
    ),
}


def allowed_transitions(status: str) -> list[CaseStatus]:
    if status not in OPEN_STATUSES:
        return []
    return [NEXT_STATUS[CaseStatus(status)], CaseStatus.DROPPED_OUT]


class ReferralSource(models.TextChoices):
    POLICE = "police", _("Polisen")
    PROBATION = "probation", _("Kriminalvården/frivården")
    SCHOOL = "school", _("Skola")
    ORGANISATION = "organisation", _("Organisation")
    SELF = "self", _("Personen själv")
    OTHER = "other", _("Annan")


class ThreatLevel(models.TextChoices):
    """The documented scale, lowest first; `THREAT_RANK` orders it."""

    NONE_KNOWN = "none_known", _("Ingen känd hotbild")
    LOW = "low", _("Låg")
    ELEVATED = "elevated", _("Förhöjd")
    HIGH = "high", _("Hög")
    SEVERE = "severe", _("Allvarlig")


THREAT_RANK = {level: rank for rank, level in enumerate(ThreatLevel)}


class Case(models.Model):
    individual = models.ForeignKey(
        Individual, on_delete=models.PROTECT, related_name="cases", verbose_name=_("person")
    )
    owning_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="owned_cases",
        verbose_name=_("ansvarig kommun"),
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="responsible_cases",
        verbose_name=_("ansvarig handläggare"),
    )
    status = models.CharField(
        _("status"), max_length=32, choices=CaseStatus.choices, default=CaseStatus.REPORTED
    )
    referral_source = models.CharField(
        _("aktualiserad av"), max_length=32, choices=ReferralSource.choices
    )
    motivation_notes = models.TextField(_("motivation"), blank=True)
    agreement_signed_on = models.DateField(_("överenskommelse undertecknad"), null=True, blank=True)
    agreement_conditions = models.TextField(_("villkor i överenskommelsen"), blank=True)
    opened_at = models.DateTimeField(_("aktualiserad"), default=timezone.now)
    first_support_at = models.DateTimeField(_("första insats beslutad"), null=True, blank=True)
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    close_reason = models.TextField(_("skäl till avslut"), blank=True)
    # Blank for cases ended before reasons were coded (db_default: bulk loads may omit it).
    end_reason = models.CharField(
        _("orsak till avslut"),
        max_length=32,
        choices=EndReason.choices,
        blank=True,
        default="",
        db_default="",
    )
    # Kept in step by the threat-assessment service, so lists filter without a join.
    threat_level = models.CharField(
        _("hotnivå"), max_length=16, choices=ThreatLevel.choices, blank=True
    )
    threat_review_due = models.DateField(_("nästa omprövning av hotbild"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("ärende")
        verbose_name_plural = _("ärenden")
        constraints = [
            models.CheckConstraint(
                name="case_closed_has_reason",
                condition=~Q(status__in=["closed", "dropped_out"])
                | (Q(closed_at__isnull=False) & ~Q(close_reason="")),
            ),
            models.CheckConstraint(
                name="case_status_valid",
                condition=Q(status__in=CaseStatus.values),
            ),
            *text_limits("case", "motivation_notes", "agreement_conditions", "close_reason"),
        ]
        indexes = [
            models.Index(fields=["owning_agency", "status"], name="case_agency_status"),
            models.Index(fields=["responsible", "status"], name="case_responsible_status"),
            models.Index(fields=["threat_review_due"], name="case_threat_review_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("cases:detail", args=[self.pk])

    # The choices' enum labels, for lists that show many cases (see AuditEvent.action_label).
    @property
    def status_label(self) -> str:
        return CaseStatus(self.status).label

    @property
    def threat_level_label(self) -> str:
        return ThreatLevel(self.threat_level).label if self.threat_level else ""

    @property
    def reference(self) -> str:
        return f"AVH-{self.opened_at:%Y}-{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def threat_review_overdue(self) -> bool:
        return self.threat_review_overdue_on(timezone.localdate())

    def threat_review_overdue_on(self, day: date) -> bool:
        return self.threat_review_due is not None and self.threat_review_due < day

    @property
    def days_to_first_support(self) -> int | None:
        if self.first_support_at is None:
            return None
        return (self.first_support_at - self.opened_at).days


class CaseStatusChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=32, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(max_length=32, choices=CaseStatus.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    changed_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        constraints = text_limits("status_change", "reason")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class InterventionKind(models.TextChoices):
    EMERGENCY_HOUSING = "emergency_housing", _("Akut boende")
    PROTECTED_HOUSING = "protected_housing", _("Skyddat boende")
    LONG_TERM_HOUSING = "long_term_housing", _("Långsiktigt boende")
    WORK = "work", _("Arbete")
    EDUCATION = "education", _("Utbildning")
    ADDICTION_CARE = "addiction_care", _("Missbruksvård")
    MENTAL_HEALTH = "mental_health", _("Psykisk hälsa")
    PROTECTION = "protection", _("Skydd")
    DEBT_AND_FINANCES = "debt_and_finances", _("Skulder och ekonomi")
    FAMILY_SUPPORT = "family_support", _("Stöd till anhöriga")
    CONTACT_PERSON = "contact_person", _("Kontaktperson")
    TATTOO_REMOVAL = "tattoo_removal", _("Borttagning av tatuering")
    OTHER = "other", _("Annan")


class InterventionStatus(models.TextChoices):
    PLANNED = "planned", _("Planerad")
    ONGOING = "ongoing", _("Pågående")
    COMPLETED = "completed", _("Avslutad")
    CANCELLED = "cancelled", _("Avbruten")


ACTIVE_INTERVENTION_STATUSES = (InterventionStatus.PLANNED, InterventionStatus.ONGOING)


class Intervention(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="interventions")
    kind = models.CharField(_("typ av insats"), max_length=32, choices=InterventionKind.choices)
    provider_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provided_interventions",
        verbose_name=_("utförare (myndighet)"),
    )
    provider_name = models.CharField(_("utförare (extern)"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=InterventionStatus.choices,
        default=InterventionStatus.PLANNED,
    )
    decision_date = models.DateField(_("beslutsdatum"), null=True, blank=True)
    start_date = models.DateField(_("startdatum"), null=True, blank=True)
    end_date = models.DateField(_("slutdatum"), null=True, blank=True)
    follow_up_date = models.DateField(_("uppföljningsdatum"), null=True, blank=True)
    goal = models.TextField(_("mål"), blank=True)
    outcome = models.TextField(_("resultat"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("insats")
        verbose_name_plural = _("insatser")
        ordering = ["-decision_date", "-id"]
        constraints = [
            models.CheckConstraint(
                name="intervention_has_provider",
                condition=Q(provider_agency__isnull=False) | ~Q(provider_name=""),
            ),
            models.CheckConstraint(
                name="intervention_ends_after_start",
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
            ),
            *text_limits("intervention", "goal", "outcome"),
        ]
        indexes = [
            models.Index(
                fields=["case", "follow_up_date"],
                condition=Q(status__in=["planned", "ongoing"]),
                name="intervention_active_follow_up",
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()

    def get_absolute_url(self) -> str:
        return reverse("cases:intervention_edit", args=[self.case_id, self.pk])

    @property
    def provider_display(self) -> str:
        return self.provider_agency.name if self.provider_agency_id else self.provider_name

    @property
    def follow_up_overdue(self) -> bool:
        return (
            self.status in ACTIVE_INTERVENTION_STATUSES
            and self.follow_up_date is not None
            and self.follow_up_date < timezone.localdate()
        )


class ThreatAssessment(models.Model):
    """A police assessment. Never edited: a newer one supersedes it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="threat_assessments")
    level = models.CharField(_("hotnivå"), max_length=16, choices=ThreatLevel.choices)
    summary = models.TextField(_("sammanfattning för ärendegruppen"))
    # Police only: enforced by cases.policy; no template for other roles renders it.
    details = models.TextField(_("detaljer (endast polis)"), blank=True)
    protected_address = models.BooleanField(_("skyddad adress"), default=False)
    relocation = models.BooleanField(_("flytt till annan ort"), default=False)
    personal_protection = models.BooleanField(_("personskydd"), default=False)
    other_measures = models.CharField(_("andra skyddsåtgärder"), max_length=300, blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    assessed_at = models.DateTimeField(default=timezone.now)
    next_review_date = models.DateField(_("nästa omprövning"))

    class Meta:
        verbose_name = _("hotbedömning")
        verbose_name_plural = _("hotbedömningar")
        ordering = ["-assessed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="threat_level_valid", condition=Q(level__in=ThreatLevel.values)
            ),
            *text_limits("threat", "summary", "details"),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} ({self.assessed_at:%Y-%m-%d})"

    @property
    def measures(self) -> list[str]:
        chosen = [
            (self.protected_address, _("Skyddad adress")),
            (self.relocation, _("Flytt till annan ort")),
            (self.personal_protection, _("Personskydd")),
        ]
        labels = [str(label) for flag, label in chosen if flag]
        if self.other_measures:
            labels.append(self.other_measures)
        return labels


class JournalEntry(models.Model):
    """Append-only. A correction is a new entry pointing at the one it corrects."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="journal_entries")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    text = models.TextField(_("anteckning"))
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("rättar anteckning"),
    )

    class Meta:
        verbose_name = _("journalanteckning")
        verbose_name_plural = _("journalanteckningar")
        ordering = ["-created_at", "-id"]
        constraints = text_limits("journal", "text")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.author}"


class ConsentScope(models.TextChoices):
    """What a receiving agency may read. Case basics are always part of a share."""

    INTERVENTIONS = "interventions", _("Insatser")
    THREAT_LEVEL = "threat_level", _("Hotnivå och sammanfattning")
    JOURNAL = "journal", _("Journal")


class ScopeFields(models.Model):
    scope_interventions = models.BooleanField(_("insatser"), default=False)
    scope_threat_level = models.BooleanField(_("hotnivå och sammanfattning"), default=False)
    scope_journal = models.BooleanField(_("journal"), default=False)

    class Meta:
        abstract = True

    def covers(self, scope: ConsentScope) -> bool:
        return bool(getattr(self, f"scope_{scope.value}"))

    @property
    def scope_labels(self) -> list[str]:
        return [str(_("Grunduppgifter"))] + [str(s.label) for s in ConsentScope if self.covers(s)]


class Consent(ScopeFields):
    """The person's written consent to share with one named agency."""

    individual = models.ForeignKey(Individual, on_delete=models.CASCADE, related_name="consents")
    recipient = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="consents", verbose_name=_("mottagare")
    )
    given_on = models.DateField(_("lämnat"))
    valid_until = models.DateField(_("giltigt till"), null=True, blank=True)
    document_reference = models.CharField(_("dokumentreferens"), max_length=100)
    # Not a section of the case to read (ConsentScope) but a process the person agrees to:
    # a coordinated move to another municipality, its matching and its handover
    # (relocations app). The recipient is the national coordination that matches it.
    relocation = models.BooleanField(_("omplacering till annan kommun"), default=False)
    withdrawn_at = models.DateTimeField(_("återkallat"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("samtycke")
        verbose_name_plural = _("samtycken")
        ordering = ["-given_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="consent_valid_after_given",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("given_on")),
            ),
        ]

    def __str__(self) -> str:
        # Shown in choice lists: the scope tells the coordinator which sections it allows.
        labels = [*self.scope_labels, *([str(_("Omplacering"))] if self.relocation else [])]
        return f"{self.recipient} ({self.given_on}): {', '.join(labels)}"

    def is_current(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.withdrawn_at is None
            and self.given_on <= on
            and (self.valid_until is None or self.valid_until >= on)
        )


class LegalBasis(models.TextChoices):
    """Grounds for sharing without consent. Each use is logged with a citation."""

    NECESSARY_FOR_DUTY = "osl_10_2", _("OSL 10 kap. 2 § (nödvändigt för att fullgöra verksamheten)")
    DUTY_TO_REPORT = "osl_10_28", _("OSL 10 kap. 28 § (uppgiftsskyldighet enligt lag)")
    SUSPECTED_CRIME = "osl_10_21", _("OSL 10 kap. 21-23 §§ (misstanke om brott)")
    IMMEDIATE_DANGER = "rf_necessity", _("Nöd: fara för liv eller hälsa")


class CaseShare(ScopeFields):
    """A case shared with another agency, on consent or on a recorded legal basis."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="shared_cases")
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="shares"
    )
    legal_basis = models.CharField(
        _("rättslig grund"), max_length=32, choices=LegalBasis.choices, blank=True
    )
    legal_basis_citation = models.CharField(_("hänvisning"), max_length=300, blank=True)
    # Copied from the consent, so visibility can be decided in the list query itself.
    expires_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("delning")
        verbose_name_plural = _("delningar")
        constraints = [
            models.CheckConstraint(
                name="share_has_consent_or_legal_basis",
                condition=Q(consent__isnull=False)
                | (~Q(legal_basis="") & ~Q(legal_basis_citation="")),
            ),
            models.UniqueConstraint(
                fields=["case", "agency"],
                condition=Q(revoked_at__isnull=True),
                name="share_one_active_per_agency",
            ),
        ]
        indexes = [
            # Read on every case read: the agency's active shares whose consent ran out.
            models.Index(
                fields=["agency", "expires_on"],
                condition=Q(revoked_at__isnull=True),
                name="share_active_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.agency}"


class CoordinationAlert(models.Model):
    """Another agency tried to register a person who has an open case here: the owning
    agency's coordinators are told which case, so they can get in touch and share it."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="coordination_alerts", verbose_name=_("ärende")
    )
    from_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("från myndighet")
    )
    created_at = models.DateTimeField(_("skapad"), default=timezone.now)
    seen_at = models.DateTimeField(_("sedd"), null=True, blank=True)

    class Meta:
        verbose_name = _("samordningslarm")
        verbose_name_plural = _("samordningslarm")
        indexes = [models.Index(fields=["case", "-created_at"], name="alert_case_time")]

    def __str__(self) -> str:
        return f"{self.case} ← {self.from_agency}"


class CaseTeamMember(models.Model):
    """Someone who works on the case beside the responsible worker: the owning agency's
    staff in the team read it without stating a reason each time (cases.policy). Membership
    opens nothing: it is only for those who may read the case already, and is removed with
    their agency's access (cases.services)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="case_teams",
        verbose_name=_("medlem"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("tillagd"), default=timezone.now)

    class Meta:
        verbose_name = _("medlem i ärendets team")
        verbose_name_plural = _("medlemmar i ärendets team")
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_team_one_membership"),
        ]

    def __str__(self) -> str:
        return f"{self.case} + {self.user}"


class JournalExtractStatus(models.TextChoices):
    QUEUED = "queued", _("Skapas")
    READY = "ready", _("Klart")
    FAILED = "failed", _("Misslyckades")


class JournalExtract(models.Model):
    """The case's journal as a PDF for the file, up to the moment it was ordered: made by a
    Celery job, kept in the private document store, downloaded by the reader who ordered it
    (cases.policy.JournalExtractPolicy), each download logged. Deleted with the case file."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="journal_extracts")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    # When the job was last published: the requeuer's clock.
    queued_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=JournalExtractStatus.choices, default=JournalExtractStatus.QUEUED
    )
    document_path = models.CharField(max_length=200, blank=True)
    page_count = models.PositiveSmallIntegerField(default=0)
    entry_count = models.PositiveIntegerField(default=0)
    generated_at = models.DateTimeField(null=True, blank=True)
    error_message = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("journalutdrag")
        verbose_name_plural = _("journalutdrag")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="journal_extract_status_valid",
                condition=Q(status__in=JournalExtractStatus.values),
            ),
            models.CheckConstraint(
                name="journal_extract_ready_has_document",
                condition=~Q(status=JournalExtractStatus.READY) | ~Q(document_path=""),
            ),
        ]
        indexes = [
            # The case page lists the reader's own extracts of the case.
            models.Index(
                fields=["case", "requested_by", "-requested_at"], name="journal_extract_reader"
            ),
            models.Index(
                fields=["queued_at"],
                condition=Q(status="queued"),
                name="journal_extract_queued",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} {timezone.localtime(self.requested_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("cases:journal_extract", args=[self.case_id, self.pk])

    @property
    def status_label(self) -> str:
        return JournalExtractStatus(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status == JournalExtractStatus.QUEUED

    @property
    def is_ready(self) -> bool:
        return self.status == JournalExtractStatus.READY


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass


class LogSampleReview(models.Model):
    """A log reviewer's mark that an event of the month's sample (cases.audit_selectors) was
    reviewed, with an optional note. Per agency: each agency reviews its own sample. The event
    is named by its id and time (the log's partition key), like the log's shown cases."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("myndighet")
    )
    event_id = models.BigIntegerField(_("händelse-id"))
    event_occurred_at = models.DateTimeField(_("händelsens tid (UTC)"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("granskad av"),
    )
    reviewed_at = models.DateTimeField(_("granskad"), default=timezone.now)
    note = models.CharField(_("anteckning"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("granskat stickprov")
        verbose_name_plural = _("granskade stickprov")
        constraints = [
            models.UniqueConstraint(fields=["agency", "event_id"], name="sample_review_once"),
        ]
        indexes = [
            models.Index(fields=["agency", "event_occurred_at"], name="sample_review_month"),
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}: {self.event_id}"
