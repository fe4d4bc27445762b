"""Each user's notifications: the list, opening one (which marks it read and leads on to the
page it names, whose own policy decides again), and marking them all read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from avhopp import notifications
from avhopp.policy import NotificationPolicy

PAGE_SIZE = 25


@login_required
@require_GET
def notification_list_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(NotificationPolicy.visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "avhopp/notifications.html", {"page": page})


@login_required
@require_GET
def notification_open_view(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(NotificationPolicy.visible_to(request.user), pk=pk)
    return redirect(notifications.notification_open(notification=notification, by=request.user))


@login_required
@require_POST
def notification_read_all_view(request: HttpRequest) -> HttpResponse:
    notifications.notifications_read_all(by=request.user)
    messages.success(request, _("Alla notiser är markerade som lästa."))
    return redirect("notifications:list")
