"""Load-test accounts, shared by the seeding script and the locustfile (stdlib only).

Every simulated user has an account of its own: a one-time code is accepted once per
30-second step per user, so two simulated users on one account would lock each other out.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time

PASSWORD = "Avhopp-load-2026"
# How many accounts of each role the seed creates; more than the load test uses at once.
ACCOUNTS = {"social_worker": 40, "police_officer": 20, "coordinator": 20}
PREFIX = {"social_worker": "lt_handl", "police_officer": "lt_polis", "coordinator": "lt_samord"}


def username(role: str, number: int) -> str:
    return f"{PREFIX[role]}{number:03d}"


def all_usernames(role: str) -> list[str]:
    return [username(role, number) for number in range(1, ACCOUNTS[role] + 1)]


def totp_key(name: str) -> str:
    """The account's authenticator key (20 bytes, hex), derived from its name."""
    return hashlib.sha256(f"avhopp-loadtest:{name}".encode()).hexdigest()[:40]


def totp_code(key_hex: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """RFC 6238 with HMAC-SHA1, as django-otp's TOTPDevice defaults."""
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 10**digits:0{digits}d}"
