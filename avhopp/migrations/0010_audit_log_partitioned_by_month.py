"""The audit log, partitioned by month on PostgreSQL, so it stays fast at national scale.

Both log tables are rebuilt as tables partitioned by range of the event's time, one partition
a month plus a DEFAULT partition that catches an insert into a month nobody created (the job
avhopp.tasks.audit_partitions_ahead creates them months ahead). Rows are copied across once
(a one-off on upgrade: plan it for a quiet hour on a large log).

A partitioned table's primary key must include the partition key, so the keys become
(id, occurred_at) and (id, event_occurred_at); `id` stays unique through one sequence each. A
foreign key cannot point at the events' `id` alone, so the shown case keeps a plain `event_id`
and copies the event's time (`event_occurred_at`), by which it is partitioned the same way.

The append-only trigger is created on each partitioned table, which PostgreSQL clones onto
every partition, present and future, the DEFAULT one included. Old months leave only as whole
partitions, dropped by the log retention job: a row is never updated or deleted.

`avhopp_audit_create_month(month)` is the one definition of a month's partitions, used here
and by the job. The embedded SQLite default keeps plain tables and only gains the column.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

CREATE_MONTH_FUNCTION = """
CREATE FUNCTION avhopp_audit_create_month(month date) RETURNS boolean AS $$
DECLARE
    first_day timestamptz := date_trunc('month', month)::date::timestamp AT TIME ZONE 'UTC';
    next_first timestamptz :=
        (date_trunc('month', month) + interval '1 month')::date::timestamp AT TIME ZONE 'UTC';
    suffix text := to_char(month, '"y"YYYY"m"MM');
BEGIN
    -- Rows of that month already in the DEFAULT partition would make the new partition's
    -- creation fail, and moving them would mean deleting log rows: they stay where they are.
    IF EXISTS (SELECT 1 FROM avhopp_auditevent_default
               WHERE occurred_at >= first_day AND occurred_at < next_first)
       OR EXISTS (SELECT 1 FROM avhopp_auditshowncase_default
                  WHERE event_occurred_at >= first_day AND event_occurred_at < next_first) THEN
        RETURN false;
    END IF;
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF avhopp_auditevent FOR VALUES FROM (%L) TO (%L)',
        'avhopp_auditevent_' || suffix, first_day, next_first);
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF avhopp_auditshowncase'
        ' FOR VALUES FROM (%L) TO (%L)',
        'avhopp_auditshowncase_' || suffix, first_day, next_first);
    RETURN true;
