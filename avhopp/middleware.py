from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from avhopp.audit import RequestContext, audit_record, request_context
from avhopp.models import AuditAction
from avhopp.twofactor import signed_in

Handler = Callable[[HttpRequest], HttpResponse]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContextMiddleware:
    """Give each request an id and remember where it came from, for the audit log."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # A proxy's request id is kept only if it is plainly an id; otherwise we make one.
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex
        context = RequestContext(ip_address=request.META.get("REMOTE_ADDR"), request_id=request_id)
        token = request_context.set(context)
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


# Reached without reading the session: the health check reports an outage, not suffers it.
_NO_SESSION_PREFIXES = ("/healthz",)

SESSION_STARTED = "avhopp_started"
SESSION_SEEN = "avhopp_seen"
SESSION_GENERATION = "avhopp_generation"
# "Last seen" is written at most once a minute, so reading a page does not write the session.
SEEN_PRECISION_SECONDS = 60


class SessionLimitsMiddleware:
    """Idle and absolute session timeouts, and ending all of a user's sessions at once.

    Deactivated users are already refused by the authentication backend on their next request.
    Every answer to a signed-in user is also marked private and never stored: a shared or
    seized computer's browser cache must not keep a revealed identity, a journal or a PDF.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(_NO_SESSION_PREFIXES):
            return self.get_response(request)  # must answer even when the database is down
        signed_in = request.user.is_authenticated
        response = self._limited(request)
        # Also the answer that signs someone in: the user is known only after the view.
        if signed_in or request.user.is_authenticated:
            # Merged into what the view set, so a download's own no-store stays.
            patch_cache_control(response, no_store=True, private=True)
        return response

    def _limited(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.setdefault(SESSION_STARTED, now)
            seen = session.get(SESSION_SEEN, now)
            generation = session.setdefault(SESSION_GENERATION, user.session_generation)
            if (
                now - seen > settings.SESSION_IDLE_SECONDS
                or now - started > settings.SESSION_ABSOLUTE_SECONDS
                or generation != user.session_generation
            ):
                audit_record(actor=user, action=AuditAction.SESSION_EXPIRED)
                logout(request)
                messages.info(request, _("Du har loggats ut. Logga in igen."))
                return redirect(f"{reverse('login')}?{urlencode({'next': request.path})}")
            if now - seen > SEEN_PRECISION_SECONDS or SESSION_SEEN not in session:
                session[SESSION_SEEN] = now
        return self.get_response(request)


# Pages reachable before the second factor is verified.
_OPEN_PREFIXES = ("/logga-in/", "/logga-ut/", "/tvafaktor/", "/i18n/", "/static/", "/healthz")


class SecondFactorMiddleware:
    """Nothing but the login steps until the user has passed their second factor."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not request.path.startswith(_OPEN_PREFIXES)
            and request.user.is_authenticated
            and not signed_in(request)
        ):
            url = reverse("two_factor")
            return redirect(f"{url}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class ChosenLanguageMiddleware:
    """Swedish unless the user chose English with the language switch.

    The browser's Accept-Language is ignored on purpose: staff in Swedish agencies get the
    Swedish interface whatever their browser happens to be set to.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# Header values that are stored (the login-lockout records keep them) and their column sizes.
_STORED_HEADERS = {"HTTP_USER_AGENT": 255, "HTTP_ACCEPT": 1025}


class HeaderHygieneMiddleware:
    """Trim stored request headers to their columns and drop NUL bytes, which PostgreSQL
    text cannot hold: a hostile header must never turn a login into a server error."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for header, limit in _STORED_HEADERS.items():
            value = request.META.get(header)
            if value is not None:
                request.META[header] = value.replace("\x00", "")[:limit]
        return self.get_response(request)
