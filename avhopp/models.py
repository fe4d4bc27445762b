"""Core models: agencies, their users, and the append-only audit log."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
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
    # The research principal (a university) that holds the ethics approval for a study
    # using the national register: its researchers see no cases, only their own extracts.
    RESEARCH = "research", _("Forskningshuvudman")


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
    # How the agency's staff sign in. Password sign-in (always with a second factor) stays
    # for partners without an identity provider; an agency with one may switch it off.
    password_sign_in = models.BooleanField(
        _("inloggning med lösenord"),
        default=True,
        help_text=_("Av: personalen loggar bara in via myndighetens identitetsleverantör."),
    )
    passkeys_required = models.BooleanField(
        _("kräv nyckel (passkey)"),
        default=False,
        help_text=_(
            "På: andra faktorn vid lösenordsinloggning måste vara en nyckel (passkey); "
            "engångskoder från app godtas inte."
        ),
    )

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
        if (
            not self.password_sign_in
            and not IdentityProvider.objects.filter(agency_id=self.pk, enabled=True).exists()
        ):
            raise ValidationError(
                {
                    "password_sign_in": _(
                        "Lösenordsinloggning kan bara stängas av när myndigheten har en "
                        "aktiv identitetsleverantör."
                    )
                }
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
    # Decides the agency's gallring (retention) proposals and legal holds; reads no case content.
    ARCHIVE_OFFICER = "archive_officer", _("Arkivansvarig")
    RESEARCHER = "researcher", _("Forskare")


# Which roles exist in which kind of agency. Only a municipality's social services own cases
# and have social workers; only the police have police officers. The database holds its own
# copy (avhopp migrations 0004, 0008 and the research one), so a change here needs a
# migration too. Researchers have an agency of their own (the research principal): their
# requests and extracts are theirs, and nothing about cases is shared with them.
ROLES_BY_AGENCY_KIND: dict[str, frozenset[str]] = {
    AgencyKind.SOCIAL_SERVICES: frozenset(
        {
            Role.SOCIAL_WORKER,
            Role.COORDINATOR,
            Role.LOG_REVIEWER,
            Role.AGENCY_ADMIN,
            Role.ARCHIVE_OFFICER,
        }
    ),
    AgencyKind.POLICE: frozenset({Role.POLICE_OFFICER, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}),
    AgencyKind.NATIONAL_COORDINATION: frozenset(
        {Role.NATIONAL_COORDINATOR, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}
    ),
    AgencyKind.RESEARCH: frozenset({Role.RESEARCHER, Role.LOG_REVIEWER, Role.AGENCY_ADMIN}),
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
    # The user's id at their agency's identity provider (e.g. an HSA id), when the provider
    # matches users on it rather than on the e-mail address. Set by the agency admin.
    external_id = models.CharField(
        _("id hos identitetsleverantören"),
        max_length=200,
        blank=True,
        help_text=_("T.ex. HSA-id. Används när myndighetens inloggning matchar på det."),
    )
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
            # One account per person and agency: a sign-in matches exactly one user.
            models.UniqueConstraint(
                fields=["agency", "external_id"],
                condition=~Q(external_id=""),
                name="user_unique_external_id_per_agency",
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
    CASE_TEAM_ADD = "case_team_add", _("Lagt till i ärendets team")
    CASE_TEAM_REMOVE = "case_team_remove", _("Tagit bort ur ärendets team")
    # A list exported as a file: its cases are recorded like a list page's (AuditShownCase).
    CASE_EXPORT = "case_export", _("Exporterat ärendelistan")
    REFERRAL_CREATE = "referral_create", _("Skapat remiss")
    REFERRAL_VIEW = "referral_view", _("Läst remiss")
    REFERRAL_ANSWER = "referral_answer", _("Besvarat remiss")
    REFERRAL_SEND = "referral_send", _("Skickat remiss")
    DOCUMENT_DOWNLOAD = "document_download", _("Laddat ned dokument")
    AUDIT_VIEW = "audit_view", _("Läst loggen")
    AUDIT_EXPORT = "audit_export", _("Exporterat loggen")
    AUDIT_SAMPLE_REVIEW = "audit_sample_review", _("Granskat stickprov ur loggen")
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
    SSO_REFUSED = "sso_refused", _("Nekad inloggning via identitetsleverantör")
    PASSKEY_REGISTERED = "passkey_registered", _("Registrerat nyckel (passkey)")

    AUDIT_PARTITION_DROPPED = "audit_partition_dropped", _("Gallrat loggmånad")
    GALLRING_PROPOSED = "gallring_proposed", _("Gallringsförslag")
    GALLRING_APPROVED = "gallring_approved", _("Beslutat gallring")
    GALLRING_DELETED = "gallring_deleted", _("Gallrat akt")
    LEGAL_HOLD_PLACED = "legal_hold_placed", _("Gallringsstopp")
    LEGAL_HOLD_LIFTED = "legal_hold_lifted", _("Hävt gallringsstopp")
    ARCHIVE_EXPORT = "archive_export", _("Arkivexport")
    EXTRACT_REQUESTED = "extract_requested", _("Beställt utdrag")
    EXTRACT_DOWNLOAD = "extract_download", _("Lämnat ut utdrag")
    GALLRING_VIEW = "gallring_view", _("Läst gallringsförslag")

    STATISTICS_VIEW = "statistics_view", _("Läst statistik")
    REPORT_CREATE = "report_create", _("Beställt kvartalsrapport")
    REPORT_DOWNLOAD = "report_download", _("Laddat ned kvartalsrapport")
    REGISTER_BUILD = "register_build", _("Byggt det nationella registret")
    REGISTER_VIEW = "register_view", _("Läst registrets översikt")
    EXTRACT_REQUEST = "extract_request", _("Begärt forskningsuttag")
    EXTRACT_DECISION = "extract_decision", _("Beslutat om forskningsuttag")
    EXTRACT_BUILD = "extract_build", _("Byggt forskningsuttag")
    EXTRACT_VIEW = "extract_view", _("Läst forskningsuttag")
    RESEARCH_EXTRACT_DOWNLOAD = "research_extract_download", _("Laddat ned forskningsuttag")
    USER_INVITED = "user_invited", _("Skickat inbjudan")
    INVITATION_ACCEPTED = "invitation_accepted", _("Valt lösenord via inbjudan")

    CHECKLIST_STEP = "checklist_step", _("Steg i checklistan")
    METHOD_TEMPLATE = "method_template", _("Ändrat checklistmall")
    DELEGATION_CHANGE = "delegation_change", _("Ändrat delegering")
    DECISION = "decision", _("Beslut enligt delegering")
    AGREEMENT_WRITE = "agreement_write", _("Ändrat överenskommelse")
    AGREEMENT_ENTRY = "agreement_entry", _("Anteckning i överenskommelse")
    CALENDAR_EXPORT = "calendar_export", _("Exporterat kalender")
    OUTCOME_RECORD = "outcome_record", _("Registrerat resultat vid uppföljning")
    JOURNAL_EXTRACT = "journal_extract", _("Beställt journalutdrag")


class UserClaimField(models.TextChoices):
    EMAIL = "email", _("E-postadress")
    EXTERNAL_ID = "external_id", _("Id hos identitetsleverantören (t.ex. HSA-id)")


class IdentityProvider(models.Model):
    """An agency's OpenID Connect provider. Its users are matched to existing accounts of that
    agency only, by one claim; an account is never created from a sign-in.

    The client secret is read from the environment variable named here or, failing that,
    from the database, encrypted with AVHOPP_ENCRYPTION_KEYS (avhopp.oidc).
    """

    agency = models.OneToOneField(
        Agency, on_delete=models.PROTECT, related_name="identity_provider"
    )
    name = models.CharField(
        _("namn på inloggningsknappen"), max_length=100, help_text=_("T.ex. SITHS-kort.")
    )
    enabled = models.BooleanField(_("aktiv"), default=True)
    issuer = models.URLField(_("utfärdare (issuer)"), max_length=300)
    authorization_endpoint = models.URLField(_("authorization_endpoint"), max_length=300)
    token_endpoint = models.URLField(_("token_endpoint"), max_length=300)
    jwks_uri = models.URLField(_("jwks_uri"), max_length=300)
    end_session_endpoint = models.URLField(_("end_session_endpoint"), max_length=300, blank=True)
    client_id = models.CharField(_("klient-id"), max_length=200)
    client_secret_env = models.CharField(
        _("miljövariabel med klienthemligheten"),
        max_length=100,
        blank=True,
        help_text=_("Namnet på en miljövariabel. Används före den krypterade hemligheten."),
    )
    client_secret_encrypted = models.TextField(_("krypterad klienthemlighet"), blank=True)
    scopes = models.CharField(_("scopes"), max_length=300, default="openid email")
    signing_algorithm = models.CharField(_("signeringsalgoritm"), max_length=10, default="RS256")
    user_claim = models.CharField(
        _("claim som identifierar användaren"), max_length=100, default="email"
    )
    user_field = models.CharField(
        _("jämförs med"),
        max_length=32,
        choices=UserClaimField.choices,
        default=UserClaimField.EMAIL,
    )
    accepted_acr = models.CharField(
        _("godtagna tillitsnivåer (acr)"),
        max_length=500,
        help_text=_(
            "Mellanslagsseparerade acr-värden, t.ex. http://id.elegnamnden.se/loa/1.0/loa3 "
            "http://id.elegnamnden.se/loa/1.0/loa4. Andra nivåer nekas."
        ),
    )

    class Meta:
        verbose_name = _("identitetsleverantör")
        verbose_name_plural = _("identitetsleverantörer")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.agency})"

    @property
    def accepted_acr_values(self) -> list[str]:
        return self.accepted_acr.split()


class AuditEvent(models.Model):
    """Who did what, when, from where. Never the sensitive data itself: a person or case is
    named by its id, never by name or identity number, so the log outlives gallring unchanged
    (the gallring item that deleted a case maps its ids to a pseudonym).

    Rows are append-only: a database trigger (migrations 0002 and the partitioning one) rejects
    UPDATE and DELETE. On PostgreSQL the table is partitioned by month of `occurred_at`, and its
    primary key is (id, occurred_at); `id` alone stays unique (one sequence), which is all
    Django relies on. Old months leave only as whole partitions (avhopp.audit_partitions).
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
            # The log search by user name ignores case (`username__iexact`, an UPPER(...) match):
            # migration 0013 says why it has an index of its own.
            models.Index(
                Upper("username"), F("occurred_at").desc(), name="audit_username_upper_time"
            ),
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
    seen this case" includes the lists it appeared in. Append-only like the events.

    Partitioned like the events, by the event's month: a foreign key cannot point at a
    partitioned table's `id` alone, so the database holds no constraint (both rows are written
    in one transaction by avhopp.audit.audit_list), and the event's time is copied here so a
    join on (event_id, event_occurred_at) reads one partition of each table."""

    event = models.ForeignKey(
        AuditEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="shown_cases",
    )
    event_occurred_at = models.DateTimeField(_("händelsens tid (UTC)"))
    case_id = models.BigIntegerField(_("ärende-id"))

    class Meta:
        verbose_name = _("visat ärende")
        verbose_name_plural = _("visade ärenden")
        constraints = [
            models.UniqueConstraint(
                fields=["case_id", "event", "event_occurred_at"], name="audit_shown_case_once"
            ),
        ]
        # A case's lists newest first, so "who has read this case" stops after one page
        # (cases.audit_selectors.newest_touching_cases).
        indexes = [
            models.Index(fields=["case_id", "-event_occurred_at"], name="audit_shown_case_time")
        ]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.case_id}"


class NotificationKind(models.TextChoices):
    """What a notification says happened: never which case, person or place."""

    REFERRAL_RECEIVED = "referral_received", _("En remiss har kommit")
    REFERRAL_ANSWERED = "referral_answered", _("En remiss har besvarats")
    CASE_SHARED = "case_shared", _("Ett ärende har delats med er")
    THREAT_REVIEW_DUE = "threat_review_due", _("En hotbedömning ska snart omprövas")
    FOLLOW_UP_DUE = "follow_up_due", _("En insats ska snart följas upp")
    CONSENT_EXPIRING = "consent_expiring", _("Ett samtycke går snart ut")
    RELOCATION_STEP = "relocation_step", _("Ett steg i en omplacering väntar på dig")
    OUTCOMES_DUE = "outcomes_due", _("Resultat vid uppföljning ska snart registreras")


class Notification(models.Model):
    """Something waits for a user: a kind and a link into Avhopp, nothing of the case. The link
    is checked again by the page it leads to, so a stale one meets that page's 404."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("typ"), max_length=32, choices=NotificationKind.choices)
    url = models.CharField(_("länk"), max_length=300)
    created_at = models.DateTimeField(_("skapad"), auto_now_add=True)
    read_at = models.DateTimeField(_("läst"), null=True, blank=True)
    # Whether an e-mail is owed (the user had an address), and when it went out: the mail
    # job re-publishes what a broker outage left unsent.
    mail_wanted = models.BooleanField(default=False)
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notis")
        verbose_name_plural = _("notiser")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A path on this site only: never another host, whatever a caller passes.
            models.CheckConstraint(
                name="notification_url_is_local_path",
                condition=Q(url__startswith="/")
                & ~Q(url__startswith="//")
                & ~Q(url__startswith="/\\"),
            ),
            models.CheckConstraint(
                name="notification_kind_valid", condition=Q(kind__in=NotificationKind.values)
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_time"),
            # The header's unread count, on every page.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
            models.Index(
                fields=["created_at"],
                condition=Q(mail_wanted=True, mailed_at__isnull=True),
                name="notification_mail_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}"

    @property
    def kind_label(self) -> str:
        return NotificationKind(self.kind).label


class ReminderSent(models.Model):
    """A reminder that went out: one row per thing and due date (e.g. "follow_up:12" on
    2026-05-01). The unique constraint is what makes a rerun, or two runs at once, send
    nothing twice: the second insert waits for the first and then fails."""

    subject = models.CharField(max_length=64)
    due_on = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subject", "due_on"], name="reminder_once_per_due_date")
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.due_on}"
