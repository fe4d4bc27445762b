"""Trigram index for the case list's name search (PostgreSQL only).

Django's icontains is `UPPER(col::text) LIKE UPPER('%word%')`, which no B-tree can serve; a
GIN trigram index on the same expressions can. pg_trgm is a trusted extension, so the
database owner may create it. SQLite (the embedded default) gets nothing here.
"""

from __future__ import annotations

from django.db import migrations

from avhopp.migration_sql import postgresql_only

UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS individual_name_trgm ON cases_individual "
    "USING gin (UPPER(first_name) gin_trgm_ops, UPPER(last_name) gin_trgm_ops)",
]
DOWN = ["DROP INDEX IF EXISTS individual_name_trgm"]


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_performance_indexes")]

    operations = [postgresql_only(UP, DOWN)]
