from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MethodConfig(AppConfig):
    name = "method"
    verbose_name = _("Metodstöd")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from cases import hooks
        from method import services
        from method.national import ensure_national_default
        from method.panels import register_panels

        post_migrate.connect(ensure_national_default, sender=self)

        hooks.on_case_created(services.checklist_bind)
        hooks.on_status_changing(services.status_gate)
        hooks.on_decision(services.decision_record)
        register_panels()
