from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form
from avhopp.models import AuditAction, User
from cases.audit_selectors import NAME_SEARCH_CASES, TooManyCases, cases_of_person
from cases.forms import DATE_INPUT
from cases.models import Case

# The log holds nothing older; dates far outside it cannot be turned into times at all.
EARLIEST_DATE = date(2000, 1, 1)

# A case reference as Case.reference writes it (AVH-<year>-<number>), any case, any zeros.
_REFERENCE = re.compile(r"^AVH-(?P<year>\d{4})-(?P<number>\d{1,18})$", re.ASCII | re.IGNORECASE)

# The longest period of the per-user summary: a quarter. It reads every event of the agency in
# the period, so its cost follows the period's length.
SUMMARY_MAX_DAYS = 92


class _Period(Form):
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

    def period(self) -> tuple[datetime | None, datetime | None]:
        """The dates as moments in Swedish time: from the first day's start to the last day's
        end."""
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(start, time(), zone) if start else None,
            datetime.combine(end + timedelta(days=1), time(), zone) if end else None,
        )


class AuditSearchForm(_Period):
    case = forms.CharField(
        label=_("Ärende"),
        required=False,
        max_length=40,
        help_text=_("Ärendets referens, t.ex. AVH-2026-000004."),
    )
    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=100,
        help_text=_("Namn, personnummer eller samordningsnummer."),
    )
    username = forms.CharField(label=_("Användare"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=_("Händelse"), required=False, choices=[("", _("Alla")), *AuditAction.choices]
    )
    field_order = ["case", "person", "username", "action", "date_from", "date_to"]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_case(self) -> int | None:
        """The case's id, from its reference. A reference whose year is not its case's finds
        nothing, as one that names no case does."""
        text = re.sub(r"\s", "", self.cleaned_data["case"])
        if not text:
            return None
        match = _REFERENCE.match(text)
        if not match or int(match["number"]) >= 2**63:
            raise ValidationError(
                _("Ange ärendets referens, t.ex. AVH-2026-000004."), code="reference"
            )
        case_id = int(match["number"])
        opened = Case.objects.filter(pk=case_id).values_list("opened_at", flat=True).first()
        if opened is not None and f"{opened:%Y}" != match["year"]:
            return 0
        return case_id

    def clean_person(self) -> list[int] | None:
        text = self.cleaned_data["person"].strip()
        if not text:
            return None
        if len(text.replace(" ", "")) < 2:
            raise ValidationError(_("Skriv minst två tecken av namnet."), code="short")
        try:
            return cases_of_person(self.user, text)
        except TooManyCases:
            raise ValidationError(
                _(
                    "Namnet finns i fler än %(limit)s ärenden. Skriv mer av namnet eller sök "
                    "på personnummer eller ärende."
                ),
                code="too_many",
                params={"limit": NAME_SEARCH_CASES},
            ) from None

    def error_text(self) -> str:
        """The form's errors as plain lines, for an answer that is not a page."""
        lines = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
        return "\n".join(lines)


class UserSummaryForm(_Period):
    """A period of at most SUMMARY_MAX_DAYS days; this month so far unless chosen."""

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        today = timezone.localdate()
        defaults = {"date_from": today.replace(day=1).isoformat(), "date_to": today.isoformat()}
        # An empty date takes its default, so neither is ever missing.
        super().__init__({**defaults, **{k: v for k, v in (data or {}).items() if v}}, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and (end - start).days >= SUMMARY_MAX_DAYS:
            self.add_error(
                "date_to",
                _("Välj högst %(days)s dagar.") % {"days": SUMMARY_MAX_DAYS},
            )
        return data


class SampleReviewForm(Form):
    note = forms.CharField(
        label=_("Anteckning (valfri)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
