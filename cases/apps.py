from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Ärenden")

    def ready(self) -> None:
        from cases.audit_presentation import register_log_words
        from cases.panels import register_panels

        register_panels()
        register_log_words()
