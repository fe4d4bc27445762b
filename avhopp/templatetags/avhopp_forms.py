"""`{% error_title_prefix %}`: "Fel: " before the page's title while a form on it has errors,
so that a screen reader says so first and the browser's tab shows it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.forms import BaseForm
from django.utils.translation import gettext as _

register = template.Library()

# A form sits in the context itself, in a list of (url, title, form) (a relocation's steps) or
# in a panel's dict (the case page): two levels down is enough. Only lists, tuples and dicts
# are looked into, so no query set is evaluated here.
_DEPTH = 2


def _has_errors(values: Iterable[Any], depth: int) -> bool:
    for value in values:
        if isinstance(value, BaseForm):
            if value.is_bound and value.errors:
                return True
        elif depth and isinstance(value, list | tuple):
            if _has_errors(value, depth - 1):
                return True
        elif depth and isinstance(value, dict) and _has_errors(value.values(), depth - 1):
            return True
    return False


@register.simple_tag(takes_context=True)
def error_title_prefix(context: template.Context) -> str:
    return _("Fel:") + " " if _has_errors(context.flatten().values(), _DEPTH) else ""
