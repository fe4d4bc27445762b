"""One form per step. Choices offered are only those the step may take; the services check
everything again (state, policy) whoever calls them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from avhopp.models import Agency, AgencyKind
from cases.forms import DATE_INPUT
from cases.models import Case, Consent
from relocations.models import (
    SHORT_TEXT,
    AbortReason,
    Candidate,
    Clearance,
    DeclineReason,
    HousingNeed,
    Relocation,
    Urgency,
)

_TEXTAREA = forms.Textarea(attrs={"rows": 3})


def _short_text(label: str, *, required: bool = True) -> forms.CharField:
    return forms.CharField(label=label, widget=_TEXTAREA, max_length=SHORT_TEXT, required=required)


def municipalities() -> Any:
    return Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES)


class RequestForm(Form):
    consent = forms.ModelChoiceField(
        label=_("Samtycke som omfattar omplacering"), queryset=Consent.objects.none()
    )
    urgency = forms.ChoiceField(label=_("Brådska"), choices=Urgency.choices)
    housing_need = forms.ChoiceField(label=_("Boendebehov"), choices=HousingNeed.choices)
    ivo_permit = forms.CharField(
        label=_("Utförarens IVO-tillstånd"),
        max_length=100,
        required=False,
        help_text=_("Krävs för skyddat boende."),
    )
    people_moving = forms.IntegerField(
        label=_("Antal personer som flyttar"), min_value=1, max_value=20, initial=1
    )
    children_moving = forms.IntegerField(
        label=_("Varav barn"),
        min_value=0,
        max_value=19,
        initial=0,
        error_messages={"required": _("Ange hur många barn som flyttar (0 om inga)")},
    )
    needs_summary = _short_text(_("Kort behovsbeskrivning"))
    avoided_municipalities = forms.ModelMultipleChoiceField(
        label=_("Kommuner att undvika"), queryset=Agency.objects.none(), required=False
    )
    avoided_regions = forms.CharField(
        label=_("Regioner att undvika"),
        max_length=300,
        required=False,
        help_text=_("Skilj flera med kommatecken."),
    )
    avoid_reason = forms.CharField(label=_("Skäl att undvika"), max_length=300, required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent"].queryset = Consent.objects.filter(
            individual_id=case.individual_id,
            relocation=True,
            withdrawn_at__isnull=True,
            recipient__kind=AgencyKind.NATIONAL_COORDINATION,
        ).select_related("recipient")
        self.fields["avoided_municipalities"].queryset = municipalities().exclude(
            pk=case.owning_agency_id
        )

    def clean_avoided_regions(self) -> list[str]:
        return [
            name.strip() for name in self.cleaned_data["avoided_regions"].split(",") if name.strip()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        consent = data.get("consent")
        if consent is not None and not consent.is_current():
            self.add_error("consent", _("Samtycket gäller inte längre."))
        if data.get("housing_need") == HousingNeed.PROTECTED and not data.get("ivo_permit"):
            self.add_error("ivo_permit", _("Ange utförarens IVO-tillstånd för skyddat boende."))
        people, children = data.get("people_moving"), data.get("children_moving")
        if people is not None and children is not None and children >= people:
            self.add_error("children_moving", _("Minst en vuxen flyttar: färre barn än personer."))
        return data


class AvoidForm(Form):
    municipality = forms.ModelChoiceField(
        label=_("Kommun att undvika"), queryset=Agency.objects.none(), required=False
    )
    region = forms.CharField(label=_("Eller region"), max_length=100, required=False)
    reason = forms.CharField(label=_("Skäl"), max_length=300)

    def __init__(self, *args: Any, relocation: Relocation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["municipality"].queryset = municipalities().exclude(
            pk=relocation.sending_agency_id
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get("municipality")) == bool(data.get("region", "").strip()):
            self.add_error(None, _("Ange antingen en kommun eller en region."))
        return data

    @property
    def place(self) -> Agency | str:
        return self.cleaned_data["municipality"] or self.cleaned_data["region"]


class ProposeForm(Form):
    municipalities = forms.ModelMultipleChoiceField(
        label=_("Föreslagna kommuner (en till tre)"), queryset=Agency.objects.none()
    )

    def __init__(self, *args: Any, relocation: Relocation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Never the sending one or one proposed before (the service refuses avoided ones).
        self.fields["municipalities"].queryset = (
            municipalities()
            .exclude(pk=relocation.sending_agency_id)
            .exclude(relocation_candidacies__relocation=relocation)
        )

    def clean_municipalities(self) -> Any:
        chosen = self.cleaned_data["municipalities"]
        if not 1 <= len(chosen) <= 3:
            raise forms.ValidationError(_("Välj en till tre kommuner."))
        return chosen


class _CandidateForm(Form):
    """A step about one candidate, chosen among those the user may take it for."""

    candidate = forms.ModelChoiceField(label=_("Kommun"), queryset=Candidate.objects.none())

    def __init__(self, *args: Any, candidates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["candidate"].queryset = candidates.select_related("municipality")


class ClearanceForm(_CandidateForm):
    decision = forms.ChoiceField(
        label=_("Bedömning"), choices=Clearance.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("Skäl (läses bara av polisen)"), max_length=300, required=False
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == Clearance.VETO and not data.get("reason", "").strip():
            self.add_error("reason", _("Ange skälet till vetot."))
        return data


class OfferForm(_CandidateForm):
    pass


class OfferAnswerForm(Form):
    decision = forms.ChoiceField(
        label=_("Svar"),
        choices=[("accept", _("Acceptera")), ("decline", _("Avböj"))],
        widget=forms.RadioSelect,
    )
    intake_contact = forms.CharField(
        label=_("Kontakt för mottagandet"), max_length=200, required=False
    )
    decline_reason = forms.ChoiceField(
        label=_("Skäl att avböja"),
        choices=[("", "---------"), *DeclineReason.choices],
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "accept" and not data.get("intake_contact", "").strip():
            self.add_error("intake_contact", _("Ange en kontakt för mottagandet."))
        if data.get("decision") == "decline" and not data.get("decline_reason"):
            self.add_error("decline_reason", _("Välj ett skäl."))
        return data


class PlacementForm(Form):
    housing = forms.ChoiceField(label=_("Boende"), choices=HousingNeed.choices)
    address = forms.CharField(label=_("Ny adress"), max_length=300)
    move_date = forms.DateField(label=_("Flyttdatum"), widget=DATE_INPUT)


class MovedForm(Form):
    moved_on = forms.DateField(label=_("Flyttade den"), widget=DATE_INPUT)

    def clean_moved_on(self) -> Any:
        moved_on = self.cleaned_data["moved_on"]
        if moved_on > timezone.localdate():
            raise forms.ValidationError(_("Datumet kan inte ligga i framtiden."))
        return moved_on


class HandoverForm(Form):
    closing_summary = _short_text(_("Avslutande sammanfattning (utan ort eller adress)"))


class HandoverAnswerForm(Form):
    decision = forms.ChoiceField(
        label=_("Svar"),
        choices=[("accept", _("Ta över ärendet")), ("refuse", _("Avböj"))],
        widget=forms.RadioSelect,
    )
    reason = _short_text(_("Skäl att avböja"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "refuse" and not data.get("reason", "").strip():
            self.add_error("reason", _("Ange varför överlämningen avböjs."))
        return data


class IvoForm(Form):
    reference = forms.CharField(label=_("IVO:s diarienummer"), max_length=100)
    outcome = _short_text(_("IVO:s beslut"), required=False)


class AbortForm(Form):
    reason = forms.ChoiceField(label=_("Skäl till avbrott"), choices=AbortReason.choices)
