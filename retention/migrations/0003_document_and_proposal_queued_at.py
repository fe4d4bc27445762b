"""The requeuers' clock on the extracts, the archive exports and the gallring proposals: when
each job was last published. Rows already there count from the migration, so what a broker
outage left queued before it is published again by the first runs."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('retention', '0002_retention_rules'),
    ]

    operations = [
        migrations.AddField(
            model_name='archiveexport',
            name='queued_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='extract',
            name='queued_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='gallringproposal',
            name='queued_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddIndex(
            model_name='archiveexport',
            index=models.Index(condition=models.Q(('status', 'queued')), fields=['queued_at'], name='archive_export_queued'),
        ),
        migrations.AddIndex(
            model_name='extract',
            index=models.Index(condition=models.Q(('status', 'queued')), fields=['queued_at'], name='extract_queued'),
        ),
        migrations.AddIndex(
            model_name='gallringproposal',
            index=models.Index(condition=models.Q(('status', 'approved')), fields=['queued_at'], name='proposal_approved'),
        ),
    ]
