"""The archive officer's gallring pages and legal holds; the responsible worker's extracts."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from avhopp.audit import audit_list, audit_record
from avhopp.models import AuditAction
from cases.checkpoint import case_view
from cases.policy import CaseAccess, CaseAction
from retention import documents, services
from retention.forms import ExtractForm, HoldForm, LiftForm
from retention.models import ItemOutcome
from retention.policy import ExtractPolicy, GallringAction, GallringPolicy


@require_safe
@login_required
def gallring_list_view(request: HttpRequest) -> HttpResponse:
    GallringPolicy.check(request.user, GallringAction.DECIDE)
    proposals = GallringPolicy.visible_to(request.user).select_related("decided_by")[:60]
    audit_record(actor=request.user, action=AuditAction.GALLRING_VIEW)
    return render(request, "retention/gallring_list.html", {"proposals": proposals})


@require_safe
@login_required
def proposal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A proposal by case reference: the archive officer sees no names and no case content.
    The references shown are logged like a list's, under each case."""
    proposal = get_object_or_404(GallringPolicy.visible_to(request.user), pk=pk)
    items = list(proposal.items.all())
    audit_list(
        actor=request.user,
        action=AuditAction.GALLRING_VIEW,
        case_ids=[item.case_id for item in items],
    )
    return render(
        request,
        "retention/proposal.html",
        {"proposal": proposal, "items": items, "deleted": ItemOutcome.DELETED},
    )


@require_POST
@login_required
def proposal_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = get_object_or_404(GallringPolicy.visible_to(request.user), pk=pk)
    try:
        services.gallring_approve(proposal=proposal, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Gallringen är beslutad och genomförs i bakgrunden."))
    return redirect("retention:proposal", pk=proposal.pk)


@require_http_methods(["GET", "POST"])
@login_required
def holds_view(request: HttpRequest) -> HttpResponse:
    GallringPolicy.check(request.user, GallringAction.DECIDE)
    form = HoldForm(request.POST or None)
    if form.is_valid():
        data = form.cleaned_data
        case = GallringPolicy.cases_in_care_of(request.user).filter(pk=data["case_number"])
        if not case.exists():
            form.add_error("case_number", _("Ert ärenderegister har inget sådant ärende."))
        else:
            try:
                services.legal_hold_place(
                    case=case.get(), by=request.user, kind=data["kind"], reason=data["reason"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Gallringsstoppet är satt."))
                return redirect("retention:holds")
    holds = GallringPolicy.holds_visible_to(request.user).filter(lifted_at__isnull=True)
    return render(
        request,
        "retention/holds.html",
        {"form": form, "holds": holds.select_related("case"), "lift_form": LiftForm()},
        status=400 if form.errors else 200,
    )


@require_POST
@login_required
def hold_lift_view(request: HttpRequest, pk: int) -> HttpResponse:
    hold = get_object_or_404(GallringPolicy.holds_visible_to(request.user), pk=pk)
    form = LiftForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Ange skälet till att gallringsstoppet hävs."))
        services.legal_hold_lift(hold=hold, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Gallringsstoppet är hävt."))
    return redirect("retention:holds")


@require_POST
@case_view(CaseAction.VIEW)
def extract_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = ExtractForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Välj utdrag och ange hur identiteten kontrollerades."))
        documents.extract_request(case=access.case, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Utdraget skapas. Lämna det till personen vid ett möte."))
    return redirect(access.case)


@require_safe
@login_required
def extract_download_view(request: HttpRequest, pk: int) -> HttpResponse:
    extract = get_object_or_404(ExtractPolicy.visible_to(request.user), pk=pk)
    try:
        content = documents.extract_hand_over(extract=extract, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(extract.case)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="utdrag-{extract.pk}.pdf"'
    return response
