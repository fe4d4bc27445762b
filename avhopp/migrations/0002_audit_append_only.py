"""Make the audit log append-only in the database itself, not just in the code.

TRUNCATE is left to table privileges: production runs the app as a role that holds only
INSERT and SELECT on this table (README), while the test suite truncates between tests.
"""

from __future__ import annotations

from django.db import migrations

from avhopp.migration_sql import sql_per_vendor

POSTGRES_UP = """
CREATE FUNCTION avhopp_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'avhopp_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER avhopp_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON avhopp_auditevent
    FOR EACH ROW EXECUTE FUNCTION avhopp_auditevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER avhopp_auditevent_no_update_delete ON avhopp_auditevent;
DROP FUNCTION avhopp_auditevent_append_only();
"""
SQLITE_UP = [
    """CREATE TRIGGER avhopp_auditevent_no_update BEFORE UPDATE ON avhopp_auditevent
       BEGIN SELECT RAISE(ABORT, 'avhopp_auditevent is append-only'); END;""",
    """CREATE TRIGGER avhopp_auditevent_no_delete BEFORE DELETE ON avhopp_auditevent
       BEGIN SELECT RAISE(ABORT, 'avhopp_auditevent is append-only'); END;""",
]
SQLITE_DOWN = [
    "DROP TRIGGER avhopp_auditevent_no_update;",
    "DROP TRIGGER avhopp_auditevent_no_delete;",
]


class Migration(migrations.Migration):
    dependencies = [("avhopp", "0001_initial")]

    operations = [
        sql_per_vendor(
            {"postgresql": [POSTGRES_UP], "sqlite": SQLITE_UP},
            {"postgresql": [POSTGRES_DOWN], "sqlite": SQLITE_DOWN},
        ),
    ]
