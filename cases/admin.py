"""Admin for support staff: reference data and structure, never the sensitive content.

Identity numbers, addresses, journal text and threat details are not shown here; case
content is read through the application, where every read is checked and logged. These are
read only, answer only their declared filters (`ReadOnlyAdmin`), and the support group is not
given them: they are there for a superuser looking into the structure.
"""

from __future__ import annotations

from django.contrib import admin

from avhopp.admin import ReadOnlyAdmin
from cases.models import Case, CaseShare, Consent, Intervention


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "owning_agency", "status", "opened_at", "threat_level"]
    list_filter = ["status", "owning_agency"]
    fields = ["owning_agency", "responsible", "status", "opened_at", "closed_at", "threat_level"]


@admin.register(Intervention)
class InterventionAdmin(ReadOnlyAdmin):
    list_display = ["id", "case_id", "kind", "status", "follow_up_date"]
    list_filter = ["kind", "status"]
    fields = ["kind", "status", "provider_agency", "decision_date", "follow_up_date"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["id", "recipient", "given_on", "valid_until", "withdrawn_at"]
    fields = ["recipient", "given_on", "valid_until", "withdrawn_at"]


@admin.register(CaseShare)
class CaseShareAdmin(ReadOnlyAdmin):
    list_display = ["id", "case_id", "agency", "legal_basis", "created_at", "revoked_at"]
    # Not the revocation's reason: a coordinator's own words about the person.
    fields = ["agency", "legal_basis", "created_at", "revoked_at"]
