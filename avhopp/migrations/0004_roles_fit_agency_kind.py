"""A user's role must exist in their agency's kind (a municipality cannot have a police
officer), enforced in the database: a user whose role does not fit is refused, and so is
changing an agency's kind while its users' roles would not fit the new one.

The table is a frozen copy of avhopp.models.ROLES_BY_AGENCY_KIND as it was when this migration
was written (a migration must not follow app code that changes later). Existing users that do
not fit stop the migration, named, before any trigger is made: they need a valid role first.
"""

from __future__ import annotations

from django.db import migrations

from avhopp.migration_sql import sql_per_vendor

_ANYWHERE = ("coordinator", "log_reviewer", "agency_admin")
ROLES_BY_AGENCY_KIND = {
    "social_services": ("social_worker", "coordinator", "log_reviewer", "agency_admin"),
    "police": ("police_officer", "log_reviewer", "agency_admin"),
    "prison_probation": _ANYWHERE,
    "sis": _ANYWHERE,
    "socialstyrelsen": _ANYWHERE,
    "civil_society": _ANYWHERE,
    "other": _ANYWHERE,
}
# 'kind:role' for every valid pair, as an SQL list (constants only, nothing user-given).
PAIRS = ", ".join(
    f"'{kind}:{role}'" for kind, roles in ROLES_BY_AGENCY_KIND.items() for role in roles
)


class MisfitRolesError(Exception):
    """Users whose role does not exist in their agency's kind."""


def misfit_users(connection) -> list[tuple[str, str, str]]:
    """(user name, agency name, role) of every user whose role does not fit their agency."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.username, a.name, u.role FROM avhopp_user u"
            " JOIN avhopp_agency a ON a.id = u.agency_id"
            f" WHERE a.kind || ':' || u.role NOT IN ({PAIRS})"
            " ORDER BY a.name, u.username",
            params=None,
        )
        return [tuple(row) for row in cursor.fetchall()]


def misfit_message(rows: list[tuple[str, str, str]]) -> str:
    listed = "; ".join(f"{username} ({agency}, {role})" for username, agency, role in rows)
    return (
        f"{len(rows)} user(s) have a role that does not exist in their agency's kind: "
        f"{listed}. Give each a valid role (or move them) and migrate again."
    )


def refuse_misfits(apps, schema_editor) -> None:
    rows = misfit_users(schema_editor.connection)
    if rows:
        raise MisfitRolesError(misfit_message(rows))


POSTGRES_UP = f"""
CREATE FUNCTION avhopp_role_fits_kind(kind text, role text) RETURNS boolean
    LANGUAGE sql IMMUTABLE AS $$ SELECT kind || ':' || role IN ({PAIRS}) $$;

CREATE FUNCTION avhopp_user_role_fits_agency() RETURNS trigger AS $$
BEGIN
    IF NEW.agency_id IS NULL THEN
        RETURN NEW;
    END IF;
    -- FOR SHARE: a concurrent change of the agency's kind waits for this row, or this for it.
    PERFORM 1 FROM avhopp_agency a
        WHERE a.id = NEW.agency_id AND avhopp_role_fits_kind(a.kind, NEW.role)
        FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'role % does not exist in the kind of agency %', NEW.role, NEW.agency_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER avhopp_user_role_fits_agency
    BEFORE INSERT OR UPDATE OF agency_id, role ON avhopp_user
    FOR EACH ROW EXECUTE FUNCTION avhopp_user_role_fits_agency();

CREATE FUNCTION avhopp_agency_kind_fits_roles() RETURNS trigger AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM avhopp_user u
        WHERE u.agency_id = NEW.id AND NOT avhopp_role_fits_kind(NEW.kind, u.role)
    ) THEN
        RAISE EXCEPTION 'agency % has users whose role does not exist in kind %', NEW.id, NEW.kind
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER avhopp_agency_kind_fits_roles
    BEFORE UPDATE OF kind ON avhopp_agency
    FOR EACH ROW WHEN (OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION avhopp_agency_kind_fits_roles();
"""
POSTGRES_DOWN = """
DROP TRIGGER avhopp_agency_kind_fits_roles ON avhopp_agency;
DROP FUNCTION avhopp_agency_kind_fits_roles();
DROP TRIGGER avhopp_user_role_fits_agency ON avhopp_user;
DROP FUNCTION avhopp_user_role_fits_agency();
DROP FUNCTION avhopp_role_fits_kind(text, text);
"""

_USER_MISFITS = f"""NEW.agency_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM avhopp_agency a
    WHERE a.id = NEW.agency_id AND a.kind || ':' || NEW.role IN ({PAIRS}))"""
SQLITE_UP = [
    f"""CREATE TRIGGER avhopp_user_role_fits_agency_insert BEFORE INSERT ON avhopp_user
        WHEN {_USER_MISFITS}
        BEGIN SELECT RAISE(ABORT, 'role does not exist in the kind of the agency'); END;""",
    f"""CREATE TRIGGER avhopp_user_role_fits_agency_update
        BEFORE UPDATE OF agency_id, role ON avhopp_user
        WHEN {_USER_MISFITS}
        BEGIN SELECT RAISE(ABORT, 'role does not exist in the kind of the agency'); END;""",
    f"""CREATE TRIGGER avhopp_agency_kind_fits_roles BEFORE UPDATE OF kind ON avhopp_agency
        WHEN EXISTS (
            SELECT 1 FROM avhopp_user u
            WHERE u.agency_id = NEW.id AND NEW.kind || ':' || u.role NOT IN ({PAIRS}))
        BEGIN SELECT RAISE(ABORT, 'agency has users whose role does not exist in the kind');
        END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER avhopp_agency_kind_fits_roles;",
    "DROP TRIGGER avhopp_user_role_fits_agency_update;",
    "DROP TRIGGER avhopp_user_role_fits_agency_insert;",
]


class Migration(migrations.Migration):
    dependencies = [("avhopp", "0003_security_hardening")]

    operations = [
        migrations.RunPython(refuse_misfits, migrations.RunPython.noop),
        sql_per_vendor(
            {"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP},
            {"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN},
        ),
    ]
