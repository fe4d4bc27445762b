from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from avhopp.models import Agency, AgencyKind
from research.models import PURPOSE_MAX, PURPOSE_MIN, Variable


class ExtractRequestForm(Form):
    coordinating_agency = forms.ModelChoiceField(
        label=_("Nationell samordning"),
        queryset=Agency.objects.filter(kind=AgencyKind.NATIONAL_COORDINATION),
        # Usually the one national coordination: offered as the answer.
        empty_label=None,
    )
    purpose = forms.CharField(
        label=_("Syfte"),
        widget=forms.Textarea(attrs={"rows": 4}),
        min_length=PURPOSE_MIN,
        max_length=PURPOSE_MAX,
        help_text=_("Forskningsfrågan och varför uppgifterna behövs."),
    )
    variables = forms.MultipleChoiceField(
        label=_("Variabler"), choices=Variable.choices, widget=forms.CheckboxSelectMultiple
    )
    ethics_reference = forms.CharField(
        label=_("Etikprövningsmyndighetens diarienummer"),
        max_length=20,
        help_text=_("Till exempel 2024-01234-01. Utan godkänd etikprövning lämnas inget ut."),
        error_messages={"required": _("Ange Etikprövningsmyndighetens diarienummer.")},
    )


class DecisionForm(Form):
    decision = forms.ChoiceField(
        label=_("Beslut"),
        choices=[("approve", _("Godkänn")), ("refuse", _("Avslå"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motivering"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text=_("Krävs för ett avslag."),
    )
