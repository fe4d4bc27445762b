"""Coordinated relocation between municipalities (omplacering), matched by the national
coordination: the request, its candidates and their police clearance and offer, the
placement, and the handover of the case.

The destination (the receiving municipality and the new address) is the secret that can get
someone killed: the address lives apart, in `Placement`, read only through
relocations.selectors, which asks the policy and logs each read.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import Agency
from cases.models import Case, text_limits

# Free texts here are short by design: a blind request carries needs, not a case file.
SHORT_TEXT = 2000


class RelocationStatus(models.TextChoices):
    MATCHING = "matching", _("Matchning")
    CLEARANCE = "clearance", _("Polisens klarering")
    OFFERED = "offered", _("Erbjuden")
    ACCEPTED = "accepted", _("Accepterad")
    ARRANGED = "arranged", _("Placering ordnad")
    MOVED = "moved", _("Flyttad")
    HANDOVER = "handover", _("Överlämning begärd")
    HANDED_OVER = "handed_over", _("Överlämnad")
    DISPUTED = "disputed", _("Överlämning tvistig")
    ABORTED = "aborted", _("Avbruten")


CLOSED_STATUSES = frozenset({RelocationStatus.HANDED_OVER, RelocationStatus.ABORTED})
OPEN_STATUSES = frozenset(set(RelocationStatus) - CLOSED_STATUSES)
# From these on a municipality has accepted: it is the destination.
RECEIVING_STATUSES = frozenset(
    {
        RelocationStatus.ACCEPTED,
        RelocationStatus.ARRANGED,
        RelocationStatus.MOVED,
        RelocationStatus.HANDOVER,
        RelocationStatus.HANDED_OVER,
        RelocationStatus.DISPUTED,
    }
)


class Urgency(models.TextChoices):
    ACUTE = "acute", _("Akut (inom 24 timmar)")
    PLANNED = "planned", _("Planerad")


class HousingNeed(models.TextChoices):
    EMERGENCY = "emergency", _("Akut boende")
    PROTECTED = "protected", _("Skyddat boende")
    LONG_TERM = "long_term", _("Långsiktigt boende")


class AbortReason(models.TextChoices):
    CONSENT_WITHDRAWN = "consent_withdrawn", _("Samtycket återkallat")
    THREAT_CHANGED = "threat_changed", _("Hotbilden har ändrats")
    PERSON_DECLINED = "person_declined", _("Personen tackade nej")
    RETURNED = "returned", _("Personen har återvänt")


class DeclineReason(models.TextChoices):
    NO_HOUSING = "no_housing", _("Inget lämpligt boende")
    NO_CAPACITY = "no_capacity", _("Ingen kapacitet i avhopparverksamheten")
    LOCAL_CONFLICT = "local_conflict", _("Känd konflikt på orten")
    OTHER = "other", _("Annat skäl")


class Clearance(models.TextChoices):
    CLEARED = "cleared", _("Klarerad")
    VETO = "veto", _("Veto")


class OfferStatus(models.TextChoices):
    SENT = "sent", _("Skickat")
    ACCEPTED = "accepted", _("Accepterat")
    DECLINED = "declined", _("Avböjt")
    EXPIRED = "expired", _("Obesvarat i tid")


class Relocation(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="relocations", verbose_name=_("ärende")
    )
    sending_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("sändande kommun")
    )
    # The one worker of the sending municipality who, with its coordinators, decides and pays:
    # kept here, as the case's responsible changes when the case is handed over.
    sending_responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The national coordination the person's consent names: it matches the request.
    coordinating_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("nationell samordning")
    )
    # The consent the request rests on (the person's, naming the coordination).
    consent = models.ForeignKey(
        "cases.Consent", on_delete=models.PROTECT, related_name="+", verbose_name=_("samtycke")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("steg"),
        max_length=16,
        choices=RelocationStatus.choices,
        default=RelocationStatus.MATCHING,
    )
    urgency = models.CharField(_("brådska"), max_length=16, choices=Urgency.choices)
    housing_need = models.CharField(_("boendebehov"), max_length=16, choices=HousingNeed.choices)
    ivo_permit = models.CharField(
        _("utförarens IVO-tillstånd"),
        max_length=100,
        blank=True,
        help_text=_("Krävs för skyddat boende hos enskild utförare."),
    )
    people_moving = models.PositiveSmallIntegerField(_("antal personer som flyttar"), default=1)
    children_moving = models.PositiveSmallIntegerField(_("varav barn"), default=0)
    needs_summary = models.TextField(_("kort behovsbeskrivning"))
    requested_at = models.DateTimeField(_("begärd"), default=timezone.now)
    # Set when a municipality accepts, so the policy and lists need no join through offers.
    receiving_agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("mottagande kommun"),
    )
    # The police region that cleared the receiving municipality: it reads the destination.
    clearing_police = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handover_requested_at = models.DateTimeField(_("överlämning begärd"), null=True, blank=True)
    handover_due_on = models.DateField(_("svar på överlämning senast"), null=True, blank=True)
    # What the sending municipality keeps of a handed-over case: never the location.
    closing_summary = models.TextField(_("avslutande sammanfattning"), blank=True)
    handover_refusal = models.TextField(_("skäl till att överlämningen avböjs"), blank=True)
    ivo_reference = models.CharField(_("IVO:s diarienummer"), max_length=100, blank=True)
    ivo_outcome = models.TextField(_("IVO:s beslut"), blank=True)
    abort_reason = models.CharField(
        _("skäl till avbrott"), max_length=32, choices=AbortReason.choices, blank=True
    )
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("omplacering")
        verbose_name_plural = _("omplaceringar")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="relocation_status_valid", condition=Q(status__in=RelocationStatus.values)
            ),
            # One open relocation per case: two would be matched against each other.
            models.UniqueConstraint(
                fields=["case"],
                condition=~Q(status__in=["handed_over", "aborted"]),
                name="relocation_one_open_per_case",
            ),
            models.CheckConstraint(
                name="relocation_protected_housing_has_permit",
                condition=~Q(housing_need="protected") | ~Q(ivo_permit=""),
            ),
            models.CheckConstraint(
                name="relocation_someone_moves",
                condition=Q(people_moving__gte=1) & Q(children_moving__lt=F("people_moving")),
            ),
            models.CheckConstraint(
                name="relocation_never_to_itself",
                condition=Q(receiving_agency__isnull=True)
                | ~Q(receiving_agency=F("sending_agency")),
            ),
            models.CheckConstraint(
                name="relocation_receiving_once_accepted",
                condition=Q(status__in=["matching", "clearance", "offered"])
                | Q(receiving_agency__isnull=False)
                | Q(status="aborted"),
            ),
            models.CheckConstraint(
                name="relocation_aborted_has_reason",
                condition=(Q(status="aborted") & ~Q(abort_reason="") & Q(closed_at__isnull=False))
                | (~Q(status="aborted") & Q(abort_reason="")),
            ),
            models.CheckConstraint(
                name="relocation_handover_dated",
                condition=~Q(status__in=["handover", "handed_over", "disputed"])
                | (Q(handover_requested_at__isnull=False) & Q(handover_due_on__isnull=False)),
            ),
            *text_limits(
                "relocation",
                "needs_summary",
                "closing_summary",
                "handover_refusal",
                "ivo_outcome",
                limit=SHORT_TEXT,
            ),
        ]
        indexes = [
            models.Index(fields=["coordinating_agency", "status"], name="relocation_coord_status"),
            models.Index(fields=["sending_agency", "status"], name="relocation_sending_status"),
            models.Index(fields=["receiving_agency", "status"], name="relocation_receiving_status"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("relocations:detail", args=[self.pk])

    @property
    def reference(self) -> str:
        return f"OMP-{self.requested_at:%Y}-{self.pk:05d}"

    @property
    def status_label(self) -> str:
        return RelocationStatus(self.status).label

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class RelocationStep(models.Model):
    """Each step the relocation entered, dated: the figures (days per step) are read here."""

    relocation = models.ForeignKey(Relocation, on_delete=models.CASCADE, related_name="steps")
    status = models.CharField(max_length=16, choices=RelocationStatus.choices)
    entered_at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["entered_at", "id"]

    def __str__(self) -> str:
        return f"{self.relocation_id}: {self.status}"


class AvoidedPlace(models.Model):
    """A municipality or region the person must not be placed in."""

    relocation = models.ForeignKey(
        Relocation, on_delete=models.CASCADE, related_name="avoided_places"
    )
    municipality = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommun"),
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    reason = models.CharField(_("skäl"), max_length=300, blank=True)
    # Given by the police: the reason is theirs alone (the place itself is shown, so that no
    # one proposes it).
    police_only = models.BooleanField(_("skälet endast för polisen"), default=False)
    given_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                name="avoided_place_names_a_place",
                condition=(Q(municipality__isnull=False) & Q(region=""))
                | (Q(municipality__isnull=True) & ~Q(region="")),
            ),
        ]

    def __str__(self) -> str:
        return self.municipality.name if self.municipality_id else self.region


class Candidate(models.Model):
    """A municipality proposed by the national coordinator, its police clearance and offer."""

    relocation = models.ForeignKey(Relocation, on_delete=models.CASCADE, related_name="candidates")
    municipality = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="relocation_candidacies"
    )
    # Copied from the relocation so the database itself refuses the sending municipality.
    sending_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    # The police region that clears this municipality (its Agency.police_region then).
    police_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    clearance = models.CharField(max_length=16, choices=Clearance.choices, blank=True)
    # Police only: never rendered for anyone else (relocations.policy).
    clearance_reason = models.CharField(_("skäl (endast polisen)"), max_length=300, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    offer = models.CharField(max_length=16, choices=OfferStatus.choices, blank=True)
    offer_sent_at = models.DateTimeField(null=True, blank=True)
    offer_due_on = models.DateField(null=True, blank=True)
    offer_answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(
        _("skäl"), max_length=32, choices=DeclineReason.choices, blank=True
    )
    intake_contact = models.CharField(_("kontakt för mottagandet"), max_length=200, blank=True)

    class Meta:
        ordering = ["proposed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["relocation", "municipality"], name="candidate_once_per_relocation"
            ),
            models.CheckConstraint(
                name="candidate_not_the_sender",
                condition=~Q(municipality=F("sending_agency")),
            ),
            # Two municipalities can never both hold an accepted offer; nor two open ones.
            models.UniqueConstraint(
                fields=["relocation"],
                condition=Q(offer="accepted"),
                name="candidate_one_accepted_offer",
            ),
            models.UniqueConstraint(
                fields=["relocation"], condition=Q(offer="sent"), name="candidate_one_open_offer"
            ),
            models.CheckConstraint(
                name="candidate_clearance_dated",
                condition=(Q(clearance="") & Q(cleared_at__isnull=True))
                | (~Q(clearance="") & Q(cleared_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="candidate_offer_only_when_cleared",
                condition=Q(offer="") | (Q(clearance="cleared") & Q(offer_sent_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="candidate_accepted_has_contact",
                condition=~Q(offer="accepted") | ~Q(intake_contact=""),
            ),
            models.CheckConstraint(
                name="candidate_declined_has_reason",
                condition=~Q(offer="declined") | ~Q(decline_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return self.municipality.name


class Placement(models.Model):
    """Where the person went: recorded by the receiving municipality. Secret."""

    relocation = models.OneToOneField(
        Relocation, on_delete=models.CASCADE, related_name="placement"
    )
    housing = models.CharField(_("boende"), max_length=16, choices=HousingNeed.choices)
    address = models.CharField(_("ny adress"), max_length=300)
    move_date = models.DateField(_("flyttdatum"))
    moved_on = models.DateField(_("flyttade"), null=True, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(name="placement_has_address", condition=~Q(address="")),
        ]

    def __str__(self) -> str:
        return f"{self.relocation_id}"


class AgreementCopy(models.TextChoices):
    FULL = "full", _("Mottagande kommun")
    SENDING = "sending", _("Sändande kommun")


class PlacementAgreement(models.Model):
    """The placement agreement between the two municipalities, rendered as two copies: the
    sending side's without the address (relocations.pdf)."""

    relocation = models.OneToOneField(
        Relocation, on_delete=models.CASCADE, related_name="agreement"
    )
    queued_at = models.DateTimeField(default=timezone.now)
    full_path = models.CharField(max_length=200, blank=True)
    sending_path = models.CharField(max_length=200, blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.relocation_id}"

    @property
    def is_ready(self) -> bool:
        return self.generated_at is not None
