from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from cases.models import TEXT_LIMIT
from retention.models import ExtractKind, HoldKind


class HoldForm(Form):
    case_number = forms.IntegerField(label=_("Ärendenummer"), min_value=1)
    kind = forms.ChoiceField(label=_("Typ"), choices=HoldKind.choices)
    reason = forms.CharField(label=_("Skäl"), widget=forms.Textarea, max_length=TEXT_LIMIT)


class LiftForm(Form):
    reason = forms.CharField(label=_("Skäl att häva"), max_length=TEXT_LIMIT)


class ExtractForm(Form):
    kind = forms.ChoiceField(label=_("Utdrag"), choices=ExtractKind.choices)
    identity_checked = forms.CharField(
        label=_("Identiteten kontrollerad genom"),
        max_length=200,
        error_messages={"required": _("Ange hur identiteten kontrollerades")},
        help_text=_("T.ex. pass eller id-kort, visat för dig vid mötet."),
    )
