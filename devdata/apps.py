from __future__ import annotations

from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Development data: the demo loader, the load-test seed and the national dataset.

    Installed only when DJANGO_ENV is not production (avhopp/settings.py) and left out of the
    production image; nothing in avhopp, cases or referrals imports it.
    """

    name = "devdata"
    verbose_name = "Development data"
