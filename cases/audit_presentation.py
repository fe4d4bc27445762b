"""How a log row reads to a person: words in the reader's language and Swedish time, where the
log itself keeps codes, ids and UTC.

The log holds roles, actions and reasons as codes and cases, people and objects as ids, so it
outlives renames and gallring unchanged. The log reviewer's pages and export show them as
words: "Handläggare", "Läst ärende", "Ärende AVH-2026-000004", "Gallrad person G-…". A page of
rows is named in a few batched queries, whatever its length (cases, people, users; the
pseudonyms only for ids that no longer exist).

Apps above `cases` name their own codes: they register the words of their reason codes and,
for gallring, the pseudonyms of the ids it deleted, from their AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db.models import Choices
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from avhopp.models import AuditEvent, User
from cases.masking import shown_identity_number
from cases.models import Case, CaseStatus, Individual, LegalBasis
from cases.policy import AuditLogPolicy

if TYPE_CHECKING:
    from cases.audit_selectors import MonthSample

# --- What apps register ---------------------------------------------------------------------

_REASON_WORDS: dict[str, str | Promise] = {}

# (case ids, person ids) that no longer exist -> their pseudonyms, by case id and by person id.
GoneNames = Callable[[Collection[int], Collection[int]], tuple[dict[int, str], dict[int, str]]]
_GONE_NAMES: list[GoneNames] = []


def register_reason_words(words: Mapping[str, str | Promise]) -> None:
    """Words for reason codes. A code registered twice keeps its first words."""
    for code, word in words.items():
        _REASON_WORDS.setdefault(code, word)


def register_choice_words(*choices: type[Choices]) -> None:
    """The labels of choice lists whose values the log keeps as reasons."""
    for choice in choices:
        register_reason_words(dict(choice.choices))


def register_gone_names(lookup: GoneNames) -> None:
    _GONE_NAMES.append(lookup)


def reason_words(reason: str) -> str:
    """A reason in words. Reasons are codes, or codes joined by ":" ("clearance:veto",
    "other: <what the user wrote>"): each known part is put in words, the rest kept as is."""
    parts = [part.strip() for part in reason.split(":")]
    if not any(part in _REASON_WORDS for part in parts):
        return reason
    return ": ".join(str(_REASON_WORDS.get(part, part)) for part in parts)


# The role field's own choices: a row of the log names a role, it decides nothing by it.
_ROLE_WORDS = dict(User._meta.get_field("role").flatchoices)


def role_words(role: str) -> str:
    return str(_ROLE_WORDS.get(role, role))


def local_time(moment: datetime) -> str:
    """Swedish time (settings.TIME_ZONE), as every page and the export show it."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M:%S}"


def gone_person(pseudonym: str) -> str:
    return _("Gallrad person %(pseudonym)s") % {"pseudonym": pseudonym}


# --- Rows -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogRow:
    event_id: int
    occurred_at: datetime
    when: str  # Swedish time
    username: str
    agency: str
    role: str
    action: str
    case: str  # the case's reference, or its pseudonym once gallring deleted it
    readers_url: str  # "who has read this case", where the reader may open it
    object: str
    ip_address: str
    request_id: str
    reason: str
    shown_cases: str  # the references of the cases a list or search showed


_CASE, _PERSON, _USER = "cases.Case", "cases.Individual", "avhopp.User"


class _Names:
    """The words for the cases, people and users a batch of events names."""

    def __init__(self, user: User, events: Sequence[AuditEvent], shown: Mapping[int, list[int]]):
        case_ids = {event.case_id for event in events if event.case_id is not None}
        case_ids |= {case_id for ids in shown.values() for case_id in ids}
        case_ids |= set(_object_ids(events, _CASE))
        person_ids = set(_object_ids(events, _PERSON))
        cases = AuditLogPolicy.with_case_log_access(
            user, Case.objects.filter(pk__in=case_ids).only("opened_at", "owning_agency_id")
        )
        self.cases = {case.pk: case for case in cases}
        self.reader = user
        people = Individual.objects.filter(pk__in=person_ids).only(
            "personnummer", "reserve_number", "protection_level"
        )
        self.people = {person.pk: shown_identity_number(person) for person in people}
        users = User.objects.filter(pk__in=set(_object_ids(events, _USER))).values_list(
            "pk", "username"
        )
        self.users = dict(users)
        self.gone_cases: dict[int, str] = {}
        self.gone_people: dict[int, str] = {}
        missing_cases, missing_people = case_ids - set(self.cases), person_ids - set(self.people)
        if missing_cases or missing_people:
            for lookup in _GONE_NAMES:
                gone_cases, gone_people = lookup(missing_cases, missing_people)
                self.gone_cases.update(gone_cases)
                self.gone_people.update(gone_people)

    def case(self, case_id: int | None) -> str:
        if case_id is None:
            return ""
        if case_id in self.cases:
            return self.cases[case_id].reference
        if case_id in self.gone_cases:
            return gone_person(self.gone_cases[case_id])
        return _("Ärende som inte finns (%(id)s)") % {"id": case_id}

    def readers_url(self, case_id: int | None) -> str:
        case = self.cases.get(case_id) if case_id is not None else None
        if case is None or not AuditLogPolicy.opens_case_log(self.reader, case):
            return ""
        return reverse("audit:case_readers", args=[case_id])

    def person(self, person_id: int) -> str:
        if person_id in self.people:
            return _("Person %(number)s") % {"number": self.people[person_id]}
        if person_id in self.gone_people:
            return gone_person(self.gone_people[person_id])
        return _("Person som inte finns (%(id)s)") % {"id": person_id}

    def object(self, event: AuditEvent) -> str:
        kind, key = event.object_type, event.object_id
        if not kind:
            return ""
        number = _as_id(key)
        if kind == _CASE and number is not None and number in self.cases:
            return _("Ärende %(reference)s") % {"reference": self.cases[number].reference}
        if kind == _CASE and number is not None:
            return self.case(number)
        if kind == _PERSON and number is not None:
            return self.person(number)
        if kind == _USER and number in self.users:
            return _("Användare %(username)s") % {"username": self.users[number]}
        return f"{_model_words(kind)} {key}".strip()


