"""Only a municipality's social services own cases, enforced in the database: a case whose
owning agency is of another kind is refused, and so is changing the kind of an agency that
owns cases. Existing cases that do not fit stop the migration, named, before any trigger is
made.
"""

from __future__ import annotations

from django.db import migrations

from avhopp.migration_sql import sql_per_vendor


class MisfitOwnersError(Exception):
    """Cases owned by an agency that is not a municipality's social services."""


def misfit_cases(connection) -> list[tuple[int, str, str]]:
    """(case id, agency name, agency kind) of every case not owned by social services."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.id, a.name, a.kind FROM cases_case c"
            " JOIN avhopp_agency a ON a.id = c.owning_agency_id"
            " WHERE a.kind <> 'social_services' ORDER BY c.id",
            params=None,
        )
        return [tuple(row) for row in cursor.fetchall()]


def refuse_misfits(apps, schema_editor) -> None:
    rows = misfit_cases(schema_editor.connection)
    if rows:
        listed = "; ".join(f"case {pk} ({agency}, {kind})" for pk, agency, kind in rows)
        raise MisfitOwnersError(
            f"{len(rows)} case(s) are owned by an agency that is not a municipality's social "
            f"services: {listed}. Move each to its municipality and migrate again."
        )


POSTGRES_UP = """
CREATE FUNCTION cases_case_owner_is_municipality() RETURNS trigger AS $$
BEGIN
    -- FOR SHARE: a concurrent change of the agency's kind waits for this row, or this for it.
    PERFORM 1 FROM avhopp_agency a
        WHERE a.id = NEW.owning_agency_id AND a.kind = 'social_services'
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'agency % is not a municipality''s social services and owns no cases',
            NEW.owning_agency_id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_case_owner_is_municipality
    BEFORE INSERT OR UPDATE OF owning_agency_id ON cases_case
    FOR EACH ROW EXECUTE FUNCTION cases_case_owner_is_municipality();

CREATE FUNCTION cases_agency_kind_keeps_cases() RETURNS trigger AS $$
BEGIN
    IF NEW.kind <> 'social_services'
        AND EXISTS (SELECT 1 FROM cases_case c WHERE c.owning_agency_id = NEW.id) THEN
        RAISE EXCEPTION 'agency % owns cases and stays a municipality''s social services',
            NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER cases_agency_kind_keeps_cases
    BEFORE UPDATE OF kind ON avhopp_agency
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION cases_agency_kind_keeps_cases();
"""
POSTGRES_DOWN = """
DROP TRIGGER cases_agency_kind_keeps_cases ON avhopp_agency;
DROP FUNCTION cases_agency_kind_keeps_cases();
DROP TRIGGER cases_case_owner_is_municipality ON cases_case;
DROP FUNCTION cases_case_owner_is_municipality();
"""

_NOT_MUNICIPALITY = """NOT EXISTS (
    SELECT 1 FROM avhopp_agency a
    WHERE a.id = NEW.owning_agency_id AND a.kind = 'social_services')"""
SQLITE_UP = [
    f"""CREATE TRIGGER cases_case_owner_is_municipality_insert BEFORE INSERT ON cases_case
        WHEN {_NOT_MUNICIPALITY}
        BEGIN SELECT RAISE(ABORT, 'only a municipality''s social services own cases'); END;""",
    f"""CREATE TRIGGER cases_case_owner_is_municipality_update
        BEFORE UPDATE OF owning_agency_id ON cases_case
        WHEN {_NOT_MUNICIPALITY}
        BEGIN SELECT RAISE(ABORT, 'only a municipality''s social services own cases'); END;""",
    """CREATE TRIGGER cases_agency_kind_keeps_cases BEFORE UPDATE OF kind ON avhopp_agency
        WHEN NEW.kind <> 'social_services'
            AND EXISTS (SELECT 1 FROM cases_case c WHERE c.owning_agency_id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'an agency that owns cases stays social services'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER cases_agency_kind_keeps_cases;",
    "DROP TRIGGER cases_case_owner_is_municipality_update;",
    "DROP TRIGGER cases_case_owner_is_municipality_insert;",
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_remove_agency_case_name"), ("avhopp", "0004_roles_fit_agency_kind")]

    operations = [
        migrations.RunPython(refuse_misfits, migrations.RunPython.noop),
        sql_per_vendor(
            {"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP},
            {"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN},
        ),
    ]
