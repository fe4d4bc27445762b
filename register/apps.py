from __future__ import annotations

from django.apps import AppConfig


class RegisterConfig(AppConfig):
    name = "register"
    verbose_name = "Nationellt register"
