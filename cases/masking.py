"""How a person's identity number and address are shown to a particular viewer.

Protected identities are masked everywhere unless the viewer has just made an explicit,
logged reveal. Templates and documents get these values, never the raw fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from cases.identity import format_identity_number, mask_identity_number
from cases.models import Individual


@dataclass(frozen=True)
class ShownIdentity:
    identity_number: str
    address: str
    phone: str
    masked: bool


def shown_identity_number(individual: Individual, *, revealed: bool = False) -> str:
    if not individual.personnummer:
        return _("Reservnummer %(number)s") % {"number": individual.reserve_number}
    if individual.is_protected and not revealed:
        return mask_identity_number(individual.personnummer)
    return format_identity_number(individual.personnummer)


def shown_identity(individual: Individual, *, revealed: bool = False) -> ShownIdentity:
    number = shown_identity_number(individual, revealed=revealed)
    if individual.is_protected and not revealed:
        # The phone number can lead to the person as surely as the address can.
        hidden = _("Skyddad adress")
        return ShownIdentity(identity_number=number, address=hidden, phone="****", masked=True)
    return ShownIdentity(
        identity_number=number, address=individual.address, phone=individual.phone, masked=False
    )