END;
$$ LANGUAGE plpgsql;
"""

EVENT_COLUMNS = (
    "id, occurred_at, user_id, username, agency_id, agency_name, role, action, object_type,"
    " object_id, case_id, individual_id, ip_address, request_id, reason"
)


def _index_definitions(cursor, table: str) -> list[str]:
    """The table's indexes, less those behind its primary key and unique constraints (made
    again below with the partition key in them)."""
    cursor.execute(
        "SELECT indexdef FROM pg_indexes i WHERE tablename = %s AND NOT EXISTS ("
        " SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def partition_the_log(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            # SQLite keeps plain tables: the shown case gains its event's time (nullable here,
            # which the embedded development database can live with) and nothing else.
            cursor.execute(
                "ALTER TABLE avhopp_auditshowncase ADD COLUMN event_occurred_at datetime NULL"
            )
            cursor.execute("DROP TRIGGER avhopp_auditshowncase_no_update")
            cursor.execute(
                "UPDATE avhopp_auditshowncase SET event_occurred_at = (SELECT occurred_at FROM"
                " avhopp_auditevent e WHERE e.id = avhopp_auditshowncase.event_id)"
            )
            cursor.execute(
                "CREATE TRIGGER avhopp_auditshowncase_no_update BEFORE UPDATE ON"
                " avhopp_auditshowncase BEGIN SELECT RAISE(ABORT,"
                " 'avhopp_auditshowncase is append-only'); END;"
            )
            return
        event_indexes = _index_definitions(cursor, "avhopp_auditevent")
        shown_indexes = _index_definitions(cursor, "avhopp_auditshowncase")
        cursor.execute("ALTER TABLE avhopp_auditevent RENAME TO avhopp_auditevent_unpartitioned")
        cursor.execute(
            "ALTER TABLE avhopp_auditshowncase RENAME TO avhopp_auditshowncase_unpartitioned"
        )
        cursor.execute(
            "CREATE TABLE avhopp_auditevent (LIKE avhopp_auditevent_unpartitioned"
            " INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (occurred_at)"
        )
        cursor.execute(
            "CREATE TABLE avhopp_auditshowncase ("
            " id bigint NOT NULL, event_id bigint NOT NULL,"
            " event_occurred_at timestamp with time zone NOT NULL, case_id bigint NOT NULL"
            ") PARTITION BY RANGE (event_occurred_at)"
        )
        cursor.execute(
            "CREATE TABLE avhopp_auditevent_default PARTITION OF avhopp_auditevent DEFAULT"
        )
        cursor.execute(
            "CREATE TABLE avhopp_auditshowncase_default PARTITION OF avhopp_auditshowncase DEFAULT"
        )
        cursor.execute(CREATE_MONTH_FUNCTION)
        # Every month that holds events, and the next three, get their own partition.
        cursor.execute(
            "SELECT avhopp_audit_create_month(month::date) FROM generate_series("
            " date_trunc('month', LEAST(now(), (SELECT min(occurred_at)"
            "   FROM avhopp_auditevent_unpartitioned)) AT TIME ZONE 'UTC'),"
            " date_trunc('month', GREATEST(now(), (SELECT max(occurred_at)"
            "   FROM avhopp_auditevent_unpartitioned)) AT TIME ZONE 'UTC') + interval '3 months',"
            " interval '1 month') AS month"
        )
        cursor.execute(
            f"INSERT INTO avhopp_auditevent ({EVENT_COLUMNS})"  # noqa: S608
            f" SELECT {EVENT_COLUMNS} FROM avhopp_auditevent_unpartitioned"
        )
        cursor.execute(
            "INSERT INTO avhopp_auditshowncase (id, event_id, event_occurred_at, case_id)"
            " SELECT s.id, s.event_id, e.occurred_at, s.case_id"
            " FROM avhopp_auditshowncase_unpartitioned s"
            " JOIN avhopp_auditevent_unpartitioned e ON e.id = s.event_id"
        )
        cursor.execute("DROP TABLE avhopp_auditshowncase_unpartitioned")
        cursor.execute("DROP TABLE avhopp_auditevent_unpartitioned")
        # Keys after the old tables are gone, so they take the old names.
        cursor.execute("ALTER TABLE avhopp_auditevent ADD PRIMARY KEY (id, occurred_at)")
        cursor.execute(
            "ALTER TABLE avhopp_auditshowncase ADD PRIMARY KEY (id, event_occurred_at),"
            " ADD CONSTRAINT audit_shown_case_once UNIQUE (case_id, event_id, event_occurred_at)"
        )
        for table in ("avhopp_auditevent", "avhopp_auditshowncase"):
            # A sequence owned by the column, as Django's own `pg_get_serial_sequence` expects
            # (identity columns on partitioned tables arrive only in PostgreSQL 17).
            cursor.execute(f"CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id")
            cursor.execute(
                f"SELECT setval('{table}_id_seq', (SELECT COALESCE(max(id), 0) + 1"  # noqa: S608
                f" FROM {table}), false)"
            )
            cursor.execute(
                f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')"
            )
        for definition in event_indexes + shown_indexes:
            cursor.execute(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        for table in ("avhopp_auditevent", "avhopp_auditshowncase"):
            cursor.execute(
                f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION avhopp_auditevent_append_only()"
            )


class Migration(migrations.Migration):
    # One transaction: a failure leaves the old tables as they were.
    dependencies = [("avhopp", "0009_sign_in_identity_providers")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="auditshowncase", name="audit_shown_case_once"
                ),
                migrations.AlterField(
                    model_name="auditshowncase",
                    name="event",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="shown_cases",
                        to="avhopp.auditevent",
                    ),
                ),
                migrations.AddField(
                    model_name="auditshowncase",
                    name="event_occurred_at",
                    field=models.DateTimeField(verbose_name="händelsens tid (UTC)"),
                ),
                migrations.AddConstraint(
                    model_name="auditshowncase",
                    constraint=models.UniqueConstraint(
                        fields=("case_id", "event", "event_occurred_at"),
                        name="audit_shown_case_once",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(partition_the_log),
    ]
