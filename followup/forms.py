from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from followup.selectors import Period


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(Form):
    start = forms.DateField(label=_("Från och med"), widget=DateInput)
    end = forms.DateField(label=_("Till och med"), widget=DateInput)

    @staticmethod
    def default_period() -> Period:
        """The last twelve months up to today."""
        today = timezone.localdate()
        return Period(today - timedelta(days=364), today)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            return data
        today = timezone.localdate()
        if start > today:
            raise forms.ValidationError(
                _("Perioden ligger i framtiden: det finns inget att räkna ännu.")
            )
        if end < start:
            raise forms.ValidationError(_("Perioden är tom: slutdatumet ligger före startdatumet."))
        if end > today:
            self.add_error(
                "end", _("Perioden kan sluta senast i dag (%(today)s).") % {"today": today}
            )
        if end.year - start.year > 10:
            self.add_error("start", _("Välj en period på högst tio år."))
        return data

    def period(self) -> Period:
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


class ReportForm(Form):
    year = forms.IntegerField(label=_("År"), min_value=2000, max_value=2100)
    quarter = forms.TypedChoiceField(
        label=_("Kvartal"), coerce=int, choices=[(q, f"Q{q}") for q in range(1, 5)]
    )

    @staticmethod
    def last_quarter() -> dict[str, int]:
        year, quarter = quarter_of(timezone.localdate())
        return {"year": year - (quarter == 1), "quarter": quarter - 1 or 4}
