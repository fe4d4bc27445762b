"""Writes on agencies' users and their invitations, each with its audit event."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avhopp import invitations, jobs, mail
from avhopp.audit import audit_record
from avhopp.models import AuditAction, User
from avhopp.policy import UserAction, UserPolicy

INVITATION_NEEDS_EMAIL = gettext_lazy(
    "Ange en e-postadress: inbjudan, där användaren själv väljer lösenord, skickas dit."
)


@transaction.atomic
def user_create(
    *,
    by: User,
    username: str,
    role: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    external_id: str = "",
) -> User:
    """A user of the admin's own agency, in a role that agency's kind has (User.clean). No
    admin chooses a password: where the agency signs in with passwords, the user is invited
    by e-mail to choose their own; elsewhere they sign in through the identity provider."""
    UserPolicy.check(by, UserAction.MANAGE)
    if by.agency.password_sign_in and not email:
        raise ValidationError({"email": INVITATION_NEEDS_EMAIL})
    user = User(
        agency=by.agency,
        username=username,
        role=role,
        first_name=first_name,
        last_name=last_name,
        email=email,
        external_id=external_id,
    )
    user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(actor=by, action=AuditAction.USER_CREATE, obj=user)
    if invitations.pending(user):
        _invite(user, by=by)
    return user


@transaction.atomic
def user_invite(*, user: User, by: User) -> None:
    """Send a new invitation to a user who has not chosen a password yet; the links sent
    before stop working."""
    UserPolicy.check(by, UserAction.MANAGE, user)
    user = User.objects.select_for_update(of=("self",)).get(pk=user.pk)
    if not invitations.pending(user):
        raise ValidationError(
            _("Bara en aktiv användare med e-postadress som inte har valt lösenord kan bjudas in.")
        )
    user.set_unusable_password()  # a new hash: the earlier links no longer match it
    user.save(update_fields=["password"])
    _invite(user, by=by)


def _invite(user: User, *, by: User) -> None:
    audit_record(actor=by, action=AuditAction.USER_INVITED, obj=user)
    transaction.on_commit(lambda: enqueue_invitation(user.pk))


def enqueue_invitation(user_id: int) -> bool:
    """Publish the invitation's mail. With the broker down, the admin can send it again."""
    from avhopp.tasks import send_invitation  # the tasks import this module

    return jobs.publish(send_invitation, user_id)


def invitation_mail_send(*, user_id: int) -> None:
    """The invitation's mail, with a link made now. Nothing is sent to a user who has chosen
    a password meanwhile, or been deactivated."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not invitations.pending(user):
        return
    mail.send(
        to=user.email,
        subject_template="avhopp/mail/invitation_subject.txt",
        body_template="avhopp/mail/invitation.txt",
        context={
            "username": user.username,
            "link": invitations.invitation_link(user),
            "hours": invitations.valid_hours(),
        },
    )


@transaction.atomic
def invitation_accept(*, uid: str, token: str, password: str) -> User:
    """The invited user's own password, once: the link is checked again with the user's row
    locked, so a second use (or two at once) finds it used."""
    user = invitations.invited_user(uid, token, lock=True)
    if user is None:
        raise ValidationError(invitations.LINK_INVALID)
    validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(actor=user, action=AuditAction.INVITATION_ACCEPTED, obj=user)
    return user


@transaction.atomic
def user_update(*, user: User, by: User, role: str, is_active: bool) -> None:
    """A deactivated user's sessions stop working at the next request, because the
    authentication backend refuses inactive users. The role must exist in the user's agency
    (User.clean); nobody changes their own role or deactivates themselves."""
    UserPolicy.check(by, UserAction.MANAGE, user)
    if (role, is_active) != (user.role, user.is_active):
        UserPolicy.check(by, UserAction.CHANGE_ACCESS, user)
    user.role, user.is_active = role, is_active
    user.full_clean()
    user.save(update_fields=["role", "is_active"])
    audit_record(actor=by, action=AuditAction.USER_UPDATE, obj=user, reason="is_active,role")


@transaction.atomic
def user_end_sessions(*, user: User, by: User) -> None:
    """End every session the user has, at their next request, wherever they are."""
    UserPolicy.check(by, UserAction.MANAGE, user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    audit_record(actor=by, action=AuditAction.USER_SESSIONS_ENDED, obj=user)
