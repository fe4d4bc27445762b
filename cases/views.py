"""Case pages. Reads go through cases.selectors (via the checkpoint), writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from avhopp.audit import audit_list
from avhopp.database import planned_for_values
from avhopp.models import AuditAction
from avhopp.panels import panels_for
from avhopp.redirects import safe_next
from avhopp.spreadsheets import XLSX_CONTENT_TYPE, csv_lines, xlsx_file
from avhopp.twofactor import require_recent_authentication
from cases import services
from cases.checkpoint import audit_case_read, case_view, outside_reason_key
from cases.exports import case_table, export_filename
from cases.forms import (
    CaseDetailsForm,
    CaseFilterForm,
    CaseForm,
    ConsentForm,
    IndividualEditForm,
    IndividualForm,
    InterventionForm,
    JournalEntryForm,
    ReasonForm,
    ShareForm,
    StatusChangeForm,
    TeamMemberForm,
    ThreatAssessmentForm,
)
from cases.masking import shown_identity
from cases.models import CaseTeamMember, ConsentScope, Intervention, JournalEntry
from cases.page import case_sections, consents_in_force
from cases.parts import PAGE_SIZE as PARTS_PAGE_SIZE
from cases.parts import PARTS, THREAT_ASSESSMENTS
from cases.policy import SECTION_ACTIONS, CaseAccess, CaseAction, CasePolicy
from cases.presentation import case_rows
from cases.reasons import reason_is_fresh, remember_reason
from cases.selectors import (
    EXPORT_MAX_CASES,
    JOURNAL_EXTRACTS_SHOWN,
    CaseFilters,
    case_export_ids,
    case_list,
    case_page,
    get_case_for_user,
    journal_extracts_of,
    sharing_of_case,
    team_candidates,
)

PAGE_SIZE = 25


def _reveal_key(individual_pk: int) -> str:
    return f"reveal:{individual_pk}"


def _revealed(request: HttpRequest, access: CaseAccess) -> bool:
    """Whether this reader has revealed the case's protected identity, recently enough."""
    return access.allows(CaseAction.REVEAL_IDENTITY) and reason_is_fresh(
        request, _reveal_key(access.case.individual_id)
    )


@login_required
@planned_for_values()
def case_list_view(request: HttpRequest) -> HttpResponse:
    CasePolicy.check(request.user, CaseAction.LIST)
    form = CaseFilterForm(request.GET or None)
    filters = CaseFilters(**_filter_values(form))
    page = case_page(request.user, filters, request.GET.get("page"), size=PAGE_SIZE)
    action = AuditAction.CASE_SEARCH if filters.query else AuditAction.CASE_LIST
    rows = case_rows(page.object_list)
    audit_list(actor=request.user, action=action, case_ids=[case.pk for case in page.object_list])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        # Not for a filter the form refuses: the list then shows every case, and the export
        # refuses rather than guess.
        "may_export": CasePolicy.allows(request.user, CaseAction.EXPORT) and not form.errors,
    }
    return render(request, "cases/case_list.html", context)


@login_required
@require_safe
@require_recent_authentication
@planned_for_values()
def case_export_view(request: HttpRequest, kind: str) -> HttpResponse:
    """The list as it is filtered, every page of it, as CSV (streamed) or Excel."""
    CasePolicy.check(request.user, CaseAction.EXPORT)
    form = CaseFilterForm(request.GET or None)
    back = _list_url(request)
    if form.is_bound and not form.is_valid():
        # An unusable filter would export every case: say so rather than guess.
        messages.error(request, _("Listan kunde inte exporteras. Rätta filtret och försök igen."))
        return redirect(back)
    ids = case_export_ids(request.user, CaseFilters(**_filter_values(form)))
    if ids is None:
        messages.error(
            request,
            _("Fler än %(max)s ärenden matchar. Begränsa listan med filtret och exportera igen.")
            % {"max": EXPORT_MAX_CASES},
        )
        return redirect(back)
    audit_list(actor=request.user, action=AuditAction.CASE_EXPORT, case_ids=ids, reason=kind)
    table = case_table(request.user, ids, language=request.LANGUAGE_CODE)
    if kind == "xlsx":
        return FileResponse(
            xlsx_file(table, sheet=_("Ärenden")),
            as_attachment=True,
            filename=export_filename("xlsx"),
            content_type=XLSX_CONTENT_TYPE,
        )
    response = StreamingHttpResponse(
        csv_lines(table, bom=True), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename("csv")}"'
    return response


# The longest query sent back to the list with a message: the list's own links are far
# shorter, and a hand-made one of any length must not make the redirect fail.
_BACK_QUERY_LIMIT = 2000


