"""The name search's own table, one row per agency view grant, kept by database triggers.

The name search matched the whole population before the agency's grants narrowed it: at
N = 100,000, "Lindqvist" found 1,677 people, each then looked up in the cases, for 68 a police
region may see (16.4 ms, growing with N):

    Nested Loop  (actual time=1.50..13.46 rows=1677)
      ->  Bitmap Heap Scan on cases_individual  (actual time=1.48..5.50 rows=1677)
            ->  Bitmap Index Scan on individual_name_trgm  (rows=1677)
      ->  Index Scan using cases_case_individual_id_b7750976 on cases_case  (loops=1677)
    Execution Time: 16.367 ms

One GIN index on (group, name trigrams) (btree_gin puts the group in it) finds the agency's
own matches directly; the grants then confirm 71 cases, 2.0-2.3 ms warm:

    Nested Loop Semi Join  (rows=68)
      ->  HashAggregate  (rows=71)
            ->  Bitmap Heap Scan on cases_agencycasename  (actual time=0.75..0.93 rows=71)
                  Recheck Cond: ((group_id = 296) AND (upper(names) ~~ '%LINDQVIST%'))
                  ->  Bitmap Index Scan on agency_case_name_search  (rows=71)
      ->  Index Only Scan using cases_casegroupobjectper_group_id_permission_id_c_90c788a7_uniq

The triggers are the same statements on PostgreSQL and on SQLite (the embedded default), so
the search works the same way on both; only the GIN index is PostgreSQL's.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from avhopp.migration_sql import sql_per_vendor

VIEW_CASE = (
    "SELECT p.id FROM auth_permission p JOIN django_content_type t ON t.id = p.content_type_id "
    "WHERE t.app_label = 'cases' AND t.model = 'case' AND p.codename = 'view_case'"
)
ADD_NEW_GRANT = (
    "INSERT INTO cases_agencycasename (grant_id, group_id, case_id, names) "
    "SELECT NEW.id, NEW.group_id, c.id, i.first_name || ' ' || i.last_name "
    "FROM cases_case c JOIN cases_individual i ON i.id = c.individual_id "
    f"WHERE c.id = NEW.content_object_id AND NEW.permission_id = ({VIEW_CASE})"
)
REMOVE_OLD_GRANT = "DELETE FROM cases_agencycasename WHERE grant_id = OLD.id"
RENAME_PERSON = (
    "UPDATE cases_agencycasename SET names = NEW.first_name || ' ' || NEW.last_name "
    "WHERE case_id IN (SELECT id FROM cases_case WHERE individual_id = NEW.id)"
)
RENAME_CASE = (
    "UPDATE cases_agencycasename SET names = (SELECT first_name || ' ' || last_name "
    "FROM cases_individual WHERE id = NEW.individual_id) WHERE case_id = NEW.id"
)
BACKFILL = (
    "INSERT INTO cases_agencycasename (grant_id, group_id, case_id, names) "
    "SELECT g.id, g.group_id, c.id, i.first_name || ' ' || i.last_name "
    "FROM cases_casegroupobjectpermission g JOIN cases_case c ON c.id = g.content_object_id "
    f"JOIN cases_individual i ON i.id = c.individual_id WHERE g.permission_id = ({VIEW_CASE})"
)

GRANTS = "cases_casegroupobjectpermission"
# (trigger name, event, table, condition, statements)
TRIGGERS = [
    ("agency_case_name_grant_added", "INSERT", GRANTS, "", [ADD_NEW_GRANT]),
    ("agency_case_name_grant_removed", "DELETE", GRANTS, "", [REMOVE_OLD_GRANT]),
    ("agency_case_name_grant_changed", "UPDATE", GRANTS, "", [REMOVE_OLD_GRANT, ADD_NEW_GRANT]),
    (
        "agency_case_name_person_renamed",
        "UPDATE OF first_name, last_name",
        "cases_individual",
        "OLD.first_name <> NEW.first_name OR OLD.last_name <> NEW.last_name",
        [RENAME_PERSON],
    ),
    (
        "agency_case_name_case_person_changed",
        "UPDATE OF individual_id",
        "cases_case",
        "OLD.individual_id <> NEW.individual_id",
        [RENAME_CASE],
    ),
]


def _postgresql(up: bool) -> list[str]:
    if not up:
        return [
            statement
            for name, _event, table, _when, _body in TRIGGERS
            for statement in (f"DROP TRIGGER {name} ON {table}", f"DROP FUNCTION {name}()")
        ]
    statements = [
        "CREATE EXTENSION IF NOT EXISTS btree_gin",
        "CREATE INDEX agency_case_name_search ON cases_agencycasename "
        "USING gin (group_id, UPPER(names) gin_trgm_ops)",
    ]
    for name, event, table, when, body in TRIGGERS:
        condition = f"WHEN ({when})" if when else ""
        statements += [
            f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
            + "; ".join(body)
            + "; RETURN NULL; END; $$ LANGUAGE plpgsql",
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {condition} "
            f"EXECUTE FUNCTION {name}()",
        ]
    return [*statements, BACKFILL]


def _sqlite(up: bool) -> list[str]:
    if not up:
        return [f"DROP TRIGGER {name}" for name, *_rest in TRIGGERS]
    statements = []
    for name, event, table, when, body in TRIGGERS:
        condition = f"WHEN ({when})" if when else ""
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {condition} "
            "BEGIN " + "; ".join(body) + "; END"
        )
    return [*statements, BACKFILL]


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cases", "0005_grant_statistics"),
    ]

    operations = [
        migrations.CreateModel(
            name="AgencyCaseName",
            fields=[
                (
                    "grant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="cases.casegroupobjectpermission",
                    ),
                ),
                ("names", models.TextField()),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="cases.case",
                    ),
                ),
                (
                    "group",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="auth.group",
                    ),
                ),
            ],
        ),
        sql_per_vendor(
            {"postgresql": _postgresql(up=True), "sqlite": _sqlite(up=True)},
            {"postgresql": _postgresql(up=False), "sqlite": _sqlite(up=False)},
        ),
    ]
