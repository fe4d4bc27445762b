from __future__ import annotations

from django.contrib import admin

from avhopp.admin import ReadOnlyAdmin
from referrals.models import Referral


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    """Pipeline state only, for support: never the document or its contents."""

    list_display = ["id", "kind", "from_agency", "to_agency", "status", "attempts", "created_at"]
    list_filter = ["status", "kind"]
    fields = ["kind", "from_agency", "to_agency", "status", "attempts", "error_message"]
