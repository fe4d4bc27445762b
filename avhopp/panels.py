"""Sections that an app adds to a page another app owns: the start page shows what each app has
waiting for the user, the case page the case's referrals. The page's own app then imports
nothing of the app that adds to it, and each section is read only for a user who may see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.functional import Promise


@dataclass(frozen=True)
class PanelLink:
    """How a page that links to its sections (the case page) links to the panel."""

    anchor: str  # the id of the panel's first element
    title: str | Promise


@dataclass(frozen=True)
class Panel:
    template: str
    # The template's context for this request and the page's subject (None: nothing to show).
    context: Callable[[HttpRequest, Any], dict[str, Any] | None]
    link: PanelLink | None = None


_PANELS: dict[str, list[Panel]] = {}


def register(page: str, panel: Panel) -> None:
    """Called from an app's `AppConfig.ready()`."""
    _PANELS.setdefault(page, []).append(panel)


def panels_for(page: str, request: HttpRequest, subject: Any = None) -> list[dict[str, Any]]:
    """The page's panels that have something to show, in the order registered: each its
    context, with its template and link under "template" and "link"."""
    shown = []
    for panel in _PANELS.get(page, []):
        context = panel.context(request, subject)
        if context is not None:
            shown.append({"template": panel.template, "link": panel.link, **context})
    return shown
