"""Trigram index for the case list's name search (PostgreSQL only).

Django's icontains is `UPPER(col::text) LIKE UPPER('%word%')`, which no B-tree can serve; a
GIN trigram index on the same expressions can. pg_trgm is a trusted extension, so the
database owner may create it. SQLite (the embedded default) gets nothing here.
"""

from __future__ import annotations

from django.db import migrations

UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS individual_name_trgm ON cases_individual "
    "USING gin (UPPER(first_name) gin_trgm_ops, UPPER(last_name) gin_trgm_ops)",
]
DOWN = ["DROP INDEX IF EXISTS individual_name_trgm"]


def _run(statements: list[str]):
    def run(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_performance_indexes")]

    operations = [migrations.RunPython(_run(UP), _run(DOWN))]
