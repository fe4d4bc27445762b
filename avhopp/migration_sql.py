"""Raw SQL in migrations, per database vendor (a vendor not named runs nothing)."""

from __future__ import annotations

from django.db import migrations

Statements = dict[str, list[str]]  # vendor ("postgresql", "sqlite") -> statements


def sql_per_vendor(up: Statements, down: Statements) -> migrations.RunPython:
    def runner(statements: Statements):
        def run(apps, schema_editor) -> None:
            for statement in statements.get(schema_editor.connection.vendor, []):
                # No parameters: a `%` in the SQL (a trigger's message) is left as it is.
                schema_editor.execute(statement, params=None)

        return run

    return migrations.RunPython(runner(up), runner(down))


def postgresql_only(up: list[str], down: list[str]) -> migrations.RunPython:
    """SQL the embedded SQLite default skips (extensions, GIN indexes, statistics)."""
    return sql_per_vendor({"postgresql": up}, {"postgresql": down})
