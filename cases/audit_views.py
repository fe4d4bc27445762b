"""Log reviewer pages: search, per-case readers, per-user summary, the month's sample, CSV
export. Every row is shown in words and Swedish time (cases.audit_presentation)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from avhopp.audit import audit_event, audit_record
from avhopp.database import joined_by_lookup, planned_for_values
from avhopp.models import AuditAction, AuditEvent, User
from avhopp.spreadsheets import csv_lines
from avhopp.twofactor import require_recent_authentication
from cases import services
from cases.audit_forms import AuditSearchForm, SampleReviewForm, UserSummaryForm
from cases.audit_presentation import (
    LogRow,
    local_time,
    log_rows,
    role_words,
    sample_context,
    search_url,
)
from cases.audit_selectors import (
    MonthSample,
    audit_events_visible_to,
    case_readers,
    newest_touching_cases,
    sample_for,
    sampled_event,
    touching_cases,
    user_summary,
)
from cases.checkpoint import audit_case_page, case_view
from cases.policy import AuditLogAction, AuditLogPolicy, CaseAccess, CaseAction

# The export's columns: a header in the reader's language, and the row's attribute.
EXPORT_COLUMNS = [
    (gettext_lazy("Tid (svensk tid)"), "when_with_offset"),
    (gettext_lazy("Användare"), "username"),
    (gettext_lazy("Myndighet"), "agency"),
    (gettext_lazy("Roll"), "role"),
    (gettext_lazy("Händelse"), "action"),
    (gettext_lazy("Ärende"), "case"),
    (gettext_lazy("Objekt"), "object"),
    (gettext_lazy("IP-adress"), "ip_address"),
    (gettext_lazy("Begäran-id"), "request_id"),
    (gettext_lazy("Skäl"), "reason"),
    (gettext_lazy("Visade ärenden"), "shown_cases"),
]
EXPORT_CHUNK = 2000

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
    with joined_by_lookup():  # a search by case joins the lists that showed it
        rows = list(events[start : start + LOG_PAGE_SIZE + 1])
    return LogPage(rows[:LOG_PAGE_SIZE], page, len(rows) > LOG_PAGE_SIZE)


def _searched_events(
    request: HttpRequest, form: AuditSearchForm, *, paged: bool = True
) -> QuerySet[AuditEvent]:
    """The search's events, newest first; `paged` when a page of them is read (a case's
    events then come from newest_touching_cases, which a union makes final)."""
    AuditLogPolicy.check(request.user, AuditLogAction.SEARCH)
    events = audit_events_visible_to(request.user)
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    # A search by case or person reads those cases' events: both given, the cases of both.
    case_ids = None if data["case"] is None else [data["case"]]
    if data["person"] is not None:
        case_ids = [pk for pk in data["person"] if case_ids is None or pk in case_ids]
    if data["username"]:
        events = events.filter(username__iexact=data["username"])
    if data["action"]:
        events = events.filter(action=data["action"])
    start, end = form.period()
    if start:
        events = events.filter(occurred_at__gte=start)
    if end:
        events = events.filter(occurred_at__lt=end)
    if case_ids is not None and not case_ids:
        return events.none()
    if case_ids and paged:
        return newest_touching_cases(events, case_ids)
    if case_ids:
        events = events.filter(touching_cases(case_ids))
    return events.order_by("-occurred_at", "-id")


@login_required
@planned_for_values()
def audit_search_view(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET, user=request.user)
    events = _searched_events(request, form)
    page = log_page(events, request.GET.get("page"))
    rows = log_rows(request.user, page.object_list)
    audit_record(actor=request.user, action=AuditAction.AUDIT_VIEW)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@login_required
@require_recent_authentication
def audit_export_view(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET, user=request.user)
    events = _searched_events(request, form, paged=False)
    if form.errors:
        # Said before anything streams: a download cut short would look like a whole log.
        message = _("Loggen kunde inte exporteras. Rätta sökningen och försök igen.")
        return HttpResponse(
            f"{message}\n{form.error_text()}\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    audit_record(actor=request.user, action=AuditAction.AUDIT_EXPORT)
    rows = _export_rows(request.user, events, translation.get_language())
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="avhopp-logg.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _export_rows(user: User, events: QuerySet[AuditEvent], language: str) -> Iterator[list[str]]:
    """The header and the rows, in words in the reader's language, named a chunk at a time
    (each chunk's cases, people and users in one query each) as the export streams."""
    with translation.override(language):
        yield [str(header) for header, _attribute in EXPORT_COLUMNS]
        stream = events.prefetch_related("shown_cases").iterator(chunk_size=EXPORT_CHUNK)
        for chunk in _chunks(stream, EXPORT_CHUNK):
            shown = {event.pk: [row.case_id for row in event.shown_cases.all()] for event in chunk}
            for row in log_rows(user, chunk, shown=shown):
                yield [_export_value(row, attribute) for _, attribute in EXPORT_COLUMNS]


def _export_value(row: LogRow, attribute: str) -> str:
    if attribute == "when_with_offset":
        # With the offset: the hour the clocks go back happens twice in Swedish time.
        return f"{timezone.localtime(row.occurred_at):%Y-%m-%d %H:%M:%S %z}"
    return getattr(row, attribute)


def _chunks(items: Iterable[AuditEvent], size: int) -> Iterator[list[AuditEvent]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@case_view(CaseAction.VIEW_ACCESS_LOG)
def case_readers_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    event = audit_event(actor=request.user, action=AuditAction.AUDIT_VIEW, case_id=access.case.pk)
    audit_case_page(request, [event])
    page = log_page(case_readers(access.case), request.GET.get("page"))
    context = {
        "case": access.case,
        "page": page,
        "rows": log_rows(request.user, page.object_list),
        # Where the reader may go from here: the case itself and the log search by it, each
        # only if it opens for them.
        "case_url": access.case.get_absolute_url() if access.allows(CaseAction.VIEW) else "",
        "search_url": search_url(case=access.case.reference)
        if AuditLogPolicy.allows(request.user, AuditLogAction.SEARCH)
        else "",
    }
    return render(request, "audit/case_readers.html", context)


@dataclass(frozen=True)
class SummaryRow:
    username: str
    agency: str
    role: str
    events: int
    first: str
    last: str
    search_url: str


@login_required
@planned_for_values()
def audit_summary_view(request: HttpRequest) -> HttpResponse:
    """Per user: how many events in the period, and the first and last."""
    AuditLogPolicy.check(request.user, AuditLogAction.SEARCH)
    form = UserSummaryForm(request.GET)
    rows = []
    if form.is_valid():
        start, end = form.period()
        dates = {key: form.cleaned_data[key].isoformat() for key in ("date_from", "date_to")}
        rows = [
            SummaryRow(
                username=row.username,
                agency=row.agency,
                role=role_words(row.role),
                events=row.events,
                first=local_time(row.first),
                last=local_time(row.last),
                search_url=search_url(username=row.username, **dates),
            )
            for row in user_summary(request.user, start, end)
        ]
    audit_record(actor=request.user, action=AuditAction.AUDIT_VIEW, reason="summary")
    return render(
        request,
        "audit/summary.html",
        {"form": form, "rows": rows},
        status=400 if form.errors else 200,
    )


@login_required
def audit_sample_view(request: HttpRequest) -> HttpResponse:
    AuditLogPolicy.check(request.user, AuditLogAction.SEARCH)
    previous = request.GET.get("month") == "previous"
    return _sample_page(request, sample_for(request.user, previous=previous), previous)


def _sample_page(
    request: HttpRequest,
    sample: MonthSample,
    previous: bool,
    form: SampleReviewForm | None = None,
    failed: int | None = None,
) -> HttpResponse:
    audit_record(actor=request.user, action=AuditAction.AUDIT_VIEW, reason="sample")
    context = {
        **sample_context(request.user, sample),
        "previous": previous,
        "form": form,
        "failed": failed,
        "max_note": SampleReviewForm.base_fields["note"].max_length,
    }
    return render(request, "audit/sample.html", context, status=400 if form else 200)


@require_POST
@login_required
def audit_sample_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark an event of the sample reviewed. An event that is not in the reviewer's sample
    answers 404, as any object that is not theirs does."""
    previous = request.POST.get("month") == "previous"
    sample = sample_for(request.user, previous=previous)
    event = sampled_event(sample, pk)
    if event is None:
        raise Http404
    form = SampleReviewForm(request.POST)
    if not form.is_valid():
        return _sample_page(request, sample, previous, form=form, failed=pk)
    try:
        services.log_sample_review(by=request.user, event=event, note=form.cleaned_data["note"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Händelsen är markerad som granskad."))
    url = reverse("audit:sample")
    return redirect(f"{url}?month=previous" if previous else url)
