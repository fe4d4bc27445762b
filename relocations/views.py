"""Relocation pages: the request from a case, one page per relocation with the forms of the
steps the reader may take now, a POST view per step, the agreement and the overview."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from avhopp.audit import audit_record
from avhopp.models import AuditAction
from avhopp.storage import document_response
from cases.checkpoint import case_view, outside_reason_redirect
from cases.masking import shown_identity
from cases.policy import CaseAccess, CaseAction
from relocations import forms as step_forms
from relocations import services
from relocations.audit import relocation_audit
from relocations.models import (
    OPEN_STATUSES,
    Clearance,
    OfferStatus,
    PlacementAgreement,
    Relocation,
    RelocationStatus,
)
from relocations.policy import RelocationAction, RelocationPolicy
from relocations.selectors import (
    blind_request,
    destination_of,
    get_relocation_for_user,
    relocation_figures,
    relocation_totals,
    relocations_visible_to,
)


@case_view(CaseAction.RELOCATE)
@require_http_methods(["GET", "POST"])
def request_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = step_forms.RequestForm(request.POST or None, case=access.case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            relocation = services.relocation_request(case=access.case, by=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Omplaceringen är begärd."))
            return redirect(relocation)
    return render(
        request,
        "cases/form_page.html",
        {"form": form, "case": access.case, "title": _("Begär omplacering")},
        status=400 if form.is_bound and form.errors else 200,
    )


@dataclass(frozen=True)
class Step:
    """A step's form: who may take it, from which steps of the relocation, and what it does."""

    form: type[forms.Form]
    action: RelocationAction
    statuses: frozenset[str]
    run: Callable[[Relocation, Any, forms.Form], None]
    done: str
    # The candidates the form chooses among, for the user (None: no candidate).
    candidates: Callable[[Any, Relocation], Any] | None = None


def _to_clear(user: Any, relocation: Relocation) -> Any:
    return RelocationPolicy.candidates_visible_to(user, relocation).filter(
        police_agency_id=user.agency_id, clearance=""
    )


def _to_offer(user: Any, relocation: Relocation) -> Any:
    return RelocationPolicy.candidates_visible_to(user, relocation).filter(
        clearance=Clearance.CLEARED, offer=""
    )


def _offered_to(user: Any, relocation: Relocation) -> Any:
    return RelocationPolicy.candidates_visible_to(user, relocation).filter(
        municipality_id=user.agency_id, offer=OfferStatus.SENT
    )


_MATCHABLE = frozenset({RelocationStatus.MATCHING, RelocationStatus.CLEARANCE})

