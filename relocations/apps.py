from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RelocationsConfig(AppConfig):
    name = "relocations"
    verbose_name = _("Omplaceringar")

    def ready(self) -> None:
        from relocations.panels import register_log_words, register_panels

        register_panels()
        register_log_words()
