"""The agency admin's part of the start page: the agency's users who need the admin, those
locked out by failed logins, those who never signed in and those without an authenticator."""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from avhopp.models import User
from avhopp.panels import Panel, register
from avhopp.policy import UserAction, UserPolicy

# Users the panel shows; one more is read to know whether there are more.
USER_ROWS = 10


def users_needing_attention(admin: User) -> list[User]:
    """The admin's active users that are locked out, have never signed in or have no
    confirmed authenticator (TOTP or passkey), the locked first, in one query. Locked as
    django-axes decides it for a user name: the failures of its unexpired attempts, over
    every address, reach the limit."""
    failures = (
        AccessAttempt.objects.filter(
            username=OuterRef("username"), expiration__expires_at__gt=timezone.now()
        )
        .values("username")
        .annotate(total=Sum("failures_since_start"))
        .values("total")
    )
    users = UserPolicy.visible_to(admin).filter(is_active=True)
    users = users.annotate(
        failures=Coalesce(Subquery(failures, output_field=IntegerField()), 0),
        has_totp=Exists(TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)),
        has_passkey=Exists(
            WebAuthnCredential.objects.filter(user_id=OuterRef("pk"), confirmed=True)
        ),
    )
    flagged: QuerySet[User] = users.filter(
        Q(failures__gte=settings.AXES_FAILURE_LIMIT)
        | Q(last_login__isnull=True)
        | Q(has_totp=False, has_passkey=False)
    )
    # Locked first (they cannot work now), then never signed in, the longest waiting first.
    ordered = flagged.order_by("-failures", "last_login", "date_joined", "pk")
    return list(ordered[: USER_ROWS + 1])


def _user_states(request: HttpRequest, _subject: Any) -> dict[str, Any] | None:
    if not UserPolicy.allows(request.user, UserAction.MANAGE):
        return None
    users = users_needing_attention(request.user)
    rows = [
        {
            "user": user,
            "locked": user.failures >= settings.AXES_FAILURE_LIMIT,
            "never_signed_in": user.last_login is None,
            "no_authenticator": not (user.has_totp or user.has_passkey),
        }
        for user in users[:USER_ROWS]
    ]
    return {"rows": rows, "more": len(users) > USER_ROWS}


def register_panels() -> None:
    register("start", Panel("avhopp/start_users.html", _user_states))
