"""Keyed pseudonyms: HMAC-SHA-256 under the register's key (settings.REGISTER_PSEUDONYM_KEY)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _key() -> bytes:
    key = settings.REGISTER_PSEUDONYM_KEY
    if not key:
        raise ImproperlyConfigured("AVHOPP_REGISTER_KEY must be set to build the register.")
    return key.encode()


def pseudonym(identity_number: str) -> str:
    """The same for the same person wherever they were registered."""
    return hmac.new(_key(), f"person:{identity_number}".encode(), hashlib.sha256).hexdigest()


def case_key(case_id: int) -> str:
    return hmac.new(_key(), f"case:{case_id}".encode(), hashlib.sha256).hexdigest()
