"""Method pages: a case's checklist steps, the checklist templates and the delegation order.
Case pages pass the checkpoint (cases.checkpoint); the others ask method.policy."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.storage import document_response
from cases.checkpoint import case_view
from cases.policy import CaseAccess, CaseAction
from method import services
from method.calendar import agreement_calendar
from method.followup import anchor
from method.forms import (
    AgreementForm,
    DelegationForm,
    EntryForm,
    OutcomeForm,
    SignForm,
    StepForm,
    TemplateStepForm,
)
from method.links import parse_links
from method.models import Agreement, CaseStep, ChecklistTemplate, StepTemplate
from method.policy import DelegationPolicy, MethodAction, MethodPolicy
from method.selectors import agreements_of, calendar_events, outcomes_of, template_overview


def _form_status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def step_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    case_step = get_object_or_404(
        CaseStep.objects.select_related("step"), pk=pk, checklist__case=access.case
    )
    form = StepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["outcome"] == StepForm.WAIVE:
                services.step_waive(
                    case_step=case_step,
                    case=access.case,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                )
            else:
                services.step_complete(case_step=case_step, case=access.case, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Steget är avklarat."))
            return redirect(f"{access.case.get_absolute_url()}#method")
    context = {
        "form": form,
        "case": access.case,
        "case_step": case_step,
        "links": parse_links(case_step.step.links),
    }
    return render(request, "method/step.html", context, status=_form_status(form))


def _edited_template(request: HttpRequest) -> ChecklistTemplate:
    """The template the user's agency keeps (404 before a municipality has copied one)."""
    MethodPolicy.check(request.user, MethodAction.EDIT_TEMPLATE)
    return get_object_or_404(MethodPolicy.editable_by(request.user))


def _edited_step(request: HttpRequest, pk: int) -> StepTemplate:
    """404 for a step of a template the user does not keep."""
    return get_object_or_404(
        StepTemplate.objects.select_related("version__template"),
        pk=pk,
        version__template__in=MethodPolicy.editable_by(request.user),
    )


@login_required
@require_safe
def templates_view(request: HttpRequest) -> HttpResponse:
    MethodPolicy.check(request.user, MethodAction.READ_TEMPLATES)
    return render(request, "method/templates.html", template_overview(request.user))


