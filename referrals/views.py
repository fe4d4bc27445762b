"""Referral pages: create from a case, follow progress, download, send, answer."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avhopp.audit import audit_list, audit_record
from avhopp.database import planned_for_values
from avhopp.models import AuditAction
from avhopp.storage import document_response
from cases.checkpoint import case_view, outside_reason_redirect
from cases.policy import CaseAccess, CaseAction
from referrals import services
from referrals.forms import AnswerForm, ReferralForm, ReferralOverviewForm, SipForm
from referrals.models import DocumentKind, Referral, ReferralStatus
from referrals.policy import ReferralAction, ReferralPolicy
from referrals.presentation import overview_rows, sort_columns
from referrals.selectors import get_referral_for_user, referral_overview


@case_view(CaseAction.REFER)
@require_http_methods(["GET", "POST"])
def referral_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    return _create(request, access, ReferralForm, DocumentKind.REFERRAL, _("Ny remiss"))


@case_view(CaseAction.REFER)
@require_http_methods(["GET", "POST"])
def sip_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    return _create(request, access, SipForm, DocumentKind.SIP, _("Ny SIP"))


def _create(request, access: CaseAccess, form_class, kind: DocumentKind, title: str):
    form = form_class(request.POST or None, case=access.case)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_create(
                case=access.case, by=request.user, kind=kind, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(referral)
    return render(
        request,
        "cases/form_page.html",
        {"form": form, "case": access.case, "title": title},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def referral_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk, ReferralAction.VIEW)
    if gate := outside_reason_redirect(request, referral.case):
        return gate
    audit_record(
        actor=request.user,
        action=AuditAction.REFERRAL_VIEW,
        obj=referral,
        case_id=referral.case_id,
    )
    may_answer = ReferralPolicy.allows(request.user, ReferralAction.ANSWER, referral)
    answer_form = AnswerForm() if may_answer and referral.status == ReferralStatus.SENT else None
    return _detail(request, referral, answer_form)


def _detail(
    request: HttpRequest, referral: Referral, answer_form: AnswerForm | None, status: int = 200
) -> HttpResponse:
    allows = partial(ReferralPolicy.allows, request.user, referral=referral)
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "is_sender": referral.from_agency_id == request.user.agency_id,
            "may_send": allows(ReferralAction.SEND),
            "may_verify": allows(ReferralAction.VERIFY),
            "answer_form": answer_form,
        },
        status=status,
    )


@never_cache
@require_GET
@login_required
def referral_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    referral = get_referral_for_user(request.user, pk, ReferralAction.VIEW)
    return JsonResponse(
        {
            "status": referral.status,
            "label": referral.status_label,
            "pending": referral.is_pending,
        }
    )


@never_cache
@require_GET
@login_required
def referral_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk, ReferralAction.VIEW)
    return _document(request, referral, as_attachment=True)


@never_cache
@require_GET
@login_required
# Shown inside the confirmation page, so framed by this site alone (CSP and X-Frame-Options).
@xframe_options_sameorigin
@csp_replace({"frame-ancestors": ["'self'"]})
def referral_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The document about to be sent, shown in the browser rather than downloaded."""
    referral = get_referral_for_user(request.user, pk, ReferralAction.SEND)
    return _document(request, referral, as_attachment=False)


def _document(request: HttpRequest, referral: Referral, *, as_attachment: bool) -> HttpResponse:
    """The stored PDF, after the outside-assignment reason; every read is logged."""
    if gate := outside_reason_redirect(request, referral.case):
        return gate
    if not referral.document_path:
        return HttpResponse(_("Dokumentet är inte klart."), status=409)
    audit_record(
        actor=request.user,
        action=AuditAction.DOCUMENT_DOWNLOAD,
        obj=referral,
        case_id=referral.case_id,
        reason="" if as_attachment else "preview",
    )
    return document_response(
        referral.document_path, filename=f"{referral.reference}.pdf", as_attachment=as_attachment
    )


@require_POST
@login_required
def referral_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _sender_action(request, pk, services.referral_retry, _("Remissen är köad igen."))


@login_required
@require_http_methods(["GET", "POST"])
def referral_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step, the document shown as it will be sent; POST (its "Skicka"
    button, with the step's token): send it."""
    if request.method == "POST":
        return _sender_action(
            request,
            pk,
            partial(services.referral_send, confirmation=request.POST.get("confirmation", "")),
            _("Remissen är skickad."),
        )
    referral = get_referral_for_user(request.user, pk, ReferralAction.SEND)
    if gate := outside_reason_redirect(request, referral.case):
        return gate
    audit_record(
        actor=request.user,
        action=AuditAction.REFERRAL_VIEW,
        obj=referral,
        case_id=referral.case_id,
        reason="send_confirmation",
    )
    refusal = services.send_refusal(referral)
    token = "" if refusal else services.send_confirmation_token(referral=referral, by=request.user)
    return render(
        request,
        "referrals/send_confirm.html",
        {"referral": referral, "refusal": refusal, "confirmation": token},
        status=409 if refusal else 200,
    )


def _sender_action(
    request: HttpRequest, pk: int, action: Callable[..., None], done: str
) -> HttpResponse:
    """A state change only the sending agency's coordinators may make."""
    referral = get_referral_for_user(request.user, pk, ReferralAction.SEND)
    try:
        action(referral=referral, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect(referral)


@require_POST
@login_required
def referral_answer_view(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk, ReferralAction.ANSWER)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.referral_answer(
                referral=referral,
                by=request.user,
                accepted=form.cleaned_data["decision"] == "accept",
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Svaret är skickat."))
            return redirect(referral)
    return _detail(request, referral, form, status=400)


# Each sortable column and the way it sorts when first chosen.
SORTABLE_COLUMNS = {"case": "case", "date": "-date", "waiting": "-waiting"}
OVERVIEW_PAGE_SIZE = 25


@login_required
@planned_for_values()
def referral_dashboard_view(request: HttpRequest) -> HttpResponse:
    """Every referral sent or received, as a table filtered and sorted by the query string."""
    ReferralPolicy.check(request.user, ReferralAction.LIST)
    form = ReferralOverviewForm(request.GET or None, user=request.user)
    filters = form.filters()
    page = Paginator(referral_overview(request.user, filters), OVERVIEW_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit_list(
        actor=request.user,
        action=AuditAction.REFERRAL_LIST,
        case_ids=[referral.case_id for referral in page.object_list],
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "referrals/dashboard.html",
        {
            "form": form,
            "page": page,
            "rows": overview_rows(page.object_list, request.user.agency_id),
            "query": query.urlencode(),
            "sort": sort_columns(query, filters.order, SORTABLE_COLUMNS),
        },
        status=400 if form.errors else 200,
    )
