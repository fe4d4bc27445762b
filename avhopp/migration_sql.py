"""SQL that only PostgreSQL runs, for migrations (the embedded SQLite default skips it)."""

from __future__ import annotations

from django.db import migrations


def postgresql_only(up: list[str], down: list[str]) -> migrations.RunPython:
    def runner(statements: list[str]):
        def run(apps, schema_editor) -> None:
            if schema_editor.connection.vendor == "postgresql":
                for statement in statements:
                    schema_editor.execute(statement)

        return run

    return migrations.RunPython(runner(up), runner(down))