STEPS: dict[str, Step] = {
    "avoid": Step(
        step_forms.AvoidForm,
        RelocationAction.ADD_AVOIDED_PLACE,
        _MATCHABLE,
        lambda r, user, f: services.avoided_place_add(
            relocation=r, by=user, place=f.place, reason=f.cleaned_data["reason"]
        ),
        gettext_lazy("Platsen att undvika är sparad."),
    ),
    "propose": Step(
        step_forms.ProposeForm,
        RelocationAction.PROPOSE,
        frozenset({RelocationStatus.MATCHING}),
        lambda r, user, f: services.candidates_propose(
            relocation=r, by=user, municipalities=list(f.cleaned_data["municipalities"])
        ),
        gettext_lazy("Kommunerna är föreslagna och väntar på polisens klarering."),
    ),
    "clearance": Step(
        step_forms.ClearanceForm,
        RelocationAction.VIEW,
        frozenset({*_MATCHABLE, RelocationStatus.OFFERED}),
        lambda r, user, f: services.clearance_answer(
            candidate=f.cleaned_data["candidate"],
            by=user,
            cleared=f.cleaned_data["decision"] == Clearance.CLEARED,
            reason=f.cleaned_data["reason"],
        ),
        gettext_lazy("Bedömningen är sparad."),
        _to_clear,
    ),
    "offer": Step(
        step_forms.OfferForm,
        RelocationAction.SEND_OFFER,
        _MATCHABLE,
        lambda r, user, f: services.offer_send(candidate=f.cleaned_data["candidate"], by=user),
        gettext_lazy("Erbjudandet är skickat."),
        _to_offer,
    ),
    "offer_answer": Step(
        step_forms.OfferAnswerForm,
        RelocationAction.VIEW,
        frozenset({RelocationStatus.OFFERED}),
        lambda r, user, f: services.offer_answer(
            candidate=_offered_to(user, r).get(),
            by=user,
            accepted=f.cleaned_data["decision"] == "accept",
            intake_contact=f.cleaned_data["intake_contact"],
            decline_reason=f.cleaned_data["decline_reason"],
        ),
        gettext_lazy("Svaret är skickat."),
    ),
    "placement": Step(
        step_forms.PlacementForm,
        RelocationAction.ARRANGE,
        frozenset({RelocationStatus.ACCEPTED}),
        lambda r, user, f: services.placement_record(relocation=r, by=user, **f.cleaned_data),
        gettext_lazy("Placeringen är ordnad. Placeringsavtalet skapas."),
    ),
    "moved": Step(
        step_forms.MovedForm,
        RelocationAction.ARRANGE,
        frozenset({RelocationStatus.ARRANGED}),
        lambda r, user, f: services.move_confirm(relocation=r, by=user, **f.cleaned_data),
        gettext_lazy("Flytten är bekräftad."),
    ),
    "handover": Step(
        step_forms.HandoverForm,
        RelocationAction.REQUEST_HANDOVER,
        frozenset({RelocationStatus.MOVED}),
        lambda r, user, f: services.handover_request(relocation=r, by=user, **f.cleaned_data),
        gettext_lazy("Överlämningen är begärd."),
    ),
    "handover_answer": Step(
        step_forms.HandoverAnswerForm,
        RelocationAction.ARRANGE,
        frozenset({RelocationStatus.HANDOVER}),
        lambda r, user, f: services.handover_answer(
            relocation=r,
            by=user,
            accepted=f.cleaned_data["decision"] == "accept",
            reason=f.cleaned_data["reason"],
        ),
        gettext_lazy("Svaret på överlämningen är sparat."),
    ),
    "ivo": Step(
        step_forms.IvoForm,
        RelocationAction.REQUEST_HANDOVER,
        frozenset({RelocationStatus.DISPUTED}),
        lambda r, user, f: services.ivo_record(relocation=r, by=user, **f.cleaned_data),
        gettext_lazy("Ansökan till IVO är registrerad."),
    ),
    "abort": Step(
        step_forms.AbortForm,
        RelocationAction.ABORT,
        OPEN_STATUSES,
        lambda r, user, f: services.relocation_abort(relocation=r, by=user, **f.cleaned_data),
        gettext_lazy("Omplaceringen är avbruten."),
    ),
}


TITLES = {
    "avoid": gettext_lazy("Plats att undvika"),
    "propose": gettext_lazy("Föreslå kommuner"),
    "clearance": gettext_lazy("Polisens klarering"),
    "offer": gettext_lazy("Skicka erbjudande"),
    "offer_answer": gettext_lazy("Besvara erbjudandet"),
    "placement": gettext_lazy("Ordna placeringen"),
    "moved": gettext_lazy("Bekräfta flytten"),
    "handover": gettext_lazy("Begär överlämning av ärendet"),
    "handover_answer": gettext_lazy("Besvara överlämningen"),
    "ivo": gettext_lazy("Ansökan till IVO"),
    "abort": gettext_lazy("Avbryt omplaceringen"),
}


def _form_of(name: str, user: Any, relocation: Relocation, data: Any = None) -> Any:
    """The step's form if the user may take it now, else None."""
    step = STEPS[name]
    if relocation.status not in step.statuses or not RelocationPolicy.allows(
        user, step.action, relocation
    ):
        return None
    if step.candidates is not None:
        candidates = step.candidates(user, relocation)
        return step.form(data, candidates=candidates) if candidates.exists() else None
    if name == "offer_answer":
        return step.form(data) if _offered_to(user, relocation).exists() else None
    if step.form in (step_forms.AvoidForm, step_forms.ProposeForm):
        return step.form(data, relocation=relocation)
    return step.form(data)


@login_required
@require_GET
def detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    relocation = get_relocation_for_user(request.user, pk, RelocationAction.VIEW)
    if gate := _reason_gate(request, relocation):
        return gate
    return _detail(request, relocation)


