"""Swedish identity numbers: personnummer and samordningsnummer.

Stored as 12 digits (YYYYMMDDNNNC). The check digit C is Luhn over the 10-digit form.
A samordningsnummer has 60 added to the day. With a 10-digit input the century is the
one that makes the person younger than 100, or at least 100 when the separator is "+".
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# ASCII only: \d would also accept Arabic-Indic and full-width digits.
_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})$", re.ASCII
)


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for position, char in enumerate(nine_digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def _birth_date(year: int, month: int, day: int) -> date:
    if day > 60:  # samordningsnummer
        day -= 60
    return date(year, month, day)


def parse_identity_number(raw: str, *, today: date) -> str:
    """Return the 12-digit form, or raise ValidationError with a message for the user."""
    cleaned = re.sub(r"\s", "", raw or "")
    match = _PATTERN.match(cleaned)
    if not match:
        raise ValidationError(
            _("Ange personnummer som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN."), code="format"
        )
    yymmdd, serial = match["yymmdd"], match["serial"]
    yy, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if match["century"]:
        year = int(match["century"] + yymmdd[:2])
    else:
        year = (today.year // 100) * 100 + yy
        if year > today.year:
            year -= 100
        if match["sep"] == "+":
            year -= 100
    try:
        born = _birth_date(year, month, day)
    except ValueError:
        raise ValidationError(_("Datumdelen är inte ett giltigt datum."), code="date") from None
    if born > today:
        raise ValidationError(_("Födelsedatumet ligger i framtiden."), code="future")
    if luhn_check_digit(yymmdd + serial[:3]) != int(serial[3]):
        raise ValidationError(
            _("Kontrollsiffran stämmer inte. Kontrollera numret."), code="checksum"
        )
    return f"{year:04d}{yymmdd[2:]}{serial}"


def birth_date_of(number: str) -> date:
    return _birth_date(int(number[:4]), int(number[4:6]), int(number[6:8]))


def is_coordination_number(number: str) -> bool:
    return int(number[6:8]) > 60


def format_identity_number(number: str) -> str:
    return f"{number[:8]}-{number[8:]}"


def mask_identity_number(number: str) -> str:
    return f"{number[:8]}-****"


# Said for a number already registered and for any refusal that could stand in for one.
REGISTRATION_REFUSED = _("Registreringen kan inte göras. Kontakta er samordnare.")
