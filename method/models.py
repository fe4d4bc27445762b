"""Method support: phase checklists (a national default each municipality may adapt, in
versions), decisions under the municipality's delegation order, agreements with conditions,
and structured outcomes at follow-up."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency
from cases.hooks import DecisionKind
from cases.models import Case, CaseStatus, text_limits


class Phase(models.TextChoices):
    """The seven phases of the agencies' process map, in order."""

    REPORTED = "reported", _("Aktualisering")
    INITIAL_ASSESSMENT = "initial_assessment", _("Initial bedömning")
    INVESTIGATION = "investigation", _("Utredning")
    DECISION = "decision", _("Beslut")
    IMPLEMENTATION = "implementation", _("Genomförande")
    FOLLOW_UP = "follow_up", _("Uppföljning")
    CLOSURE = "closure", _("Avslut")


# The case's status has five open steps, the process map seven phases: rather than a second
# state on the case, each phase is worked in one status and its required steps hold the case
# there. Deciding is the end of the investigation (moving on is the decision on support);
# closing is the end of the follow-up (moving on closes the case).
PHASE_STATUS = {
    Phase.REPORTED: CaseStatus.REPORTED,
    Phase.INITIAL_ASSESSMENT: CaseStatus.INITIAL_ASSESSMENT,
    Phase.INVESTIGATION: CaseStatus.INVESTIGATION,
    Phase.DECISION: CaseStatus.INVESTIGATION,
    Phase.IMPLEMENTATION: CaseStatus.INTERVENTIONS,
    Phase.FOLLOW_UP: CaseStatus.FOLLOW_UP,
    Phase.CLOSURE: CaseStatus.FOLLOW_UP,
}
PHASE_ORDER = {phase: index for index, phase in enumerate(Phase)}


def phases_worked_in(status: str) -> list[Phase]:
    return [phase for phase, worked_in in PHASE_STATUS.items() if worked_in == status]


