"""An index for the log search by user name, which ignores case.

The search filters `username__iexact`, which PostgreSQL reads as
`upper(username::text) = upper('...')`: no index of the log matched it. EXPLAIN (ANALYZE,
BUFFERS) of the search page's query (bench/log.py --explain), a social worker's name in
capitals, as the log reviewer of the largest municipality, on a log of 2,000,000 events:

  without:  Gather Merge -> Sort -> Parallel Append
              ->  Seq Scan on avhopp_auditevent_y2025m01 ... (every month's partition)
                    Filter: ((upper((username)::text) = 'K1242_SOCIA01'::text) AND ...)
            Buffers: shared hit=37 read=47770, Execution Time: 1243 ms (cold)
  with:     Incremental Sort -> Merge Append, Sort Key: occurred_at DESC
              ->  Index Scan using avhopp_auditevent_y2026m05_upper_occurred_at_idx ...
                    Index Cond: (upper((username)::text) = 'K1242_SOCIA01'::text)
            Buffers: shared hit=298, Execution Time: 2.0 ms
  with, on a log of 20,000,000 events: the same plan, Buffers: shared hit=307, 1.0 ms

The time as the second column, descending, gives the page's order from the index: each
month's partition is read newest first and the LIMIT stops the merge after one page, however
long the log. The user id's index (audit_user_time) cannot serve this search: the log keeps the
name as written when the user is gone.

Made on the partitioned table, so on every month's partition and on each one made later.
"""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("avhopp", "0014_choices_with_research"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                django.db.models.functions.text.Upper("username"),
                models.OrderBy(models.F("occurred_at"), descending=True),
                name="audit_username_upper_time",
            ),
        ),
    ]
