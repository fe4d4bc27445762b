"""A referral may rest on a legal basis with a citation instead of a consent, as a share may."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="legal_basis",
            field=models.CharField(
                blank=True,
                choices=[
                    ("osl_10_2", "OSL 10 kap. 2 § (nödvändigt för att fullgöra verksamheten)"),
                    ("osl_10_28", "OSL 10 kap. 28 § (uppgiftsskyldighet enligt lag)"),
                    ("osl_10_21", "OSL 10 kap. 21-23 §§ (misstanke om brott)"),
                    ("rf_necessity", "Nöd: fara för liv eller hälsa"),
                ],
                max_length=32,
                verbose_name="rättslig grund",
            ),
        ),
        migrations.AddField(
            model_name="referral",
            name="legal_basis_citation",
            field=models.CharField(blank=True, max_length=300, verbose_name="hänvisning"),
        ),
    ]
