"""Swedish identity numbers: formats, century, check digit, samordningsnummer."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from cases.identity import (
    birth_date_of,
    format_identity_number,
    is_coordination_number,
    luhn_check_digit,
    mask_identity_number,
    parse_identity_number,
)

TODAY = date(2026, 11, 22)


def test_luhn_check_digit_of_a_known_number() -> None:
    # Skatteverket's classic example: 811218-9876.
    assert luhn_check_digit("811218987") == 6


@pytest.mark.parametrize(
    "raw",
    ["198112189876", "19811218-9876", "811218-9876", "8112189876", " 811218 - 9876 "],
)
def test_accepted_formats_give_twelve_digits(raw: str) -> None:
    assert parse_identity_number(raw.replace(" ", ""), today=TODAY) == "198112189876"


def test_ten_digit_form_takes_the_century_that_makes_the_person_under_100() -> None:
    # 12-03-04 could be 2012 or 1912: without "+" the person is under 100, so 2012.
    number = "120304" + "123"
    full = number + str(luhn_check_digit(number))
    assert parse_identity_number(full, today=TODAY).startswith("2012")


def test_plus_separator_marks_a_person_aged_100_or_more() -> None:
    nine = "120304123"
    ten = nine + str(luhn_check_digit(nine))
    assert parse_identity_number(f"{ten[:6]}+{ten[6:]}", today=TODAY).startswith("1912")


def test_samordningsnummer_has_sixty_added_to_the_day() -> None:
    nine = "900361123"  # born 1990-03-01
    number = parse_identity_number(nine + str(luhn_check_digit(nine)), today=TODAY)
    assert is_coordination_number(number)
    assert birth_date_of(number) == date(1990, 3, 1)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("19811218-9875", "checksum"),
        ("19811318-9876", "date"),
        ("19810230-1234", "date"),
        ("20991218-1234", "future"),
        ("abc", "format"),
        ("", "format"),
        ("1981121898", "date"),
        ("19811218--9876", "format"),
        ("١٩٨١١٢١٨٩٨٧٦", "format"),
        ("19811218-987\uff16", "format"),  # a full-width six
        ("x" * 5000, "format"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_identity_number(raw, today=TODAY)
    assert caught.value.code == code


def test_display_and_mask() -> None:
    assert format_identity_number("198112189876") == "19811218-9876"
    assert mask_identity_number("198112189876") == "19811218-****"
