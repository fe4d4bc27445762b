from __future__ import annotations

import sys

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avhopp import invitations, services
from avhopp.celery import app as celery_app
from avhopp.database import planned_for_values
from avhopp.forms import InvitationPasswordForm, LoginForm
from avhopp.models import IdentityProvider
from avhopp.oidc import provider_sign_out_url
from avhopp.panels import panels_for
from avhopp.twofactor import SSO_SESSION


@login_required
@planned_for_values()
def home_view(request: HttpRequest) -> HttpResponse:
    return render(request, "avhopp/home.html", {"panels": panels_for("start", request)})


class SignInView(LoginView):
    """Password and second factor, or the agencies' identity providers to choose from."""

    form_class = LoginForm

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        providers = IdentityProvider.objects.filter(enabled=True).select_related("agency")
        return super().get_context_data(**kwargs) | {"providers": providers.order_by("agency")}


INVITATION_SESSION = "avhopp_invitation"


@never_cache
@sensitive_post_parameters("new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest) -> HttpResponse:
    """The invitation's link: the user chooses their password, then signs in and sets up
    the second factor. The link's token moves into the session at once, so it stays out of
    the address bar, the history and any Referer."""
    if "t" in request.GET:
        request.session[INVITATION_SESSION] = [request.GET.get("u", ""), request.GET["t"]]
        return redirect("invitation")
    uid, token = request.session.get(INVITATION_SESSION) or ["", ""]
    user = invitations.invited_user(str(uid), str(token))
    if user is None:
        context = {"invalid": invitations.LINK_INVALID}
        return render(request, "registration/invitation.html", context, status=400)
    form = InvitationPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                uid=uid, token=token, password=form.cleaned_data["new_password1"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            logout(request)  # whoever was signed in here, the invited user signs in anew
            messages.success(request, _("Ditt lösenord är valt. Logga in med det."))
            return redirect("login")
    return render(
        request,
        "registration/invitation.html",
        {"form": form, "invited": user},
        status=400 if form.errors else 200,
    )


@never_cache
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    """End the Avhopp session; after a provider's sign-in, offer to end that one too (its
    session may outlive ours, on a shared computer)."""
    sso = request.session.get(SSO_SESSION)
    sign_out_url = provider_sign_out_url(request, sso) if sso else ""
    logout(request)
    if not sign_out_url:
        return redirect("login")
    return render(request, "registration/logged_out.html", {"sign_out_url": sign_out_url})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool:
    if celery_app.conf.task_always_eager:
        return True  # the embedded default has no broker to be down
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@never_cache
@require_GET
def healthz_view(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if _database_ok() else "down",
        "broker": "ok" if _broker_ok() else "down",
    }
    if celery_app.conf.task_always_eager:
        checks["broker"] = "eager"
    healthy = all(state in {"ok", "eager"} for state in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
    )


def server_error_view(request: HttpRequest) -> HttpResponse:
    """Errors answer with a plain page and no traceback; a database outage with 503.

    Called by Django inside its exception handler, so the exception is still current. The
    templates extend nothing and need no database, since that may be what failed.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(render_to_string("500.html"), status=500)
