"""Planner statistics and covering indexes for the case list (PostgreSQL only).

`grant_group_permission`: every case read filters guardian's group table on
`group_id = <agency group> AND permission_id = <view_case>`. Owned cases carry both view and
change grants, shared ones view only, so the two columns are not independent and PostgreSQL's
default estimate is off by nearly half (2,722 estimated vs 4,795 actual rows for a police
region at N = 100,000); a wrong size there makes the planner sort every grant instead of
walking the list's index. Multivariate MCV statistics make the estimate exact.

`case_threat_status`: the filtered list (threat level, status) is counted on every page.
Without it the count reads all of cases_case (33 ms at N = 100,000); with `id` in the index
the count is an index-only scan of the matching entries semi-joined to the grants (5 ms):

    Aggregate (actual time=6.8 ms)
      ->  Hash Semi Join
            ->  Index Only Scan using case_threat_status on cases_case (rows=9379)
                  Index Cond: ((threat_level = 'high') AND (status = ANY (...)))
            ->  Hash  ->  Index Only Scan using cases_casegroupobjectper_group_id_... (rows=4795)

`case_opened_desc` gains status and threat level as included columns: the filtered list walks
that index in list order and now tests the filter in the index itself instead of fetching
every walked row from the table (first page, open cases at threat level high, the largest
municipality's social worker: 20 ms with 13,291 heap rows fetched and discarded, 7 ms without).

SQLite (the embedded default) keeps the plain index from 0002 and needs nothing else here.
"""

from __future__ import annotations

from django.db import migrations

from avhopp.migration_sql import postgresql_only

UP = [
    "CREATE STATISTICS IF NOT EXISTS grant_group_permission (mcv) "
    "ON group_id, permission_id FROM cases_casegroupobjectpermission",
    "ANALYZE cases_casegroupobjectpermission",
    "CREATE INDEX IF NOT EXISTS case_threat_status ON cases_case (threat_level, status, id)",
    "DROP INDEX IF EXISTS case_opened_desc",
    "CREATE INDEX case_opened_desc ON cases_case (opened_at DESC, id DESC) "
    "INCLUDE (status, threat_level)",
]
DOWN = [
    "DROP INDEX IF EXISTS case_opened_desc",
    "CREATE INDEX case_opened_desc ON cases_case (opened_at DESC, id DESC)",
    "DROP INDEX IF EXISTS case_threat_status",
    "DROP STATISTICS IF EXISTS grant_group_permission",
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_share_active_expiry")]

    operations = [postgresql_only(UP, DOWN)]
