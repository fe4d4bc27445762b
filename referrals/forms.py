from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from avhopp.forms import Form, ModelForm
from avhopp.models import Agency, User
from cases.forms import DATE_INPUT, limit_text
from cases.models import Case, Consent, ConsentScope
from referrals.models import Referral, ReferralStatus
from referrals.selectors import OVERVIEW_ORDERS, OverviewFilters, overview_agencies
from referrals.services import EXTERNAL_NEEDS_LEGAL_BASIS, NEEDS_GROUNDS, SECTION_SCOPES


class ReferralForm(ModelForm):
    class Meta:
        model = Referral
        fields = [
            "to_agency",
            "external_recipient",
            "intervention_kind",
            "reason",
            "summary",
            "requested_start",
            "contact_person",
            "consent",
            "legal_basis",
            "legal_basis_citation",
            "include_interventions",
            "include_threat_level",
            "include_journal",
        ]
        widgets = {"requested_start": DATE_INPUT}
        labels = {"consent": _("Samtycke som remissen vilar på")}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["to_agency"].queryset = Agency.objects.exclude(pk=case.owning_agency_id)
        # Only current consents of this person: sections are offered as far as they allow.
        self.fields["consent"].queryset = Consent.objects.filter(
            individual=case.individual, withdrawn_at__isnull=True
        ).select_related("recipient")
        limit_text(self.fields["reason"])
        limit_text(self.fields["summary"])
        self.fields["legal_basis"].help_text = _(
            "Utan samtycke som gäller mottagaren: den rättsliga grunden och var den står."
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        agency, external = data.get("to_agency"), data.get("external_recipient", "").strip()
        if not agency and not external:
            self.add_error(
                "to_agency", _("Välj en mottagande myndighet eller ange en extern mottagare.")
            )
        if agency and external:
            self.add_error(
                "external_recipient", _("Ange antingen myndighet eller extern mottagare.")
            )
        consent: Consent | None = data.get("consent")
        if consent is not None:
            if not consent.is_current():
                self.add_error("consent", _("Samtycket gäller inte längre."))
            elif agency and consent.recipient_id != agency.pk:
                self.add_error("consent", _("Samtycket gäller en annan mottagare."))
            elif external and not agency:
                self.add_error("consent", EXTERNAL_NEEDS_LEGAL_BASIS)
        elif (
            not (data.get("legal_basis") and data.get("legal_basis_citation", "").strip())
            # An unknown consent or basis already has its own message.
            and "consent" not in self.errors
            and "legal_basis" not in self.errors
        ):
            self.add_error(None, NEEDS_GROUNDS)
        for field, scope in SECTION_SCOPES.items():
            if data.get(field) and (consent is None or not consent.covers(scope)):
                self.add_error(field, _("Samtycket täcker inte det här avsnittet."))
        return data


class SipForm(ModelForm):
    class Meta:
        model = Referral
        fields = [
            "overall_responsibility",
            "next_follow_up",
            "contact_person",
            "summary",
            "consent",
        ]
        widgets = {"next_follow_up": DATE_INPUT}
        labels = {"consent": _("Samtycke som planen vilar på")}

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["overall_responsibility"].required = True
        self.fields["next_follow_up"].required = True
        limit_text(self.fields["summary"])
        # A SIP always requires consent (SoL 2:7, HSL 16:4).
        self.fields["consent"].required = True
        self.fields["consent"].queryset = Consent.objects.filter(
            individual=case.individual, withdrawn_at__isnull=True
        ).select_related("recipient")

    def clean_consent(self) -> Consent:
        consent = self.cleaned_data["consent"]
        if not consent.is_current():
            raise forms.ValidationError(_("Samtycket gäller inte längre."))
        # The plan lists every intervention and its provider: the consent must cover them.
        if not consent.covers(ConsentScope.INTERVENTIONS):
            raise forms.ValidationError(_("Samtycket täcker inte insatser, som en SIP redovisar."))
        return consent


class AnswerForm(Form):
    decision = forms.ChoiceField(
        label=_("Svar"),
        choices=[("accept", _("Acceptera")), ("decline", _("Avböj"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Kommentar"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "decline" and not data.get("comment", "").strip():
            self.add_error("comment", _("Ange varför remissen avböjs."))
        return data


class ReferralOverviewForm(Form):
    """The overview's filters and sort order, read from the query string."""

    direction = forms.ChoiceField(
        label=_("Riktning"),
        required=False,
        choices=[
            ("", _("Alla")),
            ("sent", _("Skickade av er")),
            ("received", _("Inkomna till er")),
        ],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Alla")), *ReferralStatus.choices]
    )
    agency = forms.ModelChoiceField(
        label=_("Mottagare eller avsändare"),
        required=False,
        queryset=Agency.objects.none(),
        empty_label=_("Alla"),
    )
    # Set by the column headers' links; kept through a new filtering.
    order = forms.ChoiceField(
        label=_("Sortering"),
        required=False,
        choices=[(order, order) for order in OVERVIEW_ORDERS],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Listan kan inte sorteras så.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = overview_agencies(user)

    def filters(self) -> OverviewFilters:
        """The valid form's filters; the unfiltered list, newest first, for any other."""
        if not self.is_bound or not self.is_valid():
            return OverviewFilters()
        data = self.cleaned_data
        return OverviewFilters(
            direction=data["direction"],
            status=data["status"],
            agency_id=data["agency"].pk if data["agency"] else None,
            order=data["order"] or OverviewFilters.order,
        )
