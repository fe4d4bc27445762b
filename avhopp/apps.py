from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AvhoppConfig(AppConfig):
    name = "avhopp"
    verbose_name = _("Avhopp: myndigheter, användare och logg")

    def ready(self) -> None:
        from avhopp import signals  # noqa: F401  (connects the login audit receivers)
        from avhopp.user_states import register_panels

        register_panels()