def _list_url(request: HttpRequest) -> str:
    query = request.GET.urlencode()
    url = reverse("cases:list")
    return f"{url}?{query}" if query and len(query) <= _BACK_QUERY_LIMIT else url


def _filter_values(form: CaseFilterForm) -> dict[str, str]:
    if not form.is_bound or not form.is_valid():
        return {}
    data = form.cleaned_data
    return {
        "query": data["q"],
        "status": data["status"],
        "threat_level": data["threat_level"],
        "intervention_kind": data["intervention_kind"],
        "overdue": data["overdue"],
        "order": data["order"] or CaseFilters.order,
    }


@login_required
@require_http_methods(["GET", "POST"])
@planned_for_values()
def case_create_view(request: HttpRequest) -> HttpResponse:
    """Search first, so a person already registered is found rather than duplicated."""
    CasePolicy.check(request.user, CaseAction.CREATE)
    search_form = CaseFilterForm(request.GET or None)
    matches = []
    if search_form.is_bound and search_form.is_valid() and search_form.cleaned_data["q"]:
        found = case_list(request.user, CaseFilters(query=search_form.cleaned_data["q"]))
        found = found.select_related("individual")[:10]
        matches = [(case, shown_identity(case.individual)) for case in found]
        audit_list(
            actor=request.user,
            action=AuditAction.CASE_SEARCH,
            case_ids=[case.pk for case, _identity in matches],
        )
    refuses_numbers = request.method == "POST" and not CasePolicy.may_try_identity_numbers(
        request.user
    )
    individual_form = IndividualForm(
        request.POST or None, prefix="person", refuses_numbers=refuses_numbers
    )
    case_form = CaseForm(request.POST or None, prefix="case")
    if request.method == "POST":
        valid = individual_form.is_valid() & case_form.is_valid()
        if individual_form.refused_registration():
            services.identity_collision_record(
                by=request.user, registered=individual_form.registered
            )
        if valid:
            try:
                with transaction.atomic():
                    individual = services.individual_create(
                        by=request.user, **individual_form.cleaned_data
                    )
                    case = services.case_create(
                        by=request.user, individual=individual, **case_form.cleaned_data
                    )
            except services.IdentityNumberTaken as taken:
                individual_form.add_error(None, taken)
                services.identity_collision_record(by=request.user, registered=taken.registered)
            else:
                messages.success(
                    request, _("Ärendet %(ref)s är upplagt.") % {"ref": case.reference}
                )
                return redirect(case)
    return render(
        request,
        "cases/case_create.html",
        {
            "search_form": search_form,
            "matches": matches,
            "searched": bool(search_form.is_bound and request.GET.get("q")),
            "individual_form": individual_form,
            "case_form": case_form,
        },
        status=400 if request.method == "POST" else 200,
    )


@case_view(CaseAction.VIEW)
def case_detail_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    return _case_page(request, access)


def _case_page(
    request: HttpRequest,
    access: CaseAccess,
    *,
    status_form: StatusChangeForm | None = None,
    journal_form: JournalEntryForm | None = None,
) -> HttpResponse:
    """The case page; a status or journal form sent back with errors stands open on it."""
    case = access.case
    revealed = _revealed(request, access)
    shown = [part for part in PARTS.values() if part.shown_to(access)]
    if status_form is None and case.is_open:
        status_form = StatusChangeForm(current_status=case.status)
    context = {
        "access": access,
        "case": case,
        "identity": shown_identity(case.individual, revealed=revealed),
        "may_edit": access.allows(CaseAction.EDIT),
        "may_read_owner_details": access.allows(CaseAction.READ_OWNER_DETAILS),
        "may_share": access.allows(CaseAction.SHARE),
        "may_reveal": case.individual.is_protected
        and access.allows(CaseAction.REVEAL_IDENTITY)
        and not revealed,
        "may_assess": access.allows(CaseAction.ADD_THREAT_ASSESSMENT),
        "may_view_access_log": access.allows(CaseAction.VIEW_ACCESS_LOG),
        "sees_threat_details": access.allows(CaseAction.VIEW_THREAT_DETAILS),
        "status_form": status_form,
        "journal_form": journal_form or JournalEntryForm(),
        "shown": {part.name for part in shown},
        **{part.name: part.preview(access) for part in shown},
        "journal_extracts": list(journal_extracts_of(access)[:JOURNAL_EXTRACTS_SHOWN]),
    }
    context["consents"], context["shares"] = sharing_of_case(access)
    context["consents_in_force"] = consents_in_force(context["consents"])
    panels = panels_for("case_detail", request, access)
    context["sections"] = case_sections(access, shown, panels)
    audit_case_read(request, access, threat_details=THREAT_ASSESSMENTS in shown)
    sent_back = (status_form is not None and status_form.is_bound) or journal_form is not None
    return render(request, "cases/case_detail.html", context, status=400 if sent_back else 200)


