"""Log reviewer pages: search, per-case readers, CSV export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from itertools import chain

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from avhopp.audit import audit_event, audit_record
from avhopp.database import planned_for_values
from avhopp.models import AuditAction, AuditEvent
from avhopp.spreadsheets import csv_lines
from avhopp.twofactor import require_recent_authentication
from cases.audit_forms import AuditSearchForm
from cases.audit_selectors import audit_events_visible_to, case_readers, touching_case
from cases.checkpoint import audit_case_page, case_view
from cases.models import Individual
from cases.policy import AuditLogAction, AuditLogPolicy, CaseAccess, CaseAction

CSV_COLUMNS = [
    "occurred_at",
    "username",
    "agency_name",
    "role",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "individual_id",
    "ip_address",
    "request_id",
    "reason",
]


LOG_PAGE_SIZE = 50
# Page 2,000 is the log's 100,000th row: further back, a narrower search (a date range) finds it.
LOG_MAX_PAGE = 2000


@dataclass
class LogPage:
    """A page of the log with no total: the log runs to millions of rows, and a COUNT of every
    match would cost more the longer the log grows (at 20,000,000 events, a search's count
    read more than its page). One row past the page says whether there are more."""

    object_list: list[AuditEvent]
    number: int
    more: bool

    def has_next(self) -> bool:
        return self.more

    def has_previous(self) -> bool:
        return self.number > 1

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1


def log_page(events: QuerySet[AuditEvent], number: object) -> LogPage:
    """Page `number` (1 on anything but a whole number, at most LOG_MAX_PAGE) in one query."""
    try:
        page = min(max(1, int(str(number))), LOG_MAX_PAGE)
    except ValueError:
        page = 1
    start = (page - 1) * LOG_PAGE_SIZE
    rows = list(events[start : start + LOG_PAGE_SIZE + 1])
    return LogPage(rows[:LOG_PAGE_SIZE], page, len(rows) > LOG_PAGE_SIZE)


def _searched_events(request: HttpRequest, form: AuditSearchForm) -> QuerySet[AuditEvent]:
    AuditLogPolicy.check(request.user, AuditLogAction.SEARCH)
    events = audit_events_visible_to(request.user)
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["case"]:
        events = events.filter(touching_case(data["case"]))
    if data["personnummer"]:
        person = Individual.objects.filter(personnummer=data["personnummer"]).first()
        events = events.filter(individual_id=person.pk if person else -1)
    if data["username"]:
        events = events.filter(username__iexact=data["username"])
    if data["action"]:
        events = events.filter(action=data["action"])
    zone = timezone.get_current_timezone()
    if data["date_from"]:
        events = events.filter(occurred_at__gte=datetime.combine(data["date_from"], time(), zone))
    if data["date_to"]:
        end = datetime.combine(data["date_to"] + timedelta(days=1), time(), zone)
        events = events.filter(occurred_at__lt=end)
    return events.order_by("-occurred_at", "-id")


@login_required
@planned_for_values()
def audit_search_view(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    events = _searched_events(request, form)
    page = log_page(events, request.GET.get("page"))
    audit_record(actor=request.user, action=AuditAction.AUDIT_VIEW)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@login_required
@require_recent_authentication
def audit_export_view(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    events = _searched_events(request, form)
    if form.errors:
        # Said before anything streams: a download cut short would look like a whole log.
        message = _("Loggen kunde inte exporteras. Rätta sökningen och försök igen.")
        return HttpResponse(
            f"{message}\n{form.error_text()}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    audit_record(actor=request.user, action=AuditAction.AUDIT_EXPORT)
    rows = (
        [getattr(event, column) for column in CSV_COLUMNS]
        + [" ".join(str(shown.case_id) for shown in event.shown_cases.all())]
        for event in events.prefetch_related("shown_cases").iterator(chunk_size=2000)
    )
    response = StreamingHttpResponse(
        csv_lines(chain([[*CSV_COLUMNS, "shown_case_ids"]], rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="avhopp-logg.csv"'
    response["Cache-Control"] = "no-store"
    return response


@case_view(CaseAction.VIEW_ACCESS_LOG)
def case_readers_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    event = audit_event(actor=request.user, action=AuditAction.AUDIT_VIEW, case_id=access.case.pk)
    audit_case_page(request, [event])
    page = log_page(case_readers(access.case), request.GET.get("page"))
    return render(request, "audit/case_readers.html", {"case": access.case, "page": page})
