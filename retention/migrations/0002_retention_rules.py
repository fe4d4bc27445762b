"""The retention table's first rows: five years after the last entry, with the research
sample born on the 5th, 15th and 25th kept. The Social Services Act (2001:453) until 30 June
2025; from 1 July 2025 the new Act (2025:400), which carried the rule over under new
paragraph numbers. The references are data: correct them in the table, not in code."""

from __future__ import annotations

from datetime import date

from django.db import migrations

RULES = [
    {
        "valid_from": date(2002, 1, 1),
        "legal_reference": "SoL (2001:453) 12 kap. 1 §",
        "research_reference": "SoL (2001:453) 12 kap. 2 §",
    },
    {
        "valid_from": date(2025, 7, 1),
        "legal_reference": "Socialtjänstlag (2025:400), gallring av personakter",
        "research_reference": "Socialtjänstlag (2025:400), undantag från gallring (forskningsurval)",
    },
]


def add_rules(apps, schema_editor) -> None:
    RetentionRule = apps.get_model("retention", "RetentionRule")
    for rule in RULES:
        RetentionRule.objects.get_or_create(
            record_kind="case_file",
            valid_from=rule["valid_from"],
            defaults={
                "retention_years": 5,
                "research_birth_days": "5,15,25",
                "legal_reference": rule["legal_reference"],
                "research_reference": rule["research_reference"],
            },
        )


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_gallring_holds_extracts")]

    operations = [migrations.RunPython(add_rules, migrations.RunPython.noop)]
