"""Research extracts: the researcher's requests and downloads, the national coordinator's
decisions, and the build's progress."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.storage import document_response
from research import services
from research.forms import DecisionForm, ExtractRequestForm
from research.policy import ExtractAction, ExtractPolicy
from research.selectors import extracts_visible_to, get_extract_for_user


@require_GET
@login_required
def list_view(request: HttpRequest) -> HttpResponse:
    ExtractPolicy.check(request.user, ExtractAction.LIST)
    extracts = extracts_visible_to(request.user).select_related("research_agency")[:200]
    may_request = ExtractPolicy.allows(request.user, ExtractAction.REQUEST)
    return render(request, "research/list.html", {"extracts": extracts, "may_request": may_request})


@require_http_methods(["GET", "POST"])
@login_required
def request_view(request: HttpRequest) -> HttpResponse:
    ExtractPolicy.check(request.user, ExtractAction.REQUEST)
    form = ExtractRequestForm(request.POST or None)
    if form.is_valid():
        try:
            extract = services.extract_request(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Begäran är skickad till den nationella samordningen."))
            return redirect(extract)
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "research/request.html", {"form": form}, status=status)


@require_GET
@login_required
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    extract = get_extract_for_user(request.user, pk, ExtractAction.VIEW)
    audit_record(actor=request.user, action=AuditAction.EXTRACT_VIEW, obj=extract)
    may_decide = ExtractPolicy.allows(request.user, ExtractAction.DECIDE, extract)
    context = {
        "extract": extract,
        "decision_form": DecisionForm() if may_decide else None,
        "may_download": ExtractPolicy.allows(request.user, ExtractAction.DOWNLOAD, extract),
        "is_requester": extract.requested_by_id == request.user.pk,
    }
    return render(request, "research/detail.html", context)


@require_POST
@login_required
def decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    extract = get_extract_for_user(request.user, pk, ExtractAction.DECIDE)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.extract_decide(
                extract=extract,
                by=request.user,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Beslutet är registrerat."))
            return redirect(extract)
    context = {"extract": extract, "decision_form": form, "is_requester": False}
    return render(request, "research/detail.html", context, status=400)


@never_cache
@require_GET
@login_required
def status_view(request: HttpRequest, pk: int) -> JsonResponse:
    extract = get_extract_for_user(request.user, pk, ExtractAction.VIEW)
    return JsonResponse(
        {
            "status": extract.status,
            "label": f"{extract.status_label} ({extract.progress} %)",
            "pending": extract.is_pending,
        }
    )


@never_cache
@require_GET
@login_required
def download_view(request: HttpRequest, pk: int) -> HttpResponse:
    extract = get_extract_for_user(request.user, pk, ExtractAction.DOWNLOAD)
    kind = request.GET.get("format", "csv")
    if kind not in services.FORMATS:
        return HttpResponse(_("Okänt format."), status=400)
    if not ExtractPolicy.allows(request.user, ExtractAction.DOWNLOAD, extract):
        expired = extract.expires_at is not None and timezone.now() >= extract.expires_at
        if expired and extract.requested_by_id == request.user.pk:
            return HttpResponse(_("Länken gällde i 24 timmar och har gått ut."), status=410)
        audit_record(actor=request.user, action=AuditAction.ACCESS_DENIED, obj=extract)
        return HttpResponse(_("Uttaget kan inte laddas ned."), status=403)
    audit_record(
        actor=request.user, action=AuditAction.RESEARCH_EXTRACT_DOWNLOAD, obj=extract, reason=kind
    )
    return document_response(
        services.document_name(extract, kind),
        filename=f"{extract.reference}.{services.EXTENSIONS[kind]}",
        content_type=services.FORMATS[kind],
    )