def log_rows(
    user: User, events: Sequence[AuditEvent], *, shown: Mapping[int, list[int]] | None = None
) -> list[LogRow]:
    """Rows for `user` (the reader: the links are theirs) of the events, and, for an export,
    of the cases each list showed (`shown`, by event id)."""
    shown = shown or {}
    names = _Names(user, events, shown)
    return [
        LogRow(
            event_id=event.pk,
            occurred_at=event.occurred_at,
            when=local_time(event.occurred_at),
            username=event.username,
            agency=event.agency_name,
            role=role_words(event.role),
            action=str(event.action_label),
            case=names.case(event.case_id),
            readers_url=names.readers_url(event.case_id),
            object=names.object(event),
            ip_address=event.ip_address or "",
            request_id=event.request_id,
            reason=reason_words(event.reason),
            shown_cases=" ".join(names.case(case_id) for case_id in shown.get(event.pk, [])),
        )
        for event in events
    ]


def sample_context(user: User, sample: MonthSample) -> dict[str, Any]:
    rows = log_rows(user, sample.events)
    return {
        "sample": sample,
        "rows": [(row, sample.reviews.get(row.event_id)) for row in rows],
        "reviewed": len(sample.reviews),
    }


def search_url(**params: str) -> str:
    """The log search with these fields filled in."""
    return f"{reverse('audit:search')}?{urlencode(params)}"


def _object_ids(events: Iterable[AuditEvent], kind: str) -> Iterable[int]:
    for event in events:
        if event.object_type == kind and (number := _as_id(event.object_id)) is not None:
            yield number


def _as_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None


def _model_words(label: str) -> str:
    """A model's name in words ("Remiss"), from the app registry: the log names objects of
    every app, and `cases` imports none above it."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return label
    return str(model._meta.verbose_name).capitalize()


# The reasons the cases app and the core write (the apps above register their own).
CASE_REASONS = {
    # Reading outside one's assignment and revealing a protected identity (cases.forms).
    "covering": gettext_lazy("Vikarierar för ansvarig handläggare"),
    "joint_meeting": gettext_lazy("Gemensamt möte eller samråd"),
    "urgent": gettext_lazy("Akut situation"),
    "supervision": gettext_lazy("Arbetsledning"),
    "other": gettext_lazy("Annat"),
    # Shares, consents and transfers (cases.services).
    "consent": gettext_lazy("Samtycke"),
    "consent_withdrawn": gettext_lazy("Samtycket återkallat"),
    "consent_expired": gettext_lazy("Samtycket har löpt ut"),
    "unshared": gettext_lazy("Delningen avslutad"),
    "case_transferred": gettext_lazy("Ärendet överlämnat"),
    "transferred": gettext_lazy("Överlämnat till en annan kommun"),
    "rate_limited": gettext_lazy("För många nekade registreringar"),
    # Refused actions on a case (cases.policy.CaseAction).
    "list": gettext_lazy("Lista"),
    "create": gettext_lazy("Registrera"),
    "view": gettext_lazy("Läsa ärendet"),
    "read_owner_details": gettext_lazy("Läsa motivation, överenskommelse och samtycken"),
    "edit": gettext_lazy("Ändra ärendet"),
    "read_interventions": gettext_lazy("Läsa insatser"),
    "read_threat_level": gettext_lazy("Läsa hotnivå"),
    "read_journal": gettext_lazy("Läsa journal"),
    "view_threat_details": gettext_lazy("Läsa hotbedömningens detaljer"),
    "add_threat_assessment": gettext_lazy("Göra hotbedömning"),
    "share": gettext_lazy("Dela ärendet"),
    "refer": gettext_lazy("Skicka remiss"),
    "relocate": gettext_lazy("Begära omplacering"),
    "reveal_identity": gettext_lazy("Visa skyddade uppgifter"),
    "view_access_log": gettext_lazy("Läsa vem som har läst ärendet"),
    # Which of the log reviewer's pages read the log.
    "summary": gettext_lazy("Sammanställning per användare"),
    "sample": gettext_lazy("Månadens stickprov"),
    # The core's sign-in and user administration.
    "locked out": gettext_lazy("Spärrad efter för många försök"),
    "is_active,role": gettext_lazy("Aktiv och roll"),
}


def register_log_words() -> None:
    register_reason_words(CASE_REASONS)
    register_choice_words(CaseStatus, LegalBasis)