def _reason_gate(request: HttpRequest, relocation: Relocation) -> HttpResponse | None:
    # The sending side reads the person's case through it: the case's own rule applies.
    if RelocationPolicy.allows(request.user, RelocationAction.VIEW_IDENTITY, relocation):
        return outside_reason_redirect(request, relocation.case)
    return None


def _detail(
    request: HttpRequest, relocation: Relocation, bound: dict[str, Any] | None = None
) -> HttpResponse:
    user = request.user
    relocation_audit(actor=user, action=AuditAction.RELOCATION_VIEW, relocation=relocation)
    allows = {
        action.value: RelocationPolicy.allows(user, action, relocation)
        for action in RelocationAction
    }
    step_forms_shown = {name: _form_of(name, user, relocation) for name in STEPS}
    step_forms_shown.update(bound or {})
    agreement = PlacementAgreement.objects.filter(relocation=relocation).first()
    context = {
        "relocation": relocation,
        "allows": allows,
        "blind": blind_request(user, relocation),
        "identity": shown_identity(relocation.case.individual)
        if allows[RelocationAction.VIEW_IDENTITY]
        else None,
        "destination": destination_of(user, relocation),
        "candidates": list(
            RelocationPolicy.candidates_visible_to(user, relocation).select_related("municipality")
        ),
        "steps": list(relocation.steps.all()),
        "figures": relocation_figures(relocation)
        if allows[RelocationAction.VIEW_FIGURES]
        else None,
        "forms": [
            (f"relocations:{name}", TITLES[name], form)
            for name, form in step_forms_shown.items()
            if form is not None
        ],
        "agreement": agreement if agreement and agreement.is_ready else None,
    }
    return render(request, "relocations/detail.html", context, status=400 if bound else 200)


def _step_view(name: str) -> Callable[[HttpRequest, int], HttpResponse]:
    @require_POST
    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        step = STEPS[name]
        relocation = get_relocation_for_user(request.user, pk, step.action)
        form = _form_of(name, request.user, relocation, request.POST)
        if form is None:
            messages.error(request, _("Det steget går inte att ta nu."))
            return redirect(relocation)
        if form.is_valid():
            try:
                step.run(relocation, request.user, form)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, step.done)
            return redirect(relocation)
        return _detail(request, relocation, bound={name: form})

    view.__name__ = f"{name}_view"
    return view


avoid_view = _step_view("avoid")
propose_view = _step_view("propose")
clearance_view = _step_view("clearance")
offer_view = _step_view("offer")
offer_answer_view = _step_view("offer_answer")
placement_view = _step_view("placement")
moved_view = _step_view("moved")
handover_view = _step_view("handover")
handover_answer_view = _step_view("handover_answer")
ivo_view = _step_view("ivo")
abort_view = _step_view("abort")


@never_cache
@require_GET
@login_required
def agreement_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The sending side gets its copy, without the address."""
    relocation = get_relocation_for_user(request.user, pk, RelocationAction.DOWNLOAD_AGREEMENT)
    if gate := _reason_gate(request, relocation):
        return gate
    agreement = PlacementAgreement.objects.filter(relocation=relocation).first()
    if agreement is None or not agreement.is_ready:
        return HttpResponse(_("Avtalet är inte klart."), status=409)
    full = RelocationPolicy.allows(
        request.user, RelocationAction.VIEW_DESTINATION_ADDRESS, relocation
    )
    relocation_audit(
        actor=request.user,
        action=AuditAction.DOCUMENT_DOWNLOAD,
        relocation=relocation,
        reason="agreement:full" if full else "agreement:sending",
    )
    return document_response(
        agreement.full_path if full else agreement.sending_path,
        filename=f"{relocation.reference}-avtal.pdf",
    )


@login_required
@require_GET
def list_view(request: HttpRequest) -> HttpResponse:
    """The reader's relocations by reference and step (never a destination); the national
    coordinator's with the totals."""
    RelocationPolicy.check(request.user, RelocationAction.LIST)
    audit_record(actor=request.user, action=AuditAction.RELOCATION_VIEW, reason="list")
    relocations = relocations_visible_to(request.user).order_by("-requested_at", "-pk")[:200]
    totals = None
    if RelocationPolicy.allows(request.user, RelocationAction.VIEW_FIGURES):
        totals = relocation_totals(request.user)
    return render(request, "relocations/list.html", {"relocations": relocations, "totals": totals})
