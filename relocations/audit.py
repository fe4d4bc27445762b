"""Relocation events in the audit log, written so that the log itself never tells the
sending municipality where the person went.

Events carry the case, so they show in "who has read this case" and in the sending
municipality's log search. An event by a party outside the sending municipality and the
national coordination (a candidate or receiving municipality, a police region clearing
one) would name that agency there: its name and user name are replaced by a neutral party
label. The user's and agency's ids stay, so the party's own log reviewers (who search by
agency id) and support staff can still tell who it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

from avhopp.audit import audit_event
from avhopp.models import AuditAction

if TYPE_CHECKING:
    from avhopp.models import User
    from relocations.models import Relocation

# Stored as data in the log, in Swedish like the rest of it.
PARTY = "Omplaceringspart (skyddad)"


def relocation_audit(
    *,
    actor: User | None,
    action: AuditAction,
    relocation: Relocation,
    obj: models.Model | None = None,
    reason: str = "",
) -> None:
    event = audit_event(
        actor=actor,
        action=action,
        obj=obj if obj is not None else relocation,
        case_id=relocation.case_id,
        reason=reason,
    )
    if event.agency_id not in (
        None,
        relocation.sending_agency_id,
        relocation.coordinating_agency_id,
    ):
        event.agency_name, event.username = PARTY, PARTY
    event.save()
