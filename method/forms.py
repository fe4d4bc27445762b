"""Forms validate at the edge; the services and the database constraints enforce again."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form, ModelForm
from avhopp.models import Agency, AgencyKind, User
from cases.forms import DATE_INPUT
from cases.hooks import DecisionKind
from method.links import parse_links
from method.models import (
    OUTCOME_ANSWERS,
    Agreement,
    AgreementCondition,
    Answer,
    ConditionKind,
    Consequence,
    DrugTestResult,
    EntryKind,
    FollowUpOutcome,
    Phase,
)
from method.services import ConditionSpec


class StepForm(Form):
    """Settle a step of a case's checklist: done, or waived with a reason."""

    DONE, WAIVE = "done", "waive"
    outcome = forms.ChoiceField(
        label=_("Steget"),
        choices=[(DONE, _("Gjort")), (WAIVE, _("Undantas"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Skäl till undantag"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Krävs för att undanta ett steg. Skälet sparas med steget."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("outcome") == self.WAIVE and not data.get("reason", "").strip():
            self.add_error("reason", _("Ange varför steget undantas."))
        return data


class TemplateStepForm(Form):
    phase = forms.ChoiceField(label=_("Fas"), choices=Phase.choices)
    title = forms.CharField(label=_("Steg"), max_length=200)
    required = forms.BooleanField(
        label=_("Obligatoriskt: ärendet går inte vidare förrän steget är gjort eller undantaget"),
        required=False,
    )
    guidance = forms.CharField(
        label=_("Vägledning"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    links = forms.CharField(
        label=_("Länkar"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("En per rad: Text | https://adress"),
    )

    def clean_links(self) -> str:
        links = self.cleaned_data["links"]
        parse_links(links)
        return links


class DelegationForm(Form):
    user = forms.ModelChoiceField(label=_("Delegat"), queryset=User.objects.none())
    kind = forms.ChoiceField(label=_("Beslut"), choices=DecisionKind.choices)
    reference = forms.CharField(
        label=_("Punkt i delegationsordningen"),
        max_length=200,
        help_text=_("T.ex. Delegationsordning SN 2025, punkt 4.2."),
    )
    valid_from = forms.DateField(label=_("Gäller från"), widget=DATE_INPUT)
    valid_until = forms.DateField(label=_("Gäller till och med"), required=False, widget=DATE_INPUT)

    def __init__(self, *args: Any, delegates: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = delegates

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            raise ValidationError(_("Delegeringen kan inte sluta innan den börjar."))
        return data


class AgreementForm(Form):
    """The conditions as the issue lists them, one field each; a revision starts from the
    current agreement's."""

    police_party = forms.ModelChoiceField(
        label=_("Polisen som part"),
        queryset=Agency.objects.filter(kind=AgencyKind.POLICE),
        required=False,
        help_text=_("Lämna tomt om polisen inte är part."),
    )
    start_date = forms.DateField(label=_("Startdatum"), widget=DATE_INPUT)
    review_date = forms.DateField(label=_("Omprövas senast"), widget=DATE_INPUT)
    no_crime = forms.BooleanField(label=ConditionKind.NO_CRIME.label, required=False)
    no_drugs = forms.BooleanField(label=ConditionKind.NO_DRUGS.label, required=False)
    drug_tests = forms.IntegerField(
        label=_("Drogtester, var hur många dagar"), required=False, min_value=1, max_value=365
    )
    meetings = forms.IntegerField(
        label=_("Möten, var hur många dagar"), required=False, min_value=1, max_value=365
    )
    no_contact = forms.CharField(
        label=_("Ingen kontakt med (miljöer, grupper)"), required=False, max_length=2000
    )
    other = forms.CharField(
        label=_("Annat villkor"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, review = data.get("start_date"), data.get("review_date")
        if start and review and review < start:
            self.add_error("review_date", _("Omprövningen kan inte ligga före startdatumet."))
        if not self.conditions():
            raise ValidationError(_("Välj minst ett villkor."))
        return data

    def conditions(self) -> list[ConditionSpec]:
        data = self.cleaned_data
        specs = [ConditionSpec(kind) for kind in ("no_crime", "no_drugs") if data.get(kind)]
        specs += [
            ConditionSpec(kind, interval_days=data[kind])
            for kind in ("drug_tests", "meetings")
            if data.get(kind)
        ]
        specs += [
            ConditionSpec(kind, details=data[kind].strip())
            for kind in ("no_contact", "other")
            if data.get(kind, "").strip()
        ]
        return specs

    @staticmethod
    def initial_from(agreement: Agreement | None) -> dict[str, Any]:
        if agreement is None:
            return {}
        initial: dict[str, Any] = {"police_party": agreement.police_party_id}
        for condition in agreement.conditions.all():
            initial[condition.kind] = condition.interval_days or condition.details or True
        return initial


class EntryForm(Form):
    kind = forms.ChoiceField(label=_("Typ"), choices=EntryKind.choices)
    occurred_on = forms.DateField(label=_("Datum"), widget=DATE_INPUT)
    at_time = forms.TimeField(
        label=_("Klockslag (möten)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    result = forms.ChoiceField(
        label=_("Provresultat"), choices=[("", "---"), *DrugTestResult.choices], required=False
    )
    condition = forms.ModelChoiceField(
        label=_("Villkor som bröts"), queryset=AgreementCondition.objects.none(), required=False
    )
    consequence = forms.ChoiceField(
        label=_("Konsekvens"), choices=[("", "---"), *Consequence.choices], required=False
    )
    note = forms.CharField(
        label=_("Anteckning"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, agreement: Agreement, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["condition"].queryset = agreement.conditions.all()


class SignForm(Form):
    signed_on = forms.DateField(label=_("Undertecknad"), widget=DATE_INPUT)


class OutcomeForm(ModelForm):
    class Meta:
        model = FollowUpOutcome
        fields = OUTCOME_ANSWERS
        widgets = {name: forms.RadioSelect for name in OUTCOME_ANSWERS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Radios offer the answers alone: no blank option, none chosen for the worker.
        for name in OUTCOME_ANSWERS:
            self.fields[name].choices = Answer.choices
