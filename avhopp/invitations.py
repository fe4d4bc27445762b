"""The invitation's link: a new user chooses their own password, and no admin ever sees one.

The token is Django's password-reset token under a salt of its own: an HMAC over the user's
id, password hash, last login and address, dated. It stops working once a password is
chosen (the hash changes), when a new invitation is sent (a new unusable hash), and after
AVHOPP_INVITATION_HOURS (PASSWORD_RESET_TIMEOUT). Nothing of it is stored.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext_lazy as _

from avhopp import mail
from avhopp.models import User

LINK_INVALID = _(
    "Länken fungerar inte längre: den har redan använts, en ny inbjudan har skickats eller "
    "den har gått ut. Be din myndighets administratör om en ny inbjudan."
)


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "avhopp.invitations.InvitationTokenGenerator"


tokens = InvitationTokenGenerator()


def pending(user: User) -> bool:
    """Whether the user can be invited: active, in an agency that signs in with passwords,
    with an address to send to, and no password chosen yet."""
    return (
        user.is_active
        and user.agency_id is not None
        and user.agency.password_sign_in
        and bool(user.email)
        and not user.has_usable_password()
    )


def valid_hours() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 3600


def invitation_link(user: User) -> str:
    """The link the mail carries: made when the mail is sent, never stored."""
    query = urlencode(
        {"u": urlsafe_base64_encode(force_bytes(user.pk)), "t": tokens.make_token(user)}
    )
    return mail.absolute(f"{reverse('invitation')}?{query}")


def invited_user(uid: str, token: str, *, lock: bool = False) -> User | None:
    """The user the link was made for, while it works; None for any other link. `lock`:
    the user's row stays locked to the end of the transaction, so of two uses of one link
    at once the second finds it used."""
    try:
        pk = int(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError):
        return None
    users = User.objects.select_for_update(of=("self",)) if lock else User.objects
    user = users.filter(pk=pk).first()
    if user is None or not pending(user) or not tokens.check_token(user, token):
        return None
    return user
