"""Agency admins manage their own agency's users, and no one else's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from avhopp import invitations, services
from avhopp.forms import Form, ModelForm
from avhopp.models import Agency, Role, User, role_misfit_message, roles_of_kind
from avhopp.policy import UserAction, UserPolicy


def _limit_roles(field: forms.ChoiceField, agency: Agency, *, blank: bool) -> None:
    """Offer only the roles of the agency's kind; any other posted role is refused with a
    message saying why."""
    offered = [(role, Role(role).label) for role in roles_of_kind(agency.kind)]
    field.choices = [("", "---------"), *offered] if blank else offered
    # Django formats this message with the posted value; it names none.
    field.error_messages["invalid_choice"] = role_misfit_message(agency).replace("%", "%%")


class UserCreateForm(ModelForm):
    """No password here: the user chooses their own through the invitation's link."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "external_id", "role"]

    def __init__(self, *args: object, agency: Agency, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True  # every agency user has a role
        # The invitation goes to the address; staff of an agency that signs in only through
        # its provider get none.
        if agency.password_sign_in:
            self.fields["email"].required = True
            self.fields["email"].help_text = _(
                "Inbjudan skickas hit. Användaren väljer själv sitt lösenord."
            )
        self.agency = agency
        _limit_roles(self.fields["role"], agency, blank=True)

    def clean_external_id(self) -> str:
        external_id = self.cleaned_data["external_id"].strip()
        if (
            external_id
            and User.objects.filter(agency=self.agency, external_id=external_id).exists()
        ):
            raise ValidationError(_("En annan användare hos myndigheten har redan det id:t."))
        return external_id


class UserUpdateForm(Form):
    role = forms.ChoiceField(label=gettext_lazy("Roll"), choices=Role.choices)
    is_active = forms.BooleanField(label=gettext_lazy("Aktiv"), required=False)

    def __init__(self, *args: object, edited: User, by: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.edited, self.by = edited, by
        _limit_roles(self.fields["role"], edited.agency, blank=False)

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if UserPolicy.allows(self.by, UserAction.CHANGE_ACCESS, self.edited):
            return data
        if "role" in data and data["role"] != self.edited.role:
            self.add_error("role", _("Du kan inte ändra din egen roll."))
        if "is_active" in data and data["is_active"] != self.edited.is_active:
            self.add_error("is_active", _("Du kan inte inaktivera dig själv."))
        return data


@login_required
@require_http_methods(["GET", "POST"])
def user_list_view(request: HttpRequest) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    form = UserCreateForm(request.POST or None, agency=request.user.agency)
    if request.method == "POST" and form.is_valid():
        created = services.user_create(by=request.user, **form.cleaned_data)
        if invitations.pending(created):
            messages.success(request, _("Användaren är skapad och en inbjudan är skickad."))
        else:
            messages.success(request, _("Användaren är skapad."))
        return redirect("users:list")
    users = UserPolicy.visible_to(request.user).order_by("username")
    return render(
        request,
        "avhopp/users.html",
        {"users": users, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def user_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    user = get_object_or_404(UserPolicy.visible_to(request.user), pk=pk)
    form = UserUpdateForm(
        request.POST or None,
        initial={"role": user.role, "is_active": user.is_active},
        edited=user,
        by=request.user,
    )
    if request.method == "POST" and form.is_valid():
        services.user_update(user=user, by=request.user, **form.cleaned_data)
        messages.success(request, _("Användaren är sparad."))
        return redirect("users:list")
    return render(
        request,
        "avhopp/user_edit.html",
        {"form": form, "edited": user, "invitation_pending": invitations.pending(user)},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def user_invite_view(request: HttpRequest, pk: int) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    user = get_object_or_404(UserPolicy.visible_to(request.user), pk=pk)
    try:
        services.user_invite(user=user, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("En ny inbjudan är skickad. Tidigare länkar fungerar inte."))
    return redirect("users:edit", pk=user.pk)


@login_required
@require_POST
def user_end_sessions_view(request: HttpRequest, pk: int) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    user = get_object_or_404(UserPolicy.visible_to(request.user), pk=pk)
    services.user_end_sessions(user=user, by=request.user)
    messages.success(request, _("Användarens alla sessioner är avslutade."))
    return redirect("users:edit", pk=user.pk)
