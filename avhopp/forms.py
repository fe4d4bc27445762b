from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    """Django sets the user name's max_length only on the widget; enforce it, so an overlong
    name is refused as a form error before it reaches authentication and the lockout records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class InvitationPasswordForm(SetPasswordForm):
    """The invited user's own password, checked by the project's validators (at least 12
    characters, not common, not all digits, not like the user's names)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # In words, not the validators' HTML list, which a form's help paragraph cannot hold.
        self.fields["new_password1"].help_text = _(
            "Minst 12 tecken, inte bara siffror, inte ett vanligt lösenord och inte likt ditt "
            "namn eller användarnamn."
        )
