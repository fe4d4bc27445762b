from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from avhopp.models import AuditAction
from cases.forms import DATE_INPUT, IdentityNumberField

# The log holds nothing older; dates far outside it cannot be turned into times at all.
EARLIEST_DATE = date(2000, 1, 1)


class AuditSearchForm(Form):
    case = forms.IntegerField(label=_("Ärende-id"), required=False, min_value=1, max_value=2**62)
    personnummer = IdentityNumberField(label=_("Personens personnummer"), required=False)
    username = forms.CharField(label=_("Användare"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Händelse"), required=False, choices=[("", _("Alla")), *AuditAction.choices]
    )
    date_from = forms.DateField(label=_("Från"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("Till"), required=False, widget=DATE_INPUT)

    def clean_date_from(self) -> date | None:
        return self._in_range(self.cleaned_data["date_from"])

    def clean_date_to(self) -> date | None:
        return self._in_range(self.cleaned_data["date_to"])

    def _in_range(self, day: date | None) -> date | None:
        today = timezone.localdate()
        if day and not EARLIEST_DATE <= day <= today:
            raise forms.ValidationError(
                _("Ange ett datum från %(earliest)s till i dag (%(today)s)."),
                code="out_of_range",
                params={"earliest": EARLIEST_DATE.isoformat(), "today": today.isoformat()},
            )
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Slutdatum kan inte vara före startdatum."))
        return data

    def error_text(self) -> str:
        """The form's errors as plain lines, for an answer that is not a page."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
        return "\n".join(lines)
