"""Forms validate at the edge; services and database constraints enforce again behind them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form, ModelForm
from avhopp.models import Agency, User
from cases.identity import REGISTRATION_REFUSED, parse_identity_number
from cases.models import (
    END_REASONS,
    STATUSES_NEEDING_REASON,
    TEXT_LIMIT,
    CaseStatus,
    Consent,
    ConsentScope,
    EndReason,
    Individual,
    InterventionKind,
    InterventionStatus,
    LegalBasis,
    ReferralSource,
    ThreatAssessment,
    ThreatLevel,
    allowed_transitions,
)
from cases.selectors import SORTABLE

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def limit_text(field: forms.Field, limit: int = TEXT_LIMIT) -> None:
    """Hold a model form's text field to a limit. Setting max_length after the field is built
    validates nothing: the validator and the widget's maxlength are added here."""
    field.max_length = limit
    field.validators.append(MaxLengthValidator(limit))
    field.widget.attrs["maxlength"] = str(limit)


# One label per sort order the list selector knows (cases.selectors.SORTABLE).
SORT_LABELS = {
    "-number": _("Senast registrerad först"),
    "-opened_at": _("Senast aktualiserad först"),
    "opened_at": _("Äldst först"),
    "name": _("Efternamn A till Ö"),
    "-name": _("Efternamn Ö till A"),
    "status": _("Status"),
    "review": _("Omprövning av hotbild, tidigast först"),
}


class CaseFilterForm(Form):
    q = forms.CharField(label=_("Sök namn eller personnummer"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Alla")), ("open", _("Alla öppna")), *CaseStatus.choices],
    )
    threat_level = forms.ChoiceField(
        label=_("Hotnivå"), required=False, choices=[("", _("Alla")), *ThreatLevel.choices]
    )
    intervention_kind = forms.ChoiceField(
        label=_("Insats"), required=False, choices=[("", _("Alla")), *InterventionKind.choices]
    )
    overdue = forms.ChoiceField(
        label=_("Försenat"),
        required=False,
        choices=[
            ("", _("Alla")),
            ("threat_review", _("Omprövning av hotbild")),
            ("follow_up", _("Uppföljning av insats")),
        ],
    )
    order = forms.ChoiceField(
        label=_("Sortering"),
        required=False,
        choices=[(key, SORT_LABELS[key]) for key in SORTABLE],
    )


class IdentityNumberField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=20, **kwargs)

    def clean(self, value: str) -> str:
        value = super().clean(value)
        if not value:
            return ""
        return parse_identity_number(value, today=timezone.localdate())


# The label alone ("Välj skyddade personuppgifter") would read as choosing the data itself.
PROTECTION_MESSAGES = {
    "protection_level": {"required": _("Välj om personen har skyddade personuppgifter")}
}


