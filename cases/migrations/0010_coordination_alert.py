from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('avhopp', '0005_audit_action_admin_change'),
        ('cases', '0009_text_length_limits'),
    ]

    operations = [
        migrations.CreateModel(
            name='CoordinationAlert',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='skapad')),
                ('seen_at', models.DateTimeField(blank=True, null=True, verbose_name='sedd')),
                ('case', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='coordination_alerts', to='cases.case', verbose_name='ärende')),
                ('from_agency', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='avhopp.agency', verbose_name='från myndighet')),
            ],
            options={
                'verbose_name': 'samordningslarm',
                'verbose_name_plural': 'samordningslarm',
                'indexes': [models.Index(fields=['case', '-created_at'], name='alert_case_time')],
            },
        ),
    ]
