from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from avhopp.models import Agency, AuditEvent, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Support staff look, they do not change: writes go through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "municipality_code", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["name", "municipality_code"]
    exclude = ["group"]


@admin.register(User)
class AvhoppUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active"]
    list_filter = ["role", "agency__kind", "is_active"]
    fieldsets = (
        *UserAdmin.fieldsets,
        ("Avhopp", {"fields": ("agency", "role")}),
    )


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only in the database as well."""

    list_display = ["occurred_at", "username", "agency_name", "action", "case_id", "ip_address"]
    list_filter = ["action"]
    search_fields = ["username", "request_id"]
