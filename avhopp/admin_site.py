"""The admin site, apart from `avhopp.admin`: Django builds the default site by importing
this class, and a module that registers models on the site while it is being built would
register them on a site that is then thrown away."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from avhopp.redirects import safe_next


class AvhoppAdminSite(admin.AdminSite):
    """Active staff who have passed the second factor, signed in through the site's own
    login: the admin's password-only login form is never served."""

    site_header = _("Avhopp: administration för support")
    site_title = _("Avhopp: administration för support")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        # Checked here as well as in the middleware: development may switch the second
        # factor off for the application's pages, never for the admin.
        return bool(
            user.is_active and user.is_staff and getattr(user, "is_verified", lambda: False)()
        )

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        target = safe_next(request, reverse("admin:index", current_app=self.name))
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(target, settings.LOGIN_URL)
        if not user.is_verified():
            return redirect(f"{reverse('two_factor')}?{urlencode({'next': target})}")
        if self.has_permission(request):
            return redirect(target)
        raise Http404  # signed in, but the admin is not theirs
