"""`manage.py gallring --dry-run`: what is due, by case reference; without --dry-run, make the
month's proposals as the beat job does (the deletion itself always waits for a decision)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from avhopp.models import Agency, AgencyKind
from retention.models import ItemAction
from retention.services import files_due, gallring_propose_all


class Command(BaseCommand):
    help = "Show the case files due for gallring (--dry-run), or make the proposals."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list only, change nothing")
        parser.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (today)")
        parser.add_argument("--agency", help="municipality code (all municipalities)")

    def handle(
        self, *args: Any, dry_run: bool, as_of: date | None, agency: str | None, **options: Any
    ) -> None:
        as_of = as_of or timezone.localdate()
        agencies = Agency.objects.filter(kind=AgencyKind.SOCIAL_SERVICES).order_by("name")
        if agency:
            agencies = agencies.filter(municipality_code=agency)
            if not agencies.exists():
                raise CommandError(f"No municipality with code {agency}.")
        if not dry_run:
            made = gallring_propose_all(as_of=as_of)
            self.stdout.write(f"{made} proposal(s) made for the archive officers to decide.")
            return
        total = 0
        for municipality in agencies:
            for due in files_due(agency=municipality, as_of=as_of):
                total += 1
                what = (
                    "held"
                    if due.held
                    else (
                        "archive (research sample)"
                        if due.action == ItemAction.ARCHIVE
                        else "delete"
                    )
                )
                self.stdout.write(
                    f"{municipality.name}\t{due.case.reference}\tlast entry {due.last_entry_on}"
                    f"\tdue {due.due_on}\tby {due.deadline}\t{what}"
                )
        self.stdout.write(f"{total} case file(s) due on {as_of} (dry run: nothing changed).")
