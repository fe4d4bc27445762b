from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Remisser")

    def ready(self) -> None:
        from referrals.panels import register_log_words, register_panels

        register_panels()
        register_log_words()
