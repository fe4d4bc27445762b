"""Indexes for national scale (see the benchmark, `make bench`, and EXPLAIN in the README).

Plain SQL run through RunPython so they work on PostgreSQL and SQLite alike and stay out of
the model state (the models are unchanged; makemigrations sees no drift).
"""

from __future__ import annotations

from django.db import migrations

INDEXES = {
    # The case list's default order: ORDER BY opened_at DESC, id DESC LIMIT 25 reads the
    # first rows of this index instead of sorting every listed case.
    "case_opened_desc": "CREATE INDEX IF NOT EXISTS case_opened_desc "
    "ON cases_case (opened_at DESC, id DESC)",
}


def create(apps, schema_editor) -> None:
    for sql in INDEXES.values():
        schema_editor.execute(sql)


def drop(apps, schema_editor) -> None:
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
