"""A coded reason why a case ended (EndReason), beside the reason in words.

SQLite adds the column by rebuilding the case table, which the owning-agency triggers on it
(migration 0008) do not survive: they are dropped before and made again after, as in 0009.
"""

from importlib import import_module

from django.db import migrations, models

from avhopp.migration_sql import sql_per_vendor

owners = import_module("cases.migrations.0008_cases_owned_by_municipalities")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0012_consent_relocation'),
    ]

    operations = [
        sql_per_vendor({"sqlite": owners.SQLITE_DOWN}, {"sqlite": owners.SQLITE_UP}),
        migrations.AddField(
            model_name='case',
            name='end_reason',
            field=models.CharField(blank=True, choices=[('goals_met', 'Målen uppnådda'), ('support_elsewhere', 'Stöd fortsätter på annat sätt'), ('person_left', 'Personen avbröt'), ('agreement_broken', 'Överenskommelsen bröts'), ('new_crime', 'Ny brottslighet'), ('contact_lost', 'Kontakten förlorades'), ('other', 'Annat skäl')], db_default='', default='', max_length=32, verbose_name='orsak till avslut'),
        ),
        sql_per_vendor({"sqlite": owners.SQLITE_UP}, {"sqlite": owners.SQLITE_DOWN}),
    ]
