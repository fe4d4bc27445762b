"""Core models: agencies, their users, and the append-only audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    SOCIAL_SERVICES = "social_services", _("Socialtjänst (kommun)")
    POLICE = "police", _("Polisen")
    PRISON_PROBATION = "prison_probation", _("Kriminalvården")
    SIS = "sis", _("Statens institutionsstyrelse (SiS)")
    SOCIALSTYRELSEN = "socialstyrelsen", _("Socialstyrelsen")
    CIVIL_SOCIETY = "civil_society", _("Civilsamhällesorganisation")
    NATIONAL_COORDINATION = "national_coordination", _("Nationell samordning")
    OTHER = "other", _("Annan")


class Agency(models.Model):
    name = models.CharField(_("namn"), max_length=200, unique=True)
    kind = models.CharField(_("typ"), max_length=32, choices=AgencyKind.choices)
    municipality_code = models.CharField(
        _("kommunkod"), max_length=4, blank=True, help_text=_("Fyra siffror, t.ex. 0180.")
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    address = models.CharField(_("postadress"), max_length=300, blank=True)
    # The police region that clears a relocation to this municipality (relocations app).
    police_region = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="covered_municipalities",
        limit_choices_to={"kind": "police"},
        verbose_name=_("polisregion"),
    )
    # The auth group that receives this agency's object permissions.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency")

    class Meta:
        verbose_name = _("myndighet")
        verbose_name_plural = _("myndigheter")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="agency_municipality_code_four_digits",
                condition=Q(municipality_code="") | Q(municipality_code__regex=r"^[0-9]{4}$"),
            ),
            models.CheckConstraint(
                name="agency_municipality_has_code",
                condition=~Q(kind="social_services") | ~Q(municipality_code=""),
            ),
            models.UniqueConstraint(
                fields=["municipality_code"],
                condition=~Q(municipality_code=""),
                name="agency_unique_municipality_code",
            ),
            models.CheckConstraint(
                name="agency_only_municipality_has_police_region",
                condition=Q(police_region__isnull=True) | Q(kind="social_services"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Keep the agency's group in step with the agency, so grants always have a target.
        group_name = f"agency:{self.name}"
        if self.group_id is None:
            self.group, _created = Group.objects.get_or_create(name=group_name)
        elif self.group.name != group_name:
            self.group.name = group_name
            self.group.save(update_fields=["name"])
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.police_region_id is not None and (
            self.kind != AgencyKind.SOCIAL_SERVICES or self.police_region.kind != AgencyKind.POLICE
        ):
            raise ValidationError(
                {"police_region": _("Bara en kommun har en polisregion, och den är polisens.")}
            )
        if self.pk is None or self.kind not in AgencyKind.values:
            return
        misfits = self.users.exclude(role__in=roles_of_kind(self.kind)).exclude(role="")
        if misfits.exists():
            raise ValidationError(
                {
                    "kind": _(
                        "Myndigheten har användare med roller som inte finns hos %(kind)s: "
                        "%(users)s."
                    )
                    % {
                        "kind": AgencyKind(self.kind).label,
                        "users": ", ".join(misfits.values_list("username", flat=True)[:10]),
                    }
                }
            )


class Role(models.TextChoices):
    SOCIAL_WORKER = "social_worker", _("Handläggare")
    COORDINATOR = "coordinator", _("Samordnare")
    POLICE_OFFICER = "police_officer", _("Polis")
    LOG_REVIEWER = "log_reviewer", _("Loggkontrollant")
    AGENCY_ADMIN = "agency_admin", _("Myndighetsadministratör")
    NATIONAL_COORDINATOR = "national_coordinator", _("Nationell samordnare")


# Which roles exist in which kind of agency. Only a municipality's social services own cases
# and have social workers; only the police have police officers. The database holds its own
# copy (avhopp migrations 0004 and 0007), so a change here needs a migration too.
ROLES_BY_AGENCY_KIND: dict[str, frozenset[str]] = {
    AgencyKind.SOCIAL_SERVICES: frozenset(
        {Role.SOCIAL_WORKER, Role.COORDINATOR, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}
    ),
    AgencyKind.POLICE: frozenset({Role.POLICE_OFFICER, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}),
    AgencyKind.NATIONAL_COORDINATION: frozenset(
        {Role.NATIONAL_COORDINATOR, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}
    ),
    **{
        kind: frozenset({Role.COORDINATOR, Role.LOG_REVIEWER, Role.AGENCY_ADMIN})
        for kind in (
            AgencyKind.PRISON_PROBATION,
            AgencyKind.SIS,
            AgencyKind.SOCIALSTYRELSEN,
            AgencyKind.CIVIL_SOCIETY,
            AgencyKind.OTHER,
        )
    },
}


def roles_of_kind(kind: str) -> list[str]:
    """The roles an agency of this kind may give, in the order of `Role`."""
    allowed = ROLES_BY_AGENCY_KIND.get(kind, frozenset())
    return [role for role in Role.values if role in allowed]


def role_fits_agency(role: str, agency: Agency) -> bool:
    return role in ROLES_BY_AGENCY_KIND.get(agency.kind, frozenset())


def role_misfit_message(agency: Agency) -> str:
    return _("Den rollen finns inte hos en myndighet av typen %(kind)s.") % {
        "kind": AgencyKind(agency.kind).label
    }


class AgencyUserManager(UserManager):
    # Every request reads the user's agency (menus, audit rows): fetch it with the user.
    def get_queryset(self) -> models.QuerySet[User]:
        return super().get_queryset().select_related("agency")


class User(AbstractUser):
    # Support staff (is_staff, Django admin) have no agency; everyone else must.
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(_("roll"), max_length=32, choices=Role.choices, blank=True)
    # Bumped to end all of the user's sessions at once (see SessionLimitsMiddleware).
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = AgencyUserManager()

    class Meta:
        verbose_name = _("användare")
        verbose_name_plural = _("användare")
        constraints = [
            models.CheckConstraint(
                name="user_agency_and_role_together",
                condition=(Q(agency__isnull=True) & Q(role=""))
                | (Q(agency__isnull=False) & ~Q(role="")),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def clean(self) -> None:
        super().clean()
        if (
            self.agency_id is not None
            and self.role
            and not role_fits_agency(self.role, self.agency)
        ):
            raise ValidationError({"role": role_misfit_message(self.agency)})


class AuditAction(models.TextChoices):
    LOGIN = "login", _("Inloggning")
    LOGOUT = "logout", _("Utloggning")
    LOGIN_FAILED = "login_failed", _("Misslyckad inloggning")
    ACCESS_DENIED = "access_denied", _("Nekad åtkomst")
    CASE_LIST = "case_list", _("Ärendelista")
    CASE_SEARCH = "case_search", _("Sökning")
    CASE_VIEW = "case_view", _("Läst ärende")
    CASE_CREATE = "case_create", _("Skapat ärende")
    CASE_UPDATE = "case_update", _("Ändrat ärende")
    CASE_STATUS = "case_status", _("Ändrat status")
    OUTSIDE_ASSIGNMENT_READ = "outside_assignment", _("Läsning utanför uppdrag")
    INDIVIDUAL_CREATE = "individual_create", _("Registrerat person")
    INDIVIDUAL_UPDATE = "individual_update", _("Ändrat person")
    IDENTITY_REVEAL = "identity_reveal", _("Visat skyddade uppgifter")
    # Named for what the attempter saw, so no log reader learns that the number exists.
    IDENTITY_COLLISION = "identity_collision", _("Registrering nekad")
    INTERVENTION_CREATE = "intervention_create", _("Lagt till insats")
    INTERVENTION_UPDATE = "intervention_update", _("Ändrat insats")
    JOURNAL_CREATE = "journal_create", _("Journalanteckning")
    THREAT_CREATE = "threat_create", _("Ny hotbedömning")
    THREAT_DETAILS_VIEW = "threat_details_view", _("Läst hotbedömningens detaljer")
    CONSENT_CREATE = "consent_create", _("Registrerat samtycke")
    CONSENT_WITHDRAW = "consent_withdraw", _("Återkallat samtycke")
    CASE_SHARE = "case_share", _("Delat ärende")
    CASE_UNSHARE = "case_unshare", _("Slutat dela ärende")
    REFERRAL_CREATE = "referral_create", _("Skapat remiss")
    REFERRAL_VIEW = "referral_view", _("Läst remiss")
    REFERRAL_ANSWER = "referral_answer", _("Besvarat remiss")
    REFERRAL_SEND = "referral_send", _("Skickat remiss")
    DOCUMENT_DOWNLOAD = "document_download", _("Laddat ned dokument")
    AUDIT_VIEW = "audit_view", _("Läst loggen")
    AUDIT_EXPORT = "audit_export", _("Exporterat loggen")
    USER_CREATE = "user_create", _("Skapat användare")
    USER_UPDATE = "user_update", _("Ändrat användare")
    USER_SESSIONS_ENDED = "user_sessions_ended", _("Avslutat användarens sessioner")
    SECOND_FACTOR_ENROLLED = "2fa_enrolled", _("Registrerat tvåfaktorsinloggning")
    SECOND_FACTOR_FAILED = "2fa_failed", _("Felaktig engångskod")
    SESSION_EXPIRED = "session_expired", _("Sessionen gick ut")
    REAUTHENTICATED = "reauthenticated", _("Bekräftat identitet")
    ADMIN_CHANGE = "admin_change", _("Ändrat i administrationen")
    REFERRAL_LIST = "referral_list", _("Remisslista")
    RELOCATION_REQUEST = "relocation_request", _("Begärt omplacering")
    RELOCATION_TRANSITION = "relocation_step", _("Omplacering: nytt steg")
    RELOCATION_VIEW = "relocation_view", _("Läst omplacering")
    DESTINATION_VIEW = "destination_view", _("Läst omplaceringens destination")
    CHECKLIST_STEP = "checklist_step", _("Steg i checklistan")
    METHOD_TEMPLATE = "method_template", _("Ändrat checklistmall")
    DELEGATION_CHANGE = "delegation_change", _("Ändrat delegering")
    DECISION = "decision", _("Beslut enligt delegering")
    AGREEMENT_WRITE = "agreement_write", _("Ändrat överenskommelse")
    AGREEMENT_ENTRY = "agreement_entry", _("Anteckning i överenskommelse")
    CALENDAR_EXPORT = "calendar_export", _("Exporterat kalender")
    OUTCOME_RECORD = "outcome_record", _("Registrerat resultat vid uppföljning")


class AuditEvent(models.Model):
    """Who did what, when, from where. Never the sensitive data itself.

    Rows are append-only: a database trigger (migration 0002) rejects UPDATE and DELETE.
    User, agency and role are copied as plain values so the record outlives them.
    """

    occurred_at = models.DateTimeField(_("tid (UTC)"), auto_now_add=True, db_index=True)
    user_id = models.BigIntegerField(_("användar-id"), null=True)
    username = models.CharField(_("användare"), max_length=150, blank=True)
    agency_id = models.BigIntegerField(_("myndighets-id"), null=True)
    agency_name = models.CharField(_("myndighet"), max_length=200, blank=True)
    role = models.CharField(_("roll"), max_length=32, blank=True)
    action = models.CharField(_("händelse"), max_length=32, choices=AuditAction.choices)
    object_type = models.CharField(_("objekttyp"), max_length=64, blank=True)
    object_id = models.CharField(_("objekt-id"), max_length=64, blank=True)
    case_id = models.BigIntegerField(_("ärende-id"), null=True)
    individual_id = models.BigIntegerField(_("person-id"), null=True)
    ip_address = models.GenericIPAddressField(_("IP-adress"), null=True)
    request_id = models.CharField(_("begäran-id"), max_length=64, blank=True)
    reason = models.CharField(_("skäl"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("logghändelse")
        verbose_name_plural = _("logghändelser")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["case_id", "-occurred_at"], name="audit_case_time"),
            models.Index(fields=["user_id", "-occurred_at"], name="audit_user_time"),
            models.Index(fields=["individual_id", "-occurred_at"], name="audit_individual_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.username} {self.action}"

    # Labels through the choices' enum: get_action_display() rebuilds and hashes every lazy
    # label of the field on each call, which a page of log rows pays fifty times.
    @property
    def action_label(self) -> str:
        return AuditAction(self.action).label


class AuditShownCase(models.Model):
    """A case that a list or search page showed, one row per case of its event, so "who has
    seen this case" includes the lists it appeared in. Append-only like the events."""

    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="shown_cases")
    case_id = models.BigIntegerField(_("ärende-id"))

    class Meta:
        verbose_name = _("visat ärende")
        verbose_name_plural = _("visade ärenden")
        constraints = [
            models.UniqueConstraint(fields=["case_id", "event"], name="audit_shown_case_once"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.case_id}"
