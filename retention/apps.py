from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "retention"
    verbose_name = _("Gallring och utdrag")

    def ready(self) -> None:
        from retention.panels import register_log_words, register_panels

        register_panels()
        register_log_words()
