"""Free text is held to 10,000 characters in the database as well as in the forms.

Adding the constraints checks the existing rows: a longer text stops the migration, naming the
constraint, and has to be shortened before it is run again.

SQLite adds a constraint by rebuilding the table, which the triggers on and about
`cases_case` (migration 0008) do not survive: there they are dropped first and made again.
"""

from __future__ import annotations

from importlib import import_module

from django.db import migrations, models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from avhopp.migration_sql import sql_per_vendor

TEXT_LIMIT = 10_000
owners = import_module("cases.migrations.0008_cases_owned_by_municipalities")

TEXT_FIELDS = [
    ("case", "case", "motivation_notes"),
    ("case", "case", "agreement_conditions"),
    ("case", "case", "close_reason"),
    ("casestatuschange", "status_change", "reason"),
    ("intervention", "intervention", "goal"),
    ("intervention", "intervention", "outcome"),
    ("journalentry", "journal", "text"),
    ("threatassessment", "threat", "summary"),
    ("threatassessment", "threat", "details"),
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_cases_owned_by_municipalities")]

    operations = [
        sql_per_vendor({"sqlite": owners.SQLITE_DOWN}, {"sqlite": owners.SQLITE_UP}),
        *(
            migrations.AddConstraint(
                model_name=model,
                constraint=models.CheckConstraint(
                    condition=models.Q(LessThanOrEqual(Length(field), TEXT_LIMIT)),
                    name=f"{prefix}_{field}_length",
                ),
            )
            for model, prefix, field in TEXT_FIELDS
        ),
        sql_per_vendor({"sqlite": owners.SQLITE_UP}, {"sqlite": owners.SQLITE_DOWN}),
    ]