@case_view(CaseAction.VIEW)
@require_safe
def case_part_view(request: HttpRequest, access: CaseAccess, part_name: str) -> HttpResponse:
    """All of one part of a case, newest first, a page at a time."""
    part = PARTS[part_name]
    if part.scope is not None:
        access.check(SECTION_ACTIONS[part.scope])
    number = request.GET.get("page")
    if (wanted := _int_or_none(request.GET.get("visa"))) is not None:
        number = part.page_number_of(access, wanted) or number
    page = Paginator(part.read(access), PARTS_PAGE_SIZE).get_page(number)
    audit_case_read(request, access, threat_details=part is THREAT_ASSESSMENTS)
    return render(
        request,
        "cases/case_part.html",
        {
            "access": access,
            "case": access.case,
            "part": part,
            "page": page,
            "items": part.rows(page.object_list),
            "first_is_current": page.number == 1,
            "may_edit": access.allows(CaseAction.EDIT),
            "sees_threat_details": access.allows(CaseAction.VIEW_THREAT_DETAILS),
        },
    )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else None


@login_required
@require_http_methods(["GET", "POST"])
def outside_reason_view(request: HttpRequest, case_pk: int) -> HttpResponse:
    access = get_case_for_user(request.user, case_pk, CaseAction.VIEW)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.outside_assignment_read(access=access, reason=form.reason_text)
        remember_reason(request, outside_reason_key(access.case.pk))
        return redirect(safe_next(request, access.case.get_absolute_url()))
    return render(
        request,
        "cases/reason.html",
        {
            "form": form,
            "case": access.case,
            "title": _("Läsning utanför ditt uppdrag"),
            "intro": _(
                "Du är inte ansvarig handläggare för ärendet. Ange varför du behöver läsa det. "
                "Skälet loggas."
            ),
            "next": request.GET.get("next", ""),
        },
        status=400 if request.method == "POST" else 200,
    )


