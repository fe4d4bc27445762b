"""The Django admin, for support staff: reference data and pipeline state, nothing else.

Support staff are `is_staff` members of the support group, not superusers: the group holds
exactly `SUPPORT_PERMISSIONS`. The admin asks for the second factor like every other page,
shows no field that holds case content, identity numbers, addresses of people, consent
documents, log reasons or authenticator secrets, answers only the filters it declares (an
arbitrary `?field__icontains=` would be an oracle on the hidden fields), and logs every change.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Model, QuerySet, URLField
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from avhopp.audit import audit_record
from avhopp.forms import SpecificMessages
from avhopp.models import Agency, AuditAction, IdentityProvider, User
from avhopp.policy import UserAction, UserPolicy

SUPPORT_GROUP = "Support"
# app_label.codename: reference data (agencies, the retention table), the users' active flag,
# and the referral pipeline's state, read only. Nothing of cases, the log, authenticators or
# groups.
SUPPORT_PERMISSIONS = (
    "avhopp.view_agency",
    "avhopp.add_agency",
    "avhopp.change_agency",
    "avhopp.view_user",
    "avhopp.change_user",
    "referrals.view_referral",
    "retention.view_retentionrule",
    "retention.add_retentionrule",
    "retention.change_retentionrule",
)


def ensure_support_group(*, using: str = "default") -> Group:
    """The support group with exactly `SUPPORT_PERMISSIONS`: run again, it changes nothing."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # Permissions are made after each app's migrations; make sure those named exist now.
    for label in {name.split(".")[0] for name in SUPPORT_PERMISSIONS}:
        create_permissions(apps.get_app_config(label), verbosity=0, using=using)
    group, _created = Group.objects.using(using).get_or_create(name=SUPPORT_GROUP)
    wanted = []
    for name in SUPPORT_PERMISSIONS:
        app_label, codename = name.split(".")
        wanted.append(
            Permission.objects.using(using).get(
                content_type__app_label=app_label, codename=codename
            )
        )
    group.permissions.set(wanted)
    return group


class DeclaredFiltersOnly:
    """Only the declared list filters may appear in a change list's query string.

    Django lets any lookup on a field the admin shows through; `?motivation_notes__icontains=`
    on a hidden field would answer yes or no about its content. Anything else answers 400
    (DisallowedModelAdminLookup).
    """

    # The lookups Django's own list filters send (choices, booleans, foreign keys, dates).
    _FILTER_LOOKUPS = ("exact", "isnull", "id__exact", "gte", "lt")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        declared: set[str] = set()
        for entry in self.get_list_filter(request):  # type: ignore[attr-defined]
            if isinstance(entry, str):
                declared.add(entry)
            elif isinstance(entry, tuple | list):
                declared.add(entry[0])
            else:  # a SimpleListFilter names its own parameter
                declared.add(entry.parameter_name)
        allowed = any(
            lookup == path or lookup in {f"{path}__{suffix}" for suffix in self._FILTER_LOOKUPS}
            for path in declared
        )
        return allowed and super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


class SupportAdmin(DeclaredFiltersOnly, admin.ModelAdmin):
    """What every admin here shares: declared filters only, no bulk actions, no deletes,
    and each change written to the log in the transaction that saves it."""

    actions = None
    audit_action = AuditAction.ADMIN_CHANGE

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: ModelForm, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            changed = ",".join(form.changed_data) if change else "add"
            audit_record(
                actor=request.user,
                action=self.audit_action,
                obj=obj,
                reason=f"Django admin: {changed}",
            )


class ReadOnlyAdmin(SupportAdmin):
    """Support staff look, they do not change: writes go through the services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(SupportAdmin):
    list_display = ["name", "kind", "municipality_code", "region"]
    list_filter = ["kind", "region"]
    search_fields = ["name", "municipality_code"]
    fields = [
        "name",
        "kind",
        "municipality_code",
        "region",
        "address",
        "password_sign_in",
        "passkeys_required",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Agency | None = None) -> list[str]:
        # The kind decides which roles its users may hold: it is set once, at creation.
        return ["kind"] if obj is not None else []


@admin.register(User)
class AvhoppUserAdmin(SupportAdmin):
    """Support sees agency users and switches whether they are active. Role, agency,
    password, staff and superuser status, groups and permissions are not changed here:
    agency admins manage their users in the application."""

    list_display = ["username", "first_name", "last_name", "agency", "role", "is_active"]
    list_filter = ["role", "agency__kind", "is_active"]
    search_fields = ["username", "first_name", "last_name"]
    fields = [
        "username",
        "first_name",
        "last_name",
        "email",
        "agency",
        "role",
        "is_active",
        "last_login",
        "date_joined",
    ]
    readonly_fields = [name for name in fields if name != "is_active"]
    audit_action = AuditAction.USER_UPDATE

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return super().has_change_permission(request, obj) and UserPolicy.allows(
            request.user, UserAction.SUPPORT_SET_ACTIVE, obj
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).select_related("agency")


def _https_urls(field: Any, **kwargs: Any) -> Any:
    # A provider's endpoints are typed in full; a bare host is taken as HTTPS, never HTTP.
    if isinstance(field, URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class IdentityProviderForm(SpecificMessages, forms.ModelForm):
    """The client secret is typed, never shown: stored encrypted (avhopp.oidc)."""

    client_secret = forms.CharField(
        label=_("Klienthemlighet"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Lämna tomt för att behålla den sparade, eller ange en miljövariabel ovan."),
    )

    class Meta:
        model = IdentityProvider
        formfield_callback = _https_urls
        fields = [
            "agency",
            "name",
            "enabled",
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "end_session_endpoint",
            "client_id",
            "client_secret_env",
            "scopes",
            "signing_algorithm",
            "user_claim",
            "user_field",
            "accepted_acr",
        ]

    def clean_client_secret(self) -> str:
        from avhopp.oidc import Refused, encrypt_secret

        secret = self.cleaned_data["client_secret"]
        if secret:
            try:
                self.instance.client_secret_encrypted = encrypt_secret(secret)
            except Refused as refused:  # no encryption key configured
                raise forms.ValidationError(refused.reason) from None
        return ""


@admin.register(IdentityProvider)
class IdentityProviderAdmin(SupportAdmin):
    """Superusers only (support staff have no permission on it): who may sign in to an
    agency is decided here."""

    form = IdentityProviderForm
    formfield_overrides = {URLField: {"assume_scheme": "https"}}
    list_display = ["name", "agency", "issuer", "enabled"]
    list_filter = ["enabled"]


def unregister_unneeded() -> None:
    """Admins the apps register themselves that no one here needs: authenticator secrets
    and recovery codes, and groups (the agencies' groups carry their grants; the support
    group is kept in code above). Called once every app's admin has registered."""
    for model in (TOTPDevice, StaticDevice, Group):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
