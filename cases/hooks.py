"""Rules another app adds to the case services, registered from its `AppConfig.ready()`: the
method app binds a new case to its checklist, holds a status change until the phase's
required steps are done, and checks and records every decision under delegation. The case
services then import nothing of that app (the layering of avhopp.panels). Each hook runs
inside the service's transaction; a ValidationError from one refuses the whole write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from avhopp.models import User
    from cases.models import Case, CaseStatusChange


class DecisionKind(models.TextChoices):
    """The decisions a municipality's delegation order assigns to named staff."""

    SUPPORT = "support", _("Beslut om insatser")
    CLOSURE = "closure", _("Avslut av ärende")
    RELOCATION = "relocation", _("Begäran om omplacering")


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    case: Case
    by: User
    subject: models.Model  # what was decided: a status change, an intervention, a relocation


_case_created: list[Callable[[Case, User], None]] = []
_status_changing: list[Callable[[CaseStatusChange, User], None]] = []
_decided: list[Callable[[Decision], None]] = []


def on_case_created(hook: Callable[[Case, User], None]) -> None:
    _case_created.append(hook)


def on_status_changing(hook: Callable[[CaseStatusChange, User], None]) -> None:
    """`hook(change, by)` with the change written and the case not yet moved."""
    _status_changing.append(hook)


def on_decision(hook: Callable[[Decision], None]) -> None:
    _decided.append(hook)


def case_created(case: Case, by: User) -> None:
    for hook in _case_created:
        hook(case, by)


def status_changing(change: CaseStatusChange, by: User) -> None:
    for hook in _status_changing:
        hook(change, by)


def decision_taken(*, kind: DecisionKind, case: Case, by: User, subject: models.Model) -> None:
    for hook in _decided:
        hook(Decision(kind=kind, case=case, by=by, subject=subject))