@case_view(CaseAction.MANAGE_TEAM)
@require_http_methods(["GET", "POST"])
def team_add_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = TeamMemberForm(request.POST or None, candidates=team_candidates(access))
    if request.method == "POST" and form.is_valid():
        member = form.cleaned_data["user"]
        try:
            services.case_team_add(case=access.case, member=member, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(user)s är med i ärendets team.") % {"user": member})
            return redirect(f"{access.case.get_absolute_url()}#team")
    return _form_page(request, access, form, _("Lägg till i ärendets team"))


@case_view(CaseAction.MANAGE_TEAM)
@require_POST
def team_remove_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    membership = get_object_or_404(
        CaseTeamMember.objects.select_related("user", "case"), pk=pk, case=access.case
    )
    services.case_team_remove(membership=membership, by=request.user)
    messages.success(
        request,
        _("%(user)s är inte längre med i ärendets team.") % {"user": membership.user},
    )
    return redirect(f"{access.case.get_absolute_url()}#team")


@case_view(CaseAction.REVEAL_IDENTITY)
@require_recent_authentication
@require_http_methods(["GET", "POST"])
def reveal_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.identity_reveal(access=access, reason=form.reason_text)
        remember_reason(request, _reveal_key(access.case.individual_id))
        return redirect(access.case)
    return render(
        request,
        "cases/reason.html",
        {
            "form": form,
            "case": access.case,
            "title": _("Visa skyddade personuppgifter"),
            "intro": _(
                "Personen har skyddade personuppgifter. Ange varför du behöver se "
                "personnummer och adress. Visningen loggas."
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def case_edit_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    case = access.case
    initial = {
        "motivation_notes": case.motivation_notes,
        "agreement_signed_on": case.agreement_signed_on,
        "agreement_conditions": case.agreement_conditions,
    }
    form = CaseDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.case_update(case=case, by=request.user, **form.cleaned_data)
        messages.success(request, _("Ärendet är sparat."))
        return redirect(case)
    return _form_page(request, access, form, _("Ändra ärendeuppgifter"))


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def individual_edit_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    person = access.case.individual
    shows_protected = not person.is_protected or _revealed(request, access)
    form = IndividualEditForm(
        request.POST or None, instance=person, shows_protected=shows_protected
    )
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed:
            services.individual_update(
                individual=person, by=request.user, case=access.case, **changed
            )
        messages.success(request, _("Personuppgifterna är sparade."))
        return redirect(access.case)
    if not shows_protected:
        messages.info(
            request, _("Visa de skyddade uppgifterna först för att ändra adress och telefon.")
        )
    return _form_page(request, access, form, _("Ändra personuppgifter"))


@case_view(CaseAction.EDIT)
@require_POST
def status_change_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = StatusChangeForm(request.POST, current_status=access.case.status)
    if form.is_valid():
        try:
            services.case_change_status(
                case=access.case,
                to_status=form.cleaned_data["to_status"],
                reason=form.cleaned_data["reason"],
                end_reason=form.cleaned_data["end_reason"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Status är ändrad."))
            return redirect(access.case)
    return _case_page(request, access, status_form=form)


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def intervention_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = InterventionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:  # a decision date is a decision on support, within one's delegation only
            services.intervention_create(case=access.case, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Insatsen är tillagd."))
            return redirect(access.case)
    return _form_page(request, access, form, _("Ny insats"))


@case_view(CaseAction.EDIT)
@require_http_methods(["GET", "POST"])
def intervention_edit_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    intervention = get_object_or_404(Intervention, pk=pk, case=access.case)
    initial = {name: getattr(intervention, name) for name in InterventionForm.base_fields}
    form = InterventionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.intervention_update(
                intervention=intervention, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Insatsen är sparad."))
            return redirect(access.case)
    return _form_page(request, access, form, _("Ändra insats"))


@case_view(CaseAction.EDIT)
@require_POST
def journal_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = JournalEntryForm(request.POST)
    if form.is_valid():
        corrects = None
        if form.cleaned_data["corrects"]:
            corrects = get_object_or_404(
                JournalEntry, pk=form.cleaned_data["corrects"], case=access.case
            )
        services.journal_entry_create(
            case=access.case, by=request.user, text=form.cleaned_data["text"], corrects=corrects
        )
        messages.success(request, _("Anteckningen är sparad."))
        return redirect(f"{access.case.get_absolute_url()}#journal")
    return _case_page(request, access, journal_form=form)


@case_view(CaseAction.ADD_THREAT_ASSESSMENT)
@require_http_methods(["GET", "POST"])
def threat_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = ThreatAssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.threat_assessment_create(
            case=access.case,
            by=request.user,
            **{name: form.cleaned_data[name] for name in ThreatAssessmentForm.Meta.fields},
        )
        messages.success(request, _("Hotbedömningen är sparad."))
        return redirect(access.case)
    return _form_page(request, access, form, _("Ny hotbedömning"))


@case_view(CaseAction.SHARE)
@require_http_methods(["GET", "POST"])
def consent_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = ConsentForm(request.POST or None, owning_agency=access.case.owning_agency)
    if request.method == "POST" and form.is_valid():
        services.consent_create(
            individual=access.case.individual,
            case=access.case,
            by=request.user,
            **{name: form.cleaned_data[name] for name in ConsentForm.Meta.fields},
        )
        messages.success(request, _("Samtycket är registrerat."))
        return redirect(access.case)
    return _form_page(request, access, form, _("Registrera samtycke"))


@case_view(CaseAction.SHARE)
@require_POST
def consent_withdraw_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    consent = get_object_or_404(access.case.individual.consents, pk=pk, withdrawn_at__isnull=True)
    services.consent_withdraw(consent=consent, by=request.user, case=access.case)
    messages.success(
        request, _("Samtycket är återkallat och delningar som vilar på det är borttagna.")
    )
    return redirect(access.case)


@case_view(CaseAction.SHARE)
@require_http_methods(["GET", "POST"])
def share_create_view(request: HttpRequest, access: CaseAccess) -> HttpResponse:
    form = ShareForm(request.POST or None, case=access.case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_share(
                case=access.case,
                agency=data["agency"],
                by=request.user,
                consent=data["consent"],
                legal_basis=data["legal_basis"],
                legal_basis_citation=data["legal_basis_citation"],
                scopes=frozenset(ConsentScope(s) for s in data["scopes"]),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Ärendet är delat med %(agency)s.") % data)
            return redirect(access.case)
    return _form_page(request, access, form, _("Dela ärendet"))


@case_view(CaseAction.SHARE)
@require_POST
def share_revoke_view(request: HttpRequest, access: CaseAccess, pk: int) -> HttpResponse:
    share = get_object_or_404(access.case.shares, pk=pk, revoked_at__isnull=True)
    services.case_unshare(share=share, by=request.user)
    messages.success(
        request, _("Delningen med %(agency)s är borttagen.") % {"agency": share.agency}
    )
    return redirect(access.case)


def _form_page(request: HttpRequest, access: CaseAccess, form, title: str) -> HttpResponse:
    return render(
        request,
        "cases/form_page.html",
        {"form": form, "case": access.case, "title": title},
        status=400 if form.is_bound and form.errors else 200,
    )
