"""Writing the audit log. Every access decision on sensitive data ends here."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from avhopp.models import AuditAction, AuditEvent, AuditShownCase

if TYPE_CHECKING:
    from avhopp.models import User


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    request_id: str


request_context: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def audit_event(
    *,
    actor: User | None,
    action: AuditAction,
    obj: models.Model | None = None,
    case_id: int | None = None,
    individual_id: int | None = None,
    reason: str = "",
    username: str = "",
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """An unsaved event; `audit_record` saves one, `audit_record_all` several in one insert.

    `username` names an actor that is not a user (a failed login); `object_type` and
    `object_id` name an object that was asked for but not found or not allowed.
    """
    context = request_context.get()
    agency = actor.agency if actor is not None and actor.agency_id else None
    return AuditEvent(
        user_id=actor.pk if actor else None,
        username=actor.get_username() if actor else username[:150],
        agency_id=agency.pk if agency else None,
        agency_name=agency.name if agency else "",
        role=actor.role if actor else "",
        action=action,
        object_type=obj._meta.label if obj is not None else object_type,
        object_id=str(obj.pk) if obj is not None else object_id[:64],
        case_id=case_id,
        individual_id=individual_id,
        ip_address=context.ip_address if context else None,
        request_id=context.request_id if context else "",
        reason=reason[:300],
    )


def audit_record(**fields: Any) -> AuditEvent:
    """Append one event."""
    event = audit_event(**fields)
    event.save()
    return event


def audit_record_all(events: list[AuditEvent]) -> None:
    """Append events in one INSERT. A single one is saved alone: `bulk_create` wraps even one
    row in BEGIN and COMMIT, two round trips more on every case page."""
    if len(events) == 1:
        events[0].save()
    else:
        AuditEvent.objects.bulk_create(events)


def audit_list(
    *, actor: User, action: AuditAction, case_ids: Iterable[int], reason: str = ""
) -> AuditEvent:
    """Log a list or search page, or a list exported as a file, with the cases it showed."""
    shown = dict.fromkeys(case_ids)  # once each, in the order shown
    # Both rows or neither; no savepoint needed, a failure fails the request.
    with transaction.atomic(savepoint=False):
        event = audit_record(actor=actor, action=action, reason=reason)
        AuditShownCase.objects.bulk_create(
            (
                AuditShownCase(event=event, event_occurred_at=event.occurred_at, case_id=case_id)
                for case_id in shown
            ),
            batch_size=_SHOWN_BATCH,
        )
    return event


# Rows of one INSERT of shown cases: a page's list is one, an export of thousands a few.
_SHOWN_BATCH = 2000


def audit_denied(*, actor: User, object_type: str, object_id: object, case_id: int | None) -> None:
    """Log a request for an object the actor may not see (it then answers 404)."""
    audit_record(
        actor=actor,
        action=AuditAction.ACCESS_DENIED,
        object_type=object_type,
        object_id=str(object_id),
        case_id=case_id,
    )
