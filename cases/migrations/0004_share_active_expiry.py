"""The partial index every case read uses to leave out shares whose consent has run out.

cases.selectors excludes, at read time, the agency's active shares with `expires_on` in the
past. Through the plain agency index PostgreSQL fetched all of a police region's 4,998 shares
and filtered them (3.9 ms at N = 100,000); the partial index finds the 119 expired ones
directly:

    Bitmap Heap Scan on cases_caseshare  (actual time=0.07..0.27 ms rows=119)
      Recheck Cond: ((agency_id = 296) AND (expires_on < '2026-11-23') AND (revoked_at IS NULL))
      ->  Bitmap Index Scan on share_active_expiry  (rows=119)
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('avhopp', '0003_security_hardening'),
        ('cases', '0003_name_search_trigram'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='caseshare',
            index=models.Index(condition=models.Q(('revoked_at__isnull', True)), fields=['agency', 'expires_on'], name='share_active_expiry'),
        ),
    ]
