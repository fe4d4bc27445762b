from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.models import AuditAction
from cases.forms import DATE_INPUT, IdentityNumberField


class AuditSearchForm(forms.Form):
    case = forms.IntegerField(label=_("Ärende-id"), required=False, min_value=1, max_value=2**62)
    personnummer = IdentityNumberField(label=_("Personens personnummer"), required=False)
    username = forms.CharField(label=_("Användare"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Händelse"), required=False, choices=[("", _("Alla")), *AuditAction.choices]
    )
    date_from = forms.DateField(label=_("Från"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("Till"), required=False, widget=DATE_INPUT)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Slutdatum kan inte vara före startdatum."))
        if end and end > timezone.localdate():
            data["date_to"] = timezone.localdate()
        return data
