"""Research extracts: the request, the decision, and the build of an approved one (a Celery
job that reports its progress). Every step is audited."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import Agency, AgencyKind, AuditAction
from avhopp.storage import write_document
from method.followup import anchor
from method.models import Answer
from method.selectors import outcome_questions
from register.models import RegisterRecord
from research.anonymity import MAX_SUPPRESSED, K, TooIdentifying, k_anonymise
from research.models import (
    ETHICS_REFERENCE,
    PENDING,
    QUASI_IDENTIFIERS,
    ExtractRequest,
    ExtractStatus,
    Variable,
)
from research.policy import ExtractAction, ExtractPolicy

if TYPE_CHECKING:
    from avhopp.models import User


LINK_LIFETIME = timedelta(hours=24)
FORMATS = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "dictionary": "text/csv",
}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "dictionary": "variabler.csv"}
# What each variable holds, for the data dictionary that goes with every extract.
DESCRIPTIONS = {
    Variable.AGE_BAND: "Åldersgrupp när ärendet aktualiserades (0-17, 18-20, 21-24, 25-29, "
    "30-39, 40+; grövre: 0-20, 21-29, 30+), eller okänd.",
    Variable.GENDER: "Kön: female, male, other eller okänt.",
    Variable.REGION: "Län som ärendet hörde till (grövre: landsdel).",
    Variable.YEAR: "År då ärendet aktualiserades (grövre: tvåårsperiod).",
    Variable.STATUS: "Ärendets status vid uttaget (reported, initial_assessment, "
    "investigation, interventions, follow_up, closed, dropped_out).",
    Variable.OUTCOME: "Kodad orsak till avslut eller avbrott, tom för pågående ärenden.",
    Variable.ENDED_YEAR: "År då ärendet avslutades eller avbröts, tomt för pågående.",
    Variable.RELOCATED: "1 om personen flyttade till en annan kommun genom en omplacering.",
    Variable.INTERVENTION_KINDS: "Typer av insatser i ärendet, semikolonseparerade koder.",
}
_VALUES: dict[str, Callable[[RegisterRecord], str]] = {
    Variable.AGE_BAND: lambda record: record.age_band,
    Variable.GENDER: lambda record: record.gender,
    Variable.REGION: lambda record: record.region,
    Variable.YEAR: lambda record: record.opened_quarter[:4],
    Variable.STATUS: lambda record: record.status,
    Variable.OUTCOME: lambda record: record.outcome,
    Variable.ENDED_YEAR: lambda record: record.ended_quarter[:4],
    Variable.RELOCATED: lambda record: "1" if record.relocated else "0",
    Variable.INTERVENTION_KINDS: lambda record: ";".join(
        sorted({i["kind"] for i in record.interventions})
    ),
}


@dataclass(frozen=True)
class Column:
    """A column of the extract: its name, its line in the data dictionary, its value."""

    name: str
    description: str
    value: Callable[[RegisterRecord], str]


def document_name(extract: ExtractRequest, kind: str) -> str:
    return f"{extract.file_stem}.{EXTENSIONS[kind]}"


@transaction.atomic
def extract_request(
    *,
    by: User,
    coordinating_agency: Agency,
    purpose: str,
    variables: list[str],
    ethics_reference: str,
) -> ExtractRequest:
    ExtractPolicy.check(by, ExtractAction.REQUEST)
    ethics_reference = ethics_reference.strip()
    if not ethics_reference:
        raise ValidationError(
            {"ethics_reference": _("Ange Etikprövningsmyndighetens diarienummer.")}
        )
    if not re.fullmatch(ETHICS_REFERENCE, ethics_reference):
        raise ValidationError({"ethics_reference": _("Diarienumret ska se ut som 2024-01234-01.")})
    chosen = [v for v in Variable.values if v in set(variables)]
    if not chosen or len(chosen) != len(set(variables)):
        raise ValidationError({"variables": _("Välj minst en av de variabler som finns.")})
    if coordinating_agency.kind != AgencyKind.NATIONAL_COORDINATION:
        raise ValidationError({"coordinating_agency": _("Välj den nationella samordningen.")})
    extract = ExtractRequest(
        requested_by=by,
        research_agency=by.agency,
        coordinating_agency=coordinating_agency,
        purpose=purpose.strip(),
        variables=chosen,
        ethics_reference=ethics_reference,
    )
    extract.full_clean()
    extract.save()
    audit_record(actor=by, action=AuditAction.EXTRACT_REQUEST, obj=extract, reason=ethics_reference)
    return extract


@transaction.atomic
def extract_decide(*, extract: ExtractRequest, by: User, approve: bool, reason: str) -> None:
    extract = ExtractRequest.objects.select_for_update().get(pk=extract.pk)
    ExtractPolicy.check(by, ExtractAction.DECIDE, extract)
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Ange varför begäran avslås.")})
    extract.decided_by, extract.decided_at = by, timezone.now()
    extract.decision_reason = reason
    extract.status = ExtractStatus.REFUSED
    if approve:
        extract.status, extract.queued_at = ExtractStatus.QUEUED, timezone.now()
        transaction.on_commit(lambda: enqueue_build(extract.pk))
    extract.save()
    audit_record(
        actor=by,
        action=AuditAction.EXTRACT_DECISION,
        obj=extract,
        reason=("approved" if approve else "refused") + (f": {reason}" if reason else ""),
    )


def enqueue_build(extract_id: int) -> bool:
    """Publish the job. With the broker down, the extract stays queued for the requeuer."""
    from research.tasks import build_extract  # the tasks import this module

    return jobs.publish(build_extract, extract_id)


def extracts_requeue_stale(*, older_than: timedelta = timedelta(minutes=5)) -> int:
    from research.tasks import build_extract

    owed = ExtractRequest.objects.filter(status__in=PENDING)
    return jobs.requeue_stale(owed, task=build_extract, older_than=older_than, limit=100)


def _progress(extract_id: int, percent: int, **fields: object) -> None:
    ExtractRequest.objects.filter(pk=extract_id).update(progress=percent, **fields)


def extract_build(*, extract_id: int) -> None:
    """Build an approved extract. Idempotent: a re-run of a built one does nothing, an
    interrupted one starts over with new ids and new files."""
    with transaction.atomic():
        extract = ExtractRequest.objects.select_for_update().filter(pk=extract_id).first()
        if extract is None or extract.status not in PENDING:
            return
        extract.status, extract.queued_at, extract.progress = (
            ExtractStatus.BUILDING,
            timezone.now(),
            5,
        )
        extract.save(update_fields=["status", "queued_at", "progress"])
    columns = _columns(extract.variables)
    rows = [_row(record, columns) for record in RegisterRecord.objects.iterator()]
    _progress(extract_id, 30)
    quasi = [q for q in QUASI_IDENTIFIERS if q in extract.variables]
    try:
        if not rows:
            raise TooIdentifying(_("Registret har inga poster att lämna ut."))
        result = k_anonymise(rows, quasi)
    except TooIdentifying as refusal:
        _progress(extract_id, 100, status=ExtractStatus.TOO_IDENTIFYING, explanation=str(refusal))
        audit_record(actor=None, action=AuditAction.EXTRACT_BUILD, obj=extract, reason="refused")
        return
    _progress(extract_id, 50)
    # New random ids for every extract, in random order: nothing links two extracts, or an
    # extract to the register's pseudonyms or order.
    shuffled = list(result.rows)
    secrets.SystemRandom().shuffle(shuffled)
    ids = set()
    while len(ids) < len(shuffled):
        ids.add(secrets.token_hex(6))
    header = ["id", *(column.name for column in columns)]
    table = [
        [identifier, *(row[column.name] for column in columns)]
        for identifier, row in zip(sorted(ids), shuffled, strict=True)
    ]
    extract.file_stem = f"extracts/{extract.pk}-{secrets.token_hex(8)}"
    write_document(document_name(extract, "csv"), _csv([header, *table]))
    _progress(extract_id, 70)
    dictionary = _dictionary(extract, columns, result.coarsened, result.suppressed, len(rows))
    write_document(document_name(extract, "dictionary"), _csv(dictionary))
    write_document(document_name(extract, "xlsx"), _workbook(header, table, dictionary))
    now = timezone.now()
    _progress(
        extract_id,
        100,
        status=ExtractStatus.READY,
        file_stem=extract.file_stem,
        records=len(table),
        suppressed=result.suppressed,
        generalised=", ".join(result.coarsened),
        built_at=now,
        expires_at=now + LINK_LIFETIME,
        explanation="",
    )
    audit_record(
        actor=None,
        action=AuditAction.EXTRACT_BUILD,
        obj=extract,
        reason=f"records={len(table)} suppressed={result.suppressed}",
    )


def extract_mark_failed(*, extract_id: int, error: str) -> None:
    ExtractRequest.objects.filter(pk=extract_id, status__in=PENDING).update(
        status=ExtractStatus.FAILED, explanation=error[:300]
    )


def _columns(variables: list[str]) -> list[Column]:
    columns = []
    for variable in variables:
        if variable == Variable.FOLLOW_UPS:
            columns += _follow_up_columns()
        else:
            columns.append(Column(variable, DESCRIPTIONS[variable], _VALUES[variable]))
    return columns


def _follow_up_columns() -> list[Column]:
    """One column per configured follow-up point and question, holding the answer's code
    (register.services: a record's `follow_ups`, one entry per point with an outcome)."""
    counted_from = anchor()
    with translation.override("sv"):  # the data dictionary is in Swedish
        codes = ", ".join(f"{code} ({label.lower()})" for code, label in Answer.choices)
        return [
            Column(
                f"follow_up_{months}_{question}",
                f"Uppföljning {months} månader {counted_from.label}, {label.lower()}: {codes}; "
                "tomt när ärendet saknar resultat vid den uppföljningen.",
                partial(_answer, months=months, counted_from=counted_from, question=question),
            )
            for months in settings.AVHOPP_OUTCOME_MONTHS
            for question, label in outcome_questions()
        ]


def _answer(record: RegisterRecord, *, months: int, counted_from: str, question: str) -> str:
    # An outcome recorded while the points counted from elsewhere (AVHOPP_OUTCOME_FROM) was
    # at another point: not this column's.
    return next(
        (
            point[question]
            for point in record.follow_ups
            if point["months"] == months and point["anchor"] == counted_from
        ),
        "",
    )


def _row(record: RegisterRecord, columns: list[Column]) -> dict[str, str]:
    return {column.name: column.value(record) for column in columns}


def _dictionary(
    extract: ExtractRequest,
    columns: list[Column],
    coarsened: tuple[str, ...],
    suppressed: int,
    total: int,
) -> list[list[str]]:
    quasi = [q for q in QUASI_IDENTIFIERS if q in extract.variables]
    rows = [["variabel", "beskrivning"], ["id", "Slumpat id, nytt för varje uttag."]]
    rows += [[column.name, column.description] for column in columns]
    rows += [
        ["", ""],
        ["uttag", extract.reference],
        ["etikprövning", extract.ethics_reference],
        ["k-anonymitet", f"k = {K} på {', '.join(quasi) or '-'}"],
        ["grövre indelning", ", ".join(coarsened) or "-"],
        ["utelämnade poster", f"{suppressed} av {total} (gräns {MAX_SUPPRESSED * 100:.0f} %)"],
    ]
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _workbook(header: list[str], table: list[list[str]], dictionary: list[list[str]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Uttag"
    sheet.append(header)
    for row in table:
        sheet.append(row)
    variables = workbook.create_sheet("Variabler")
    for row in dictionary:
        variables.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
