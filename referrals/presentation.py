"""The referral overview's rows and sortable column headers, built once in Python so the
template prints plain strings (as cases.presentation does for the case list)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.http import QueryDict
from django.utils import timezone

from cases.masking import shown_identity_number
from referrals.models import Referral

# The columns a row shows, for loading a page of referrals (referrals.selectors): not the
# referral's texts, nor the person's address and phone.
OVERVIEW_COLUMNS = (
    "kind",
    "created_at",
    "sent_at",
    "status",
    "external_recipient",
    "from_agency__name",
    "to_agency__name",
    "case__opened_at",
    "case__individual__first_name",
    "case__individual__last_name",
    "case__individual__personnummer",
    "case__individual__reserve_number",
    "case__individual__protection_level",
)


@dataclass(frozen=True, slots=True)
class ReferralRow:
    url: str
    title: str
    case_reference: str
    case_url: str  # only for the sending agency: the recipient never opens the case
    name: str
    identity_number: str  # masked for protected identities (cases.masking)
    protected: bool
    sent_by_us: bool
    other_party: str
    date: str
    status: str
    days_waiting: int | None


def overview_rows(referrals: Iterable[Referral], agency_id: int) -> list[ReferralRow]:
    """Rows for referrals of `referrals.selectors.referral_overview`, seen from `agency_id`."""
    rows = []
    for referral in referrals:
        case, person = referral.case, referral.case.individual
        sent_by_us = referral.from_agency_id == agency_id
        rows.append(
            ReferralRow(
                url=referral.get_absolute_url(),
                title=str(referral),
                case_reference=case.reference,
                case_url=case.get_absolute_url() if sent_by_us else "",
                name=str(person),
                identity_number=shown_identity_number(person),
                protected=person.is_protected,
                sent_by_us=sent_by_us,
                other_party=referral.recipient_display if sent_by_us else referral.from_agency.name,
                date=timezone.localdate(referral.dated).isoformat(),
                status=referral.status_label,
                days_waiting=None if referral.waited is None else referral.waited.days,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class SortColumn:
    query: str  # the list's query string sorted by this column, from the first page
    state: str  # "ascending", "descending" (the aria-sort values), or "" when not sorted by it


def sort_columns(query: QueryDict, order: str, first: dict[str, str]) -> dict[str, SortColumn]:
    """A header link per sortable column: the column sorted now turns around; any other is
    sorted its `first` way ("-date": the newest first)."""
    columns = {}
    for column, first_order in first.items():
        if order.lstrip("-") == column:
            state = "descending" if order.startswith("-") else "ascending"
            target = column if order.startswith("-") else f"-{column}"
        else:
            state, target = "", first_order
        sorted_by = query.copy()
        sorted_by.pop("page", None)
        sorted_by["order"] = target
        columns[column] = SortColumn(query=sorted_by.urlencode(), state=state)
    return columns
