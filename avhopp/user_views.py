"""Agency admins manage their own agency's users, and no one else's."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from avhopp import services
from avhopp.models import Role, User
from avhopp.policy import UserAction, UserPolicy


class UserCreateForm(forms.ModelForm):
    password = forms.CharField(
        label=gettext_lazy("Startlösenord"), widget=forms.PasswordInput, max_length=128
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True  # every agency user has a role

    def clean(self) -> dict[str, object]:
        data = super().clean()
        password = data.get("password")
        if password:
            # Checked here, against the typed names, so a weak password is a field error.
            names = {key: data.get(key) or "" for key in ("username", "first_name", "last_name")}
            try:
                validate_password(password, User(**names))
            except ValidationError as error:
                self.add_error("password", error)
        return data


class UserUpdateForm(forms.Form):
    role = forms.ChoiceField(label=gettext_lazy("Roll"), choices=Role.choices)
    is_active = forms.BooleanField(label=gettext_lazy("Aktiv"), required=False)


@login_required
@require_http_methods(["GET", "POST"])
def user_list_view(request: HttpRequest) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_create(by=request.user, **form.cleaned_data)
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
        request.POST or None, initial={"role": user.role, "is_active": user.is_active}
    )
    if request.method == "POST" and form.is_valid():
        if user == request.user and not form.cleaned_data["is_active"]:
            form.add_error("is_active", _("Du kan inte inaktivera dig själv."))
        else:
            services.user_update(user=user, by=request.user, **form.cleaned_data)
            messages.success(request, _("Användaren är sparad."))
            return redirect("users:list")
    return render(
        request,
        "avhopp/user_edit.html",
        {"form": form, "edited": user},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def user_end_sessions_view(request: HttpRequest, pk: int) -> HttpResponse:
    UserPolicy.check(request.user, UserAction.MANAGE)
    user = get_object_or_404(UserPolicy.visible_to(request.user), pk=pk)
    services.user_end_sessions(user=user, by=request.user)
    messages.success(request, _("Användarens alla sessioner är avslutade."))
    return redirect("users:edit", pk=user.pk)
