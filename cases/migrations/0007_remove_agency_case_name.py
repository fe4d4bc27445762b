"""The name search reads the people's names through their trigram index (0003), filtered by
`cases_visible_to`, instead of a per-agency copy of the names kept by triggers (0006): that copy
made the search query faster but not the page by the margin that would pay for the triggers.
"""

from __future__ import annotations

import importlib

from django.db import migrations

from avhopp.migration_sql import sql_per_vendor

names = importlib.import_module("cases.migrations.0006_agency_case_name")


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_agency_case_name")]

    operations = [
        sql_per_vendor(
            up={"postgresql": names._postgresql(up=False), "sqlite": names._sqlite(up=False)},
            down={"postgresql": names._postgresql(up=True), "sqlite": names._sqlite(up=True)},
        ),
        migrations.DeleteModel(name="AgencyCaseName"),
    ]