class IndividualForm(ModelForm):
    # Whether the person's identity is protected is asked, never assumed: a protected identity
    # left at "none" by an unread default would be unmasked everywhere.
    undecided = ("protection_level",)
    personnummer = IdentityNumberField(
        label=_("Personnummer eller samordningsnummer"),
        required=False,
        help_text=_("ÅÅÅÅMMDD-NNNN. Lämna tomt om numret är okänt: då skapas ett reservnummer."),
    )

    class Meta:
        model = Individual
        fields = [
            "first_name",
            "last_name",
            "personnummer",
            "birth_date",
            "gender",
            "protection_level",
            "phone",
            "address",
        ]
        widgets = {"birth_date": DATE_INPUT}
        error_messages = PROTECTION_MESSAGES
        help_texts = {
            "birth_date": _("Behövs bara när personnummer saknas."),
            "protection_level": _(
                "Fingerade personuppgifter syns inte i folkbokföringen: markera för hand."
            ),
        }

    def __init__(self, *args: Any, refuses_numbers: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Past the policy's limit of refusals: every number is refused, before any lookup.
        self.refuses_numbers = refuses_numbers
        # The person already registered under the number, for the view to log and report.
        self.registered: Individual | None = None

    def clean_personnummer(self) -> str | None:
        number = self.cleaned_data["personnummer"] or None
        if number and not self.refuses_numbers:
            self.registered = Individual.objects.filter(personnummer=number).first()
        if number and (self.refuses_numbers or self.registered is not None):
            # One answer for every refusal: it must not tell whether the person is registered.
            raise forms.ValidationError(REGISTRATION_REFUSED, code="refused")
        return number

    def refused_registration(self) -> bool:
        """Whether the number was refused: by `clean_personnummer`, or by the database
        constraint's check for a number another request registered after that looked."""
        if self.has_error(NON_FIELD_ERRORS, "refused") and self.registered is None:
            number = self.cleaned_data.get("personnummer")
            self.registered = Individual.objects.filter(personnummer=number).first()
            return True
        return self.has_error("personnummer", "refused")


class IndividualEditForm(ModelForm):
    """Correcting a person's details. The identity number is fixed once registered."""

    class Meta:
        model = Individual
        fields = ["first_name", "last_name", "gender", "protection_level", "phone", "address"]
        error_messages = PROTECTION_MESSAGES

    WITHHELD = ("phone", "address", "protection_level")

    def __init__(self, *args: Any, shows_protected: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not revealed: the fields would show the hidden values, so they are left out; nor may
        # protection be lifted, which would unmask them all the same.
        self.withheld = () if shows_protected else self.WITHHELD
        for name in self.withheld:
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Refused whatever the value, never dropped while the rest is saved: and refused the
        # same whether or not it matches the hidden value, so a guess learns nothing.
        if any(name in self.data for name in self.withheld):
            raise forms.ValidationError(
                _(
                    "Adress, telefon och skyddade personuppgifter kan ändras först när de "
                    "skyddade uppgifterna visas. Inget har sparats."
                ),
                code="withheld",
            )
        return data


class CaseForm(Form):
    referral_source = forms.ChoiceField(
        label=_("Aktualiserad av"),
        choices=ReferralSource.choices,
        error_messages={"required": _("Välj vem som aktualiserade ärendet")},
    )
    motivation_notes = forms.CharField(
        label=_("Motivation"), widget=forms.Textarea, required=False, max_length=TEXT_LIMIT
    )


class CaseDetailsForm(Form):
    motivation_notes = forms.CharField(
        label=_("Motivation"), widget=forms.Textarea, required=False, max_length=TEXT_LIMIT
    )
    agreement_signed_on = forms.DateField(
        label=_("Överenskommelse undertecknad"), required=False, widget=DATE_INPUT
    )
    agreement_conditions = forms.CharField(
        label=_("Villkor i överenskommelsen"),
        widget=forms.Textarea,
        required=False,
        max_length=TEXT_LIMIT,
        help_text=_("T.ex. ingen brottslighet, inga droger, drogtester, regelbundna möten."),
    )

    def clean_agreement_signed_on(self):
        signed = self.cleaned_data["agreement_signed_on"]
        if signed and signed > timezone.localdate():
            raise forms.ValidationError(_("Datumet kan inte ligga i framtiden."))
        return signed


class StatusChangeForm(Form):
    to_status = forms.ChoiceField(label=_("Ny status"))
    reason = forms.CharField(
        label=_("Skäl"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("Krävs för att avsluta eller avbryta."),
    )
    # A code for the national statistics, beside the reason in words.
    end_reason = forms.ChoiceField(
        label=_("Orsak"),
        choices=[("", _("Välj orsak")), *EndReason.choices],
        required=False,
        help_text=_("Krävs för att avsluta eller avbryta."),
    )

    def __init__(self, *args: Any, current_status: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No preselected step: one careless click must not move a case forward.
        self.fields["to_status"].choices = [
            ("", _("Välj ny status")),
            *((s.value, s.label) for s in allowed_transitions(current_status)),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("to_status") in STATUSES_NEEDING_REASON and not data.get("reason", "").strip():
            self.add_error("reason", _("Ange ett skäl för att avsluta eller avbryta ärendet."))
        ending = data.get("to_status")
        if ending in STATUSES_NEEDING_REASON and data.get("end_reason") not in END_REASONS[ending]:
            self.add_error("end_reason", _("Välj en orsak som hör till den nya statusen."))
        return data


class InterventionForm(Form):
    kind = forms.ChoiceField(label=_("Typ av insats"), choices=InterventionKind.choices)
    provider_agency = forms.ModelChoiceField(
        label=_("Utförare (myndighet)"), queryset=Agency.objects.none(), required=False
    )
    provider_name = forms.CharField(
        label=_("Utförare (extern, namn)"), required=False, max_length=200
    )
    status = forms.ChoiceField(label=_("Status"))
    decision_date = forms.DateField(label=_("Beslutsdatum"), required=False, widget=DATE_INPUT)
    start_date = forms.DateField(label=_("Startdatum"), required=False, widget=DATE_INPUT)
    end_date = forms.DateField(label=_("Slutdatum"), required=False, widget=DATE_INPUT)
    follow_up_date = forms.DateField(
        label=_("Uppföljningsdatum"), required=False, widget=DATE_INPUT
    )
    goal = forms.CharField(
        label=_("Mål"), widget=forms.Textarea, required=False, max_length=TEXT_LIMIT
    )
    outcome = forms.CharField(
        label=_("Resultat"), widget=forms.Textarea, required=False, max_length=TEXT_LIMIT
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider_agency"].queryset = Agency.objects.order_by("name")
        self.fields["status"].choices = InterventionStatus.choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("provider_agency") and not data.get("provider_name", "").strip():
            self.add_error("provider_name", _("Ange en utförare: en myndighet eller ett namn."))
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("Slutdatum kan inte vara före startdatum."))
        return data


class JournalEntryForm(Form):
    text = forms.CharField(
        label=_("Anteckning"), widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_LIMIT
    )
    corrects = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError(_("Anteckningen är tom."))
        return text


class ThreatAssessmentForm(ModelForm):
    class Meta:
        model = ThreatAssessment
        fields = [
            "level",
            "summary",
            "details",
            "protected_address",
            "relocation",
            "personal_protection",
            "other_measures",
            "next_review_date",
        ]
        widgets = {"next_review_date": DATE_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit_text(self.fields["summary"])
        limit_text(self.fields["details"])
        self.fields["next_review_date"].initial = timezone.localdate() + timedelta(
            days=settings.AVHOPP_THREAT_REVIEW_DAYS
        )

    def clean_next_review_date(self):
        review = self.cleaned_data["next_review_date"]
        if review <= timezone.localdate():
            raise forms.ValidationError(_("Nästa omprövning måste ligga i framtiden."))
        return review


class ReasonForm(Form):
    REASONS = [
        ("covering", _("Vikarierar för ansvarig handläggare")),
        ("joint_meeting", _("Gemensamt möte eller samråd")),
        ("urgent", _("Akut situation")),
        ("supervision", _("Arbetsledning")),
        ("other", _("Annat (beskriv)")),
    ]
    reason = forms.ChoiceField(label=_("Skäl"), choices=REASONS, widget=forms.RadioSelect)
    other = forms.CharField(label=_("Beskrivning"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("reason") == "other" and not data.get("other", "").strip():
            self.add_error("other", _("Beskriv skälet."))
        return data

    @property
    def reason_text(self) -> str:
        data = self.cleaned_data
        if data["reason"] == "other":
            return f"other: {data['other'].strip()}"
        return data["reason"]


class ConsentForm(ModelForm):
    class Meta:
        model = Consent
        fields = [
            "recipient",
            "scope_interventions",
            "scope_threat_level",
            "scope_journal",
            "relocation",
            "given_on",
            "valid_until",
            "document_reference",
        ]
        widgets = {"given_on": DATE_INPUT, "valid_until": DATE_INPUT}

    def __init__(self, *args: Any, owning_agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = Agency.objects.exclude(pk=owning_agency.pk)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        given, until = data.get("given_on"), data.get("valid_until")
        if given and given > timezone.localdate():
            self.add_error("given_on", _("Datumet kan inte ligga i framtiden."))
        if given and until and until < given:
            self.add_error(
                "valid_until", _("Giltigt till kan inte vara före datumet det lämnades.")
            )
        return data


class ShareForm(Form):
    agency = forms.ModelChoiceField(
        label=_("Dela med"),
        queryset=Agency.objects.none(),
        error_messages={"required": _("Välj myndighet att dela med")},
    )
    consent = forms.ModelChoiceField(
        label=_("Samtycke"), queryset=Consent.objects.none(), required=False
    )
    legal_basis = forms.ChoiceField(
        label=_("Eller rättslig grund"),
        choices=[("", _("Ingen: dela på samtycke")), *LegalBasis.choices],
        required=False,
    )
    legal_basis_citation = forms.CharField(
        label=_("Hänvisning och motivering"), required=False, max_length=300
    )
    scopes = forms.MultipleChoiceField(
        label=_("Vad mottagaren får läsa utöver grunduppgifter"),
        choices=ConsentScope.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, case: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.exclude(pk=case.owning_agency_id)
        self.fields["consent"].queryset = Consent.objects.filter(
            individual=case.individual, withdrawn_at__isnull=True
        ).select_related("recipient")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("consent") and not data.get("legal_basis"):
            raise forms.ValidationError(
                _("Välj ett samtycke, eller ange en rättslig grund med hänvisning.")
            )
        if data.get("legal_basis") and not data.get("legal_basis_citation", "").strip():
            self.add_error("legal_basis_citation", _("Ange hänvisning och motivering."))
        return data


class TeamMemberForm(Form):
    user = forms.ModelChoiceField(
        label=_("Vem"),
        queryset=User.objects.none(),
        error_messages={
            "invalid_choice": _(
                "Den användaren kan inte läggas till i teamet: bara den som redan får läsa "
                "ärendet kan vara med, och bara en gång."
            )
        },
    )

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        field.queryset = candidates
        field.label_from_instance = _member_label


def _member_label(user: User) -> str:
    return f"{user} ({user.get_role_display()}, {user.agency})"