@login_required
@require_POST
def template_copy_view(request: HttpRequest) -> HttpResponse:
    try:
        services.template_copy(by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Kommunens egen mall är skapad som utkast."))
    return redirect("method:templates")


@login_required
@require_http_methods(["GET", "POST"])
def template_step_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Change a step of the edited template (`pk`), or add one."""
    step = _edited_step(request, pk) if pk is not None else None
    template = step.version.template if step else _edited_template(request)
    initial = {f: getattr(step, f) for f in TemplateStepForm.base_fields} if step else {}
    form = TemplateStepForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.template_step_save(
                by=request.user, template=template, step=step, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Steget är sparat i utkastet."))
            return redirect("method:templates")
    context = {"form": form, "template": template, "step": step}
    return render(request, "method/template_step.html", context, status=_form_status(form))


@login_required
@require_POST
def template_step_remove_view(request: HttpRequest, pk: int) -> HttpResponse:
    step = _edited_step(request, pk)
    try:
        services.template_step_remove(by=request.user, template=step.version.template, step=step)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Steget är borttaget ur utkastet."))
    return redirect("method:templates")


@login_required
@require_POST
def template_publish_view(request: HttpRequest) -> HttpResponse:
    template = _edited_template(request)
    try:
        version = services.template_publish(by=request.user, template=template)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Version %(number)d är publicerad. Nya ärenden får den; pågående behåller sin.")
            % {"number": version.number},
        )
    return redirect("method:templates")


@login_required
@require_http_methods(["GET", "POST"])
def delegations_view(request: HttpRequest) -> HttpResponse:
    MethodPolicy.check(request.user, MethodAction.MANAGE_DELEGATIONS)
    form = DelegationForm(
        request.POST or None, delegates=DelegationPolicy.delegates_for(request.user)
    )
    if request.method == "POST" and form.is_valid():
        services.delegation_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("Delegeringen är sparad."))
        return redirect("method:delegations")
    delegations = DelegationPolicy.visible_to(request.user).select_related("user")
    context = {"form": form, "delegations": delegations, "today": timezone.localdate()}
    return render(request, "method/delegations.html", context, status=_form_status(form))


@login_required
@require_POST
def delegation_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    delegation = get_object_or_404(DelegationPolicy.visible_to(request.user), pk=pk)
    services.delegation_end(by=request.user, delegation=delegation)
    messages.success(request, _("Delegeringen är avslutad."))
    return redirect("method:delegations")


def _agreement(access: CaseAccess, pk: int) -> Agreement:
    return get_object_or_404(agreements_of(access), pk=pk)


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def agreement_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    current = agreements_of(access).filter(ended_on__isnull=True).first()
    form = AgreementForm(request.POST or None, initial=AgreementForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agreement = services.agreement_create(
                case=access.case,
                by=request.user,
                start_date=data["start_date"],
                review_date=data["review_date"],
                police_party=data["police_party"],
                conditions=form.conditions(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Överenskommelsen är sparad. Dokumentet skapas."))
            return redirect("method:agreement", access.case.pk, agreement.pk)
    title = _("Ny version av överenskommelsen") if current else _("Ny överenskommelse")
    return render(
        request,
        "cases/form_page.html",
        {"form": form, "case": access.case, "title": title},
        status=_form_status(form),
    )


@case_view(CaseAction.READ_OWNER_DETAILS)
@require_safe
def agreement_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    return _agreement_page(request, access, _agreement(access, pk))


def _agreement_page(
    request: HttpRequest, access: CaseAccess, agreement: Agreement, entry_form=None
) -> HttpResponse:
    may_edit = access.allows(CaseAction.EDIT)
    if may_edit and entry_form is None:
        entry_form = EntryForm(agreement=agreement)
    context = {
        "case": access.case,
        "agreement": agreement,
        "conditions": list(agreement.conditions.all()),
        "entries": list(agreement.entries.select_related("condition", "recorded_by")),
        "history": list(agreements_of(access).exclude(pk=agreement.pk)),
        "may_edit": may_edit,
        "entry_form": entry_form if may_edit else None,
        "sign_form": SignForm() if may_edit and agreement.is_current else None,
    }
    return render(
        request,
        "method/agreement.html",
        context,
        status=400 if entry_form and entry_form.errors else 200,
    )


@case_view(CaseAction.EDIT)
@require_POST
def agreement_sign_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    agreement = _agreement(access, pk)
    form = SignForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors["signed_on"])
        services.agreement_sign(
            agreement=agreement,
            case=access.case,
            by=request.user,
            signed_on=form.cleaned_data["signed_on"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Överenskommelsen är undertecknad."))
    return redirect("method:agreement", access.case.pk, agreement.pk)


@case_view(CaseAction.EDIT)
@require_POST
def agreement_entry_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    agreement = _agreement(access, pk)
    form = EntryForm(request.POST, agreement=agreement)
    if form.is_valid():
        try:
            services.agreement_entry_add(
                agreement=agreement, case=access.case, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Anteckningen är sparad."))
            return redirect("method:agreement", access.case.pk, agreement.pk)
    return _agreement_page(request, access, agreement, entry_form=form)


@never_cache
@case_view(CaseAction.READ_OWNER_DETAILS)
@require_safe
def agreement_pdf_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    agreement = _agreement(access, pk)
    if not agreement.document_ready:
        return HttpResponse(_("Dokumentet är inte klart."), status=409)
    audit_record(
        actor=request.user,
        action=AuditAction.DOCUMENT_DOWNLOAD,
        obj=agreement,
        case_id=access.case.pk,
    )
    return document_response(
        agreement.document_path, filename=f"{access.case.reference}-overenskommelse.pdf"
    )


@never_cache
@case_view(CaseAction.READ_OWNER_DETAILS)
@require_safe
def agreement_status_view(request: HttpRequest, access: CaseAccess, pk: int) -> JsonResponse:
    """Polled by static/js/referral-status.js while the document is made; no case content."""
    ready = _agreement(access, pk).document_ready
    label = _("Klart") if ready else _("Dokumentet skapas")
    return JsonResponse({"pending": not ready, "label": label})


@never_cache
@login_required
@require_safe
def calendar_view(request: HttpRequest) -> HttpResponse:
    """The meetings and review dates of the user's own cases, as iCalendar, without names or
    case content in the events."""
    events = calendar_events(request.user)
    audit_record(actor=request.user, action=AuditAction.CALENDAR_EXPORT, reason=str(len(events)))
    response = HttpResponse(
        agreement_calendar(events, base_url=request.build_absolute_uri("/")),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="avhopp.ics"'
    response["Cache-Control"] = "no-store"
    return response


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def outcome_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    """Record the outcomes of one follow-up point (`?manader=`) that has come."""
    point = next(
        (p for p in outcomes_of(access).due if str(p.months) == request.GET.get("manader")), None
    )
    if point is None:
        raise Http404
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.outcome_record(
            case=access.case, by=request.user, months=point.months, **form.cleaned_data
        )
        messages.success(request, _("Resultatet är registrerat."))
        return redirect(f"{access.case.get_absolute_url()}#outcomes")
    title = _("Resultat %(months)d månader %(anchor)s") % {
        "months": point.months,
        "anchor": anchor().label,
    }
    return render(
        request,
        "cases/form_page.html",
        {"form": form, "case": access.case, "title": title},
        status=_form_status(form),
    )
