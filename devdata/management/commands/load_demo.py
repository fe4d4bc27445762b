"""Demo agencies, one user per role, and a few cases. Safe to run again: it adds nothing twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from devdata.demo import DEMO_PASSWORD, SUPPORT, USERS, load_demo


class Command(BaseCommand):
    help = f"Load demo agencies, users (password {DEMO_PASSWORD}) and cases. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("Demo data is never loaded in production.")
        load_demo()
        self.stdout.write(
            f"Demo users (password {DEMO_PASSWORD}; one-time codes: "
            "`.venv/bin/python manage.py totp_code <user>`, or add the key "
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ to an authenticator app):"
        )
        for username, *_rest, role in USERS:
            self.stdout.write(f"  {username:<15} {role.label}")
        self.stdout.write(f"  {SUPPORT:<15} Django admin (support staff)")
