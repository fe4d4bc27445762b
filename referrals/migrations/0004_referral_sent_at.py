from django.db import migrations, models

# Referrals sent before the time was kept: the document's time is the closest known, and a
# referral is sent after its document is ready.
BACKFILL = (
    "UPDATE referrals_referral SET sent_at = generated_at "
    "WHERE status IN ('sent', 'accepted', 'declined') AND sent_at IS NULL"
)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_referral_text_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
