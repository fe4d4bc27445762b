"""Guidance links, one per line: "Text | https://…" or the bare address."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

_URL = URLValidator(schemes=["https"])


def parse_links(text: str) -> list[tuple[str, str]]:
    """(label, address) pairs; a ValidationError names the first line that is not a link."""
    links = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, _bar, address = line.rpartition("|")
        address = address.strip()
        try:
            _URL(address)
        except ValidationError:
            raise ValidationError(
                _("Rad %(number)d är inte en länk som börjar med https://.") % {"number": number}
            ) from None
        links.append((label.strip() or address, address))
    return links
