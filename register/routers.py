"""The national register lives in a database of its own: its app's models there and nowhere
else, no other app's there, and no relation between the two (a join would tie a pseudonymised
record back to the case it came from)."""

from __future__ import annotations

from typing import Any

from django.db import models

REGISTER_APP = "register"
REGISTER_DB = "register"


def _in_register(model: type[models.Model] | models.Model) -> bool:
    return model._meta.app_label == REGISTER_APP


class RegisterRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        return REGISTER_DB if _in_register(model) else None

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return REGISTER_DB if _in_register(model) else None

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        if _in_register(obj1) or _in_register(obj2):
            return _in_register(obj1) and _in_register(obj2)
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if app_label == REGISTER_APP:
            return db == REGISTER_DB
        if db == REGISTER_DB:
            return False
        return None
