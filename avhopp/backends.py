"""Password sign-in, for the agencies that keep it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class PasswordBackend(ModelBackend):
    """Django's password backend, refusing the users of an agency that signs in only through
    its identity provider. Checked on every request too (get_user), so switching password
    sign-in off ends the password sessions of that agency's staff."""

    def user_can_authenticate(self, user: Any) -> bool:
        agency = getattr(user, "agency", None)
        return super().user_can_authenticate(user) and (agency is None or agency.password_sign_in)
