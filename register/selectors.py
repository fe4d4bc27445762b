"""Reads of the register for its overview: counts only, never a record or a pseudonym."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count

from register.models import RegisterBuild
from register.policy import RegisterAction, RegisterPolicy

if TYPE_CHECKING:
    from avhopp.models import User


@dataclass(frozen=True)
class Overview:
    records: int
    people: int
    # How many people have how many records (2, 3, ...): registered by more than one
    # municipality, or more than once, which the pseudonym shows without saying who.
    repeated: dict[int, int]
    builds: list[RegisterBuild]


def register_overview(user: User) -> Overview:
    records = RegisterPolicy.visible_to(user)
    per_person = records.values("pseudonym").annotate(n=Count("pk")).order_by()
    repeated = Counter(per_person.filter(n__gt=1).values_list("n", flat=True))
    return Overview(
        records=records.count(),
        people=per_person.count(),
        repeated=dict(sorted(repeated.items())),
        builds=list(RegisterBuild.objects.all()[:5])
        if RegisterPolicy.allows(user, RegisterAction.OVERVIEW)
        else [],
    )
