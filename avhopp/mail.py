"""E-mail from Avhopp, in Swedish with English below it: the recipient's language is not
known outside a session. What a mail may say is its template's business; these never carry
case content (avhopp/mail/*.txt)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation


def _in(language: str, template: str, context: dict[str, Any]) -> str:
    with translation.override(language):
        return render_to_string(template, context).strip()


def send(*, to: str, subject_template: str, body_template: str, context: dict[str, Any]) -> None:
    """One message to one address, from DEFAULT_FROM_EMAIL; raises on a mail server error,
    so the calling task retries."""
    subject = "Avhopp: " + " / ".join(
        dict.fromkeys(_in(language, subject_template, context) for language in ("sv", "en"))
    )
    body = "\n\n----\n\n".join(_in(language, body_template, context) for language in ("sv", "en"))
    send_mail(subject, body + "\n", settings.DEFAULT_FROM_EMAIL, [to])


def absolute(path: str) -> str:
    """A link into Avhopp for a mail: the site's address (AVHOPP_BASE_URL) and a path."""
    return f"{settings.AVHOPP_BASE_URL}{path}"
