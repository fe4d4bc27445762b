from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models

from avhopp.admin import SupportAdmin
from retention.models import RetentionRule


@admin.register(RetentionRule)
class RetentionRuleAdmin(SupportAdmin):
    """The retention table: periods and legal references are data, so a new numbering of the
    statute is a new row here (from its date), never a code change. Rows are not deleted: a
    gallring report names the rule it applied."""

    list_display = ["record_kind", "valid_from", "retention_years", "legal_reference"]
    list_filter = ["record_kind"]
    # The form renderer is Jinja2's, which has no admin calendar widget template.
    formfield_overrides = {models.DateField: {"widget": forms.DateInput(attrs={"type": "date"})}}
    fields = [
        "record_kind",
        "valid_from",
        "retention_years",
        "legal_reference",
        "research_birth_days",
        "research_reference",
    ]
