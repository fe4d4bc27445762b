"""The admin's app config, apart from `avhopp.admin` because it is loaded before the models."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class AvhoppAdminConfig(AdminConfig):
    default_site = "avhopp.admin_site.AvhoppAdminSite"

    def ready(self) -> None:
        super().ready()  # every app's admin module is imported here
        from avhopp.admin import unregister_unneeded

        unregister_unneeded()
        # The support group is kept in step on every migrate, so a deployment never runs
        # without it or with permissions someone added by hand.
        post_migrate.connect(_support_group, sender=self, dispatch_uid="avhopp_support_group")


def _support_group(sender: Any, using: str = "default", **kwargs: Any) -> None:
    from django.contrib.auth.models import Group
    from django.db import router

    from avhopp.admin import ensure_support_group

    # Not in a database without the auth tables (the national register's).
    if router.allow_migrate_model(using, Group):
        ensure_support_group(using=using)
