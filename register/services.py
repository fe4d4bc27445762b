"""Building the national register from the municipal data: one record per case, computed
afresh each run and written only where it changed, so a run is idempotent and a nightly run
costs writes in proportion to what changed. A record whose case is gone is kept.

Each batch of cases costs the same queries whatever the cases hold: one for the cases, one
each for their interventions, status changes, outcomes at follow-up and relocations, and on
the register's side the writes of what changed."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from avhopp import jobs
from avhopp.audit import audit_record
from avhopp.models import AuditAction
from cases.models import Case, CaseStatusChange, Intervention
from method.selectors import outcome_answers
from register.models import RegisterBuild, RegisterRecord
from register.pseudonyms import case_key, pseudonym
from register.routers import REGISTER_DB
from relocations.models import Relocation, RelocationStatus

if TYPE_CHECKING:
    from avhopp.models import User


BATCH = 2000
# A relocation counts once the person has moved.
MOVED = (
    RelocationStatus.MOVED,
    RelocationStatus.HANDOVER,
    RelocationStatus.HANDED_OVER,
    RelocationStatus.DISPUTED,
)
AGE_BANDS = ((18, "0-17"), (21, "18-20"), (25, "21-24"), (30, "25-29"), (40, "30-39"))
_CONTENT = (
    "pseudonym",
    "region",
    "age_band",
    "gender",
    "opened_quarter",
    "status",
    "ended_quarter",
    "outcome",
    "relocated",
    "interventions",
    "status_changes",
    "follow_ups",
)


def quarter(moment: date | datetime | None) -> str:
    if moment is None:
        return ""
    day = timezone.localdate(moment) if isinstance(moment, datetime) else moment
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def age_band(born: date | None, on: date) -> str:
    if born is None:
        return "okänd"
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return next((band for limit, band in AGE_BANDS if age < limit), "40+")


def enqueue_register_build() -> bool:
    """Publish a build now. With the broker down, the nightly run builds it."""
    from register.tasks import build  # the tasks import this module

    return jobs.publish(build)


def register_build(*, by: User | None = None) -> RegisterBuild:
    build = RegisterBuild.objects.create(started_at=timezone.now())
    known = dict(RegisterRecord.objects.values_list("case_key", "digest"))
    last = 0
    while True:
        cases = list(
            Case.objects.filter(pk__gt=last)
            .order_by("pk")
            .values(
                "pk",
                "individual__personnummer",
                "individual__reserve_number",
                "individual__birth_date",
                "individual__gender",
                "owning_agency__region",
                "opened_at",
                "status",
                "closed_at",
                "end_reason",
            )[:BATCH]
        )
        if not cases:
            break
        last = cases[-1]["pk"]
        records = _records(cases)
        _write(records, known, build)
    # A case that left the municipal data (gallring) keeps its record: the register is the
    # follow-up that outlives the case file.
    with transaction.atomic(using=REGISTER_DB):
        build.finished_at = timezone.now()
        build.save()
    audit_record(
        actor=by,
        action=AuditAction.REGISTER_BUILD,
        object_type="register.RegisterBuild",
        object_id=str(build.pk),
        reason=(f"created={build.created} updated={build.updated} unchanged={build.unchanged}"),
    )
    return build


def _records(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    ids = [case["pk"] for case in cases]
    interventions = defaultdict(list)
    for case_id, kind, start, end in (
        Intervention.objects.filter(case_id__in=ids)
        .order_by("case_id", "start_date", "kind", "pk")
        .values_list("case_id", "kind", "start_date", "end_date")
    ):
        interventions[case_id].append({"kind": kind, "start": quarter(start), "end": quarter(end)})
    changes = defaultdict(list)
    for case_id, status, at in (
        CaseStatusChange.objects.filter(case_id__in=ids)
        .order_by("case_id", "changed_at", "pk")
        .values_list("case_id", "to_status", "changed_at")
    ):
        changes[case_id].append({"status": status, "quarter": quarter(at)})
    follow_ups = defaultdict(list)
    for outcome in outcome_answers(ids):
        follow_ups[outcome.case_id].append(
            {
                "months": outcome.months,
                "anchor": outcome.anchor,
                "quarter": quarter(outcome.recorded_at),
                **outcome.answers,
            }
        )
    relocated = set(
        Relocation.objects.filter(case_id__in=ids, status__in=MOVED).values_list(
            "case_id", flat=True
        )
    )
    records = {}
    for case in cases:
        identity = case["individual__personnummer"] or case["individual__reserve_number"]
        values = {
            "pseudonym": pseudonym(identity),
            "region": case["owning_agency__region"],
            "age_band": age_band(
                case["individual__birth_date"], timezone.localdate(case["opened_at"])
            ),
            "gender": case["individual__gender"] or "okänt",
            "opened_quarter": quarter(case["opened_at"]),
            "status": case["status"],
            "ended_quarter": quarter(case["closed_at"]),
            "outcome": case["end_reason"],
            "relocated": case["pk"] in relocated,
            "interventions": interventions[case["pk"]],
            "status_changes": changes[case["pk"]],
            "follow_ups": follow_ups[case["pk"]],
        }
        values["digest"] = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
        records[case_key(case["pk"])] = values
    return records


def _write(records: dict[str, dict[str, Any]], known: dict[str, str], build: RegisterBuild) -> None:
    new = [RegisterRecord(case_key=key, **v) for key, v in records.items() if key not in known]
    changed = {key: v for key, v in records.items() if key in known and known[key] != v["digest"]}
    with transaction.atomic(using=REGISTER_DB):
        RegisterRecord.objects.bulk_create(new)
        rows = list(RegisterRecord.objects.filter(case_key__in=changed))
        for row in rows:
            for field, value in changed[row.case_key].items():
                setattr(row, field, value)
        RegisterRecord.objects.bulk_update(rows, [*_CONTENT, "digest"])
    build.created += len(new)
    build.updated += len(rows)
    build.unchanged += len(records) - len(new) - len(rows)