class ChecklistTemplate(models.Model):
    """The national default (no agency) or one municipality's adapted copy of it."""

    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checklist_templates",
        verbose_name=_("kommun"),
    )
    name = models.CharField(_("namn"), max_length=200)
    # The national version the copy started from, so a municipality sees what it adapted.
    copied_from = models.ForeignKey(
        "ChecklistVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("checklistmall")
        verbose_name_plural = _("checklistmallar")
        constraints = [
            # One per municipality, and one national default (agency NULL counts as 0).
            models.UniqueConstraint(
                Coalesce("agency", Value(0)), name="checklist_template_one_per_agency"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_national(self) -> bool:
        return self.agency_id is None


class ChecklistVersion(models.Model):
    """Published versions are never changed: a case keeps the one it was bound to. Edits go
    to the template's one draft, which publishing makes the version new cases get."""

    template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    published_at = models.DateTimeField(_("publicerad"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("checklistversion")
        verbose_name_plural = _("checklistversioner")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="checklist_version_once"),
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(published_at__isnull=True),
                name="checklist_version_one_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} v{self.number}"

    @property
    def is_draft(self) -> bool:
        return self.published_at is None


class StepTemplate(models.Model):
    version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="steps")
    phase = models.CharField(_("fas"), max_length=32, choices=Phase.choices)
    position = models.PositiveIntegerField(_("ordning"), default=0)
    title = models.CharField(_("steg"), max_length=200)
    required = models.BooleanField(_("obligatoriskt"), default=False)
    guidance = models.TextField(_("vägledning"), blank=True)
    # One per line, "Text | https://…" or just the address (method.links reads them).
    links = models.TextField(_("länkar"), blank=True)
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("steg i checklistmall")
        verbose_name_plural = _("steg i checklistmallar")
        ordering = ["version", "position", "id"]
        constraints = [
            models.CheckConstraint(name="step_phase_valid", condition=Q(phase__in=Phase.values)),
            *text_limits("step_template", "guidance", "links"),
        ]

    def __str__(self) -> str:
        return self.title


class CaseChecklist(models.Model):
    """The version a case is worked under, fixed when the case is opened."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="checklist")
    version = models.ForeignKey(ChecklistVersion, on_delete=models.PROTECT, related_name="+")
    bound_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ärendets checklista")
        verbose_name_plural = _("ärendenas checklistor")

    def __str__(self) -> str:
        return f"{self.case}: {self.version}"


class StepState(models.TextChoices):
    OPEN = "open", _("Att göra")
    DONE = "done", _("Gjort")
    WAIVED = "waived", _("Undantaget")


class CaseStep(models.Model):
    checklist = models.ForeignKey(CaseChecklist, on_delete=models.CASCADE, related_name="steps")
    step = models.ForeignKey(StepTemplate, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        _("läge"), max_length=16, choices=StepState.choices, default=StepState.OPEN
    )
    settled_at = models.DateTimeField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    waiver_reason = models.TextField(_("skäl till undantag"), blank=True)

    class Meta:
        verbose_name = _("steg i ärendet")
        verbose_name_plural = _("steg i ärendet")
        constraints = [
            models.UniqueConstraint(fields=["checklist", "step"], name="case_step_once"),
            models.CheckConstraint(
                name="case_step_settled_by_someone",
                condition=Q(state="open")
                | (Q(settled_at__isnull=False) & Q(settled_by__isnull=False)),
            ),
            models.CheckConstraint(
                name="case_step_waiver_has_reason",
                condition=~Q(state="waived") | ~Q(waiver_reason=""),
            ),
            *text_limits("case_step", "waiver_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.step}: {self.state}"


class Delegation(models.Model):
    """One line of the municipality's delegation order given to a named member of staff."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="delegations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="delegations",
        verbose_name=_("delegat"),
    )
    kind = models.CharField(_("beslut"), max_length=16, choices=DecisionKind.choices)
    reference = models.CharField(
        _("punkt i delegationsordningen"),
        max_length=200,
        help_text=_("T.ex. Delegationsordning SN 2025, punkt 4.2."),
    )
    valid_from = models.DateField(_("gäller från"))
    valid_until = models.DateField(_("gäller till och med"), null=True, blank=True)
    # Ended by the agency admin: no longer valid from that moment (a change of access
    # takes effect at once).
    ended_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("delegering")
        verbose_name_plural = _("delegeringar")
        ordering = ["user__last_name", "kind", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                name="delegation_kind_valid", condition=Q(kind__in=DecisionKind.values)
            ),
            models.CheckConstraint(
                name="delegation_ends_after_start",
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
            ),
        ]
        indexes = [models.Index(fields=["user", "kind"], name="delegation_user_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()} ({self.reference})"

    def is_valid_on(self, day: date) -> bool:
        return (
            self.ended_at is None
            and self.valid_from <= day
            and (self.valid_until is None or self.valid_until >= day)
        )


class DecisionRecord(models.Model):
    """Who decided what on a case, under which line of the delegation order."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("beslut"), max_length=16, choices=DecisionKind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    delegation = models.ForeignKey(Delegation, on_delete=models.PROTECT, related_name="decisions")
    # Copied, so the record reads the same after the delegation order changes.
    delegation_reference = models.CharField(_("delegation"), max_length=200)
    decided_at = models.DateTimeField(_("beslutat"), default=timezone.now)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("beslut")
        verbose_name_plural = _("beslut")
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.delegation_reference})"


class ConditionKind(models.TextChoices):
    NO_CRIME = "no_crime", _("Ingen brottslighet")
    NO_DRUGS = "no_drugs", _("Inga droger")
    DRUG_TESTS = "drug_tests", _("Drogtester")
    MEETINGS = "meetings", _("Regelbundna möten")
    NO_CONTACT = "no_contact", _("Ingen kontakt med namngivna miljöer")
    OTHER = "other", _("Annat")


# Conditions that need an interval in days, and those that need words.
INTERVAL_CONDITIONS = frozenset({ConditionKind.DRUG_TESTS, ConditionKind.MEETINGS})
DETAILED_CONDITIONS = frozenset({ConditionKind.NO_CONTACT, ConditionKind.OTHER})


class Agreement(models.Model):
    """An agreement (överenskommelse) between the person, social services and, where part of
    it, the police. Never rewritten once made: a revision is a new agreement that supersedes
    it, so the agreement's history is the chain."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="agreements")
    police_party = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"kind": "police"},
        verbose_name=_("polisen som part"),
    )
    start_date = models.DateField(_("startdatum"))
    review_date = models.DateField(_("omprövas"))
    signed_on = models.DateField(_("undertecknad"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("ersätter"),
    )
    ended_on = models.DateField(_("upphörde"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The PDF for signature (method.pdf), made by a background job.
    document_path = models.CharField(max_length=300, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("överenskommelse")
        verbose_name_plural = _("överenskommelser")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="agreement_review_after_start",
                condition=Q(review_date__gte=F("start_date")),
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(ended_on__isnull=True),
                name="agreement_one_current_per_case",
            ),
        ]

    def __str__(self) -> str:
        return f"{_('Överenskommelse')} {self.start_date:%Y-%m-%d}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    @property
    def document_ready(self) -> bool:
        return bool(self.document_path) and self.generated_at is not None


class AgreementCondition(models.Model):
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="conditions")
    kind = models.CharField(_("villkor"), max_length=16, choices=ConditionKind.choices)
    interval_days = models.PositiveSmallIntegerField(_("intervall (dagar)"), null=True, blank=True)
    details = models.TextField(_("beskrivning"), blank=True)

    class Meta:
        verbose_name = _("villkor")
        verbose_name_plural = _("villkor")
        ordering = ["agreement", "id"]
        constraints = [
            models.CheckConstraint(
                name="condition_kind_valid", condition=Q(kind__in=ConditionKind.values)
            ),
            models.CheckConstraint(
                name="condition_interval_when_needed",
                condition=~Q(kind__in=sorted(INTERVAL_CONDITIONS))
                | Q(interval_days__isnull=False, interval_days__gte=1),
            ),
            models.CheckConstraint(
                name="condition_details_when_needed",
                condition=~Q(kind__in=sorted(DETAILED_CONDITIONS)) | ~Q(details=""),
            ),
            *text_limits("condition", "details"),
        ]

    def __str__(self) -> str:
        label = str(self.get_kind_display())
        if self.interval_days:
            return f"{label} ({_('var %(days)d:e dag') % {'days': self.interval_days}})"
        return f"{label}: {self.details}" if self.details else label


class EntryKind(models.TextChoices):
    DRUG_TEST = "drug_test", _("Drogtest")
    MEETING = "meeting", _("Möte")
    BREACH = "breach", _("Brott mot överenskommelsen")


class DrugTestResult(models.TextChoices):
    NEGATIVE = "negative", _("Negativt")
    POSITIVE = "positive", _("Positivt")
    MISSED = "missed", _("Uteblivet eller vägrat")


class Consequence(models.TextChoices):
    TALK = "talk", _("Samtal")
    WARNING = "warning", _("Varning")
    PAUSE = "pause", _("Uppehåll i stödet")
    END_OF_SUPPORT = "end_of_support", _("Stödet avslutas")


class AgreementEntry(models.Model):
    """A dated drug test result, meeting (held or planned) or breach. Append-only."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(_("typ"), max_length=16, choices=EntryKind.choices)
    occurred_on = models.DateField(_("datum"))
    at_time = models.TimeField(_("klockslag"), null=True, blank=True)
    result = models.CharField(
        _("provresultat"), max_length=16, choices=DrugTestResult.choices, blank=True
    )
    condition = models.ForeignKey(
        AgreementCondition,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="breaches",
        verbose_name=_("villkor som bröts"),
    )
    consequence = models.CharField(
        _("konsekvens"), max_length=16, choices=Consequence.choices, blank=True
    )
    note = models.TextField(_("anteckning"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("anteckning i överenskommelse")
        verbose_name_plural = _("anteckningar i överenskommelser")
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.CheckConstraint(name="entry_kind_valid", condition=Q(kind__in=EntryKind.values)),
            models.CheckConstraint(
                name="entry_test_has_result",
                condition=~Q(kind="drug_test") | ~Q(result=""),
            ),
            models.CheckConstraint(
                name="entry_breach_has_consequence",
                condition=~Q(kind="breach") | ~Q(consequence=""),
            ),
            *text_limits("agreement_entry", "note"),
        ]
        indexes = [models.Index(fields=["agreement", "kind", "occurred_on"], name="entry_kind_day")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on:%Y-%m-%d}"


class Answer(models.TextChoices):
    YES = "yes", _("Ja")
    NO = "no", _("Nej")
    UNKNOWN = "unknown", _("Vet inte")


class OutcomeAnchor(models.TextChoices):
    CLOSED = "closed", _("efter avslut")
    SUPPORT = "support", _("efter att stödet började")


# The structured answers of an outcome, the same for every follow-up point.
OUTCOME_ANSWERS = (
    "stable_housing",
    "work_or_education",
    "new_crime_known",
    "substance_use",
    "in_contact",
)


class FollowUpOutcome(models.Model):
    """What the follow-up and the national register need to know whether the work helps:
    structured answers only, never free text."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="outcomes")
    months = models.PositiveSmallIntegerField(_("månader"))
    anchor = models.CharField(_("räknat"), max_length=16, choices=OutcomeAnchor.choices)
    due_on = models.DateField(_("skulle följas upp"))
    stable_housing = models.CharField(_("stabilt boende"), max_length=8, choices=Answer.choices)
    work_or_education = models.CharField(
        _("arbete eller studier"), max_length=8, choices=Answer.choices
    )
    new_crime_known = models.CharField(
        _("känd ny brottslighet"), max_length=8, choices=Answer.choices
    )
    substance_use = models.CharField(_("missbruk"), max_length=8, choices=Answer.choices)
    in_contact = models.CharField(
        _("fortfarande i kontakt med verksamheten"), max_length=8, choices=Answer.choices
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("resultat vid uppföljning")
        verbose_name_plural = _("resultat vid uppföljning")
        ordering = ["case", "months"]
        constraints = [
            models.UniqueConstraint(fields=["case", "months"], name="outcome_once_per_point"),
            models.CheckConstraint(name="outcome_months_positive", condition=Q(months__gte=1)),
            *(
                models.CheckConstraint(
                    name=f"outcome_{name}_valid", condition=Q(**{f"{name}__in": Answer.values})
                )
                for name in OUTCOME_ANSWERS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case}: {self.months} mån"
