"""Phase checklists: the national default and a municipality's versioned copy, required steps
holding a case in its phase, waivers with reasons, and the case page's checklist."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from avhopp.models import Agency, AuditAction, AuditEvent, Role, User
from cases import services
from cases.models import Case, CaseStatus
from devdata.factories import advance
from method import services as method_services
from method.models import (
    CaseStep,
    ChecklistTemplate,
    Phase,
    StepState,
    StepTemplate,
)
from method.services import open_required_steps

pytestmark = pytest.mark.django_db


def _step(case: Case, title: str) -> CaseStep:
    return CaseStep.objects.select_related("step").get(checklist__case=case, step__title=title)


def test_a_new_case_is_worked_under_the_national_default(case: Case) -> None:
    national = ChecklistTemplate.objects.get(agency__isnull=True)
    version = national.versions.get()
    assert case.checklist.version == version
    assert case.checklist.steps.count() == version.steps.count() > 10
    phases = set(version.steps.values_list("phase", flat=True))
    assert phases == set(Phase.values)
    titles = set(version.steps.values_list("title", flat=True))
    assert {"Gemensamt möte med polisen", "SIP när flera aktörer är inblandade"} <= titles


def test_required_steps_hold_the_case_until_done_or_waived(case: Case, worker: User) -> None:
    services.case_change_status(case=case, to_status=CaseStatus.INITIAL_ASSESSMENT, by=worker)
    with pytest.raises(ValidationError) as refused:
        services.case_change_status(case=case, to_status=CaseStatus.INVESTIGATION, by=worker)
    assert "Gemensamt möte med polisen" in refused.value.messages[0]
    case.refresh_from_db()
    assert case.status == CaseStatus.INITIAL_ASSESSMENT
    assert case.status_changes.count() == 2  # the refused change was rolled back

    open_steps = open_required_steps(case, case.status)
    for case_step in open_steps[:-1]:
        method_services.step_complete(case_step=case_step, case=case, by=worker)
    method_services.step_waive(
        case_step=open_steps[-1], case=case, by=worker, reason="Polisen gjorde den muntligt"
    )
    services.case_change_status(case=case, to_status=CaseStatus.INVESTIGATION, by=worker)
    case.refresh_from_db()
    assert case.status == CaseStatus.INVESTIGATION


def test_decision_steps_are_done_before_support_and_closure_steps_before_closing(
    case: Case, worker: User
) -> None:
    advance(case, worker, CaseStatus.INITIAL_ASSESSMENT)
    advance(case, worker, CaseStatus.INVESTIGATION)
    assert {s.step.phase for s in open_required_steps(case, case.status)} == {
        Phase.INVESTIGATION,
        Phase.DECISION,
    }
    advance(case, worker, CaseStatus.INTERVENTIONS)
    advance(case, worker, CaseStatus.FOLLOW_UP)
    assert {s.step.phase for s in open_required_steps(case, case.status)} == {
        Phase.FOLLOW_UP,
        Phase.CLOSURE,
    }
    with pytest.raises(ValidationError):
        services.case_change_status(case=case, to_status=CaseStatus.CLOSED, by=worker, reason="x")


def test_dropping_out_is_never_held_by_the_checklist(case: Case, worker: User) -> None:
    services.case_change_status(case=case, to_status=CaseStatus.INITIAL_ASSESSMENT, by=worker)
    services.case_change_status(
        case=case, to_status=CaseStatus.DROPPED_OUT, by=worker, reason="Avbröt kontakten"
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.DROPPED_OUT


def test_a_waiver_needs_a_reason_and_is_logged_without_it(case: Case, worker: User) -> None:
    case_step = _step(case, "SIP när flera aktörer är inblandade")
    with pytest.raises(ValidationError, match="varför steget undantas"):
        method_services.step_waive(case_step=case_step, case=case, by=worker, reason="  ")
    method_services.step_waive(
        case_step=case_step, case=case, by=worker, reason="Bara socialtjänsten är inblandad"
    )
    case_step.refresh_from_db()
    assert (case_step.state, case_step.settled_by) == (StepState.WAIVED, worker)
    assert case_step.waiver_reason == "Bara socialtjänsten är inblandad"
    event = AuditEvent.objects.get(action=AuditAction.CHECKLIST_STEP)
    assert (event.case_id, event.user_id, event.reason) == (case.pk, worker.pk, "waived")
    with pytest.raises(ValidationError, match="redan avklarat"):
        method_services.step_complete(case_step=case_step, case=case, by=worker)


def test_a_changed_template_does_not_change_running_cases(
    make_case: Callable[..., Case], worker: User, coordinator: User
) -> None:
    running = make_case(worker)
    national_version = running.checklist.version
    template = method_services.template_copy(by=coordinator)
    sip = template.versions.get().steps.get(title="SIP när flera aktörer är inblandade")
    method_services.template_step_save(
        by=coordinator,
        template=template,
        step=sip,
        phase=Phase.INVESTIGATION,
        title="SIP (kommunens rutin)",
        required=False,
        guidance="Se kommunens rutin.",
        links="Rutin | https://kommun.example.se/sip",
    )
    # An unpublished draft changes nothing for new cases either.
    assert make_case(worker).checklist.version == national_version
    first = method_services.template_publish(by=coordinator, template=template)
    adapted = make_case(worker)
    assert adapted.checklist.version == first
    assert _step(adapted, "SIP (kommunens rutin)").step.required is False

    # A second round of changes: a new draft, v1 and the cases on it untouched.
    step = first.steps.get(title="SIP (kommunens rutin)")
    method_services.template_step_save(
        by=coordinator,
        template=template,
        step=step,
        phase=Phase.INVESTIGATION,
        title="SIP (ny rutin)",
        required=True,
        guidance="",
        links="",
    )
    method_services.template_step_remove(
        by=coordinator, template=template, step=first.steps.get(title="Avslutande samtal")
    )
    second = method_services.template_publish(by=coordinator, template=template)
    assert second.number == 2
    assert StepTemplate.objects.get(pk=step.pk).title == "SIP (kommunens rutin)"
    running.refresh_from_db()
    adapted.refresh_from_db()
    assert running.checklist.version == national_version
    assert adapted.checklist.version == first
    assert _step(running, "SIP när flera aktörer är inblandade").step.required is True
    newest = make_case(worker)
    assert newest.checklist.version == second
    assert not newest.checklist.steps.filter(step__title="Avslutande samtal").exists()


def test_who_adapts_which_template(
    worker: User,
    coordinator: User,
    make_user: Callable[..., User],
    other_municipality: Agency,
) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        method_services.template_copy(by=worker)
    own = method_services.template_copy(by=coordinator)
    with pytest.raises(ValidationError, match="redan en egen mall"):
        method_services.template_copy(by=coordinator)
    elsewhere = make_user(other_municipality, Role.COORDINATOR)
    with pytest.raises(PermissionDenied):
        method_services.template_publish(by=elsewhere, template=own)
    national = ChecklistTemplate.objects.get(agency__isnull=True)
    with pytest.raises(PermissionDenied):
        method_services.template_publish(by=coordinator, template=national)


def test_socialstyrelsen_keeps_the_national_default(
    make_user: Callable[..., User], make_case: Callable[..., Case], worker: User
) -> None:
    from tests.conftest import AgencyFactory

    agency = AgencyFactory(name="Socialstyrelsen", kind="socialstyrelsen", municipality_code="")
    editor = make_user(agency, Role.COORDINATOR)
    national = ChecklistTemplate.objects.get(agency__isnull=True)
    method_services.template_step_save(
        by=editor,
        template=national,
        step=None,
        phase=Phase.FOLLOW_UP,
        title="Resultat vid uppföljning",
        required=False,
        guidance="",
        links="",
    )
    version = method_services.template_publish(by=editor, template=national)
    assert version.number == 2
    assert make_case(worker).checklist.steps.filter(step__title="Resultat vid uppföljning")


def test_guidance_links_must_be_https(coordinator: User, login: Callable[[User], Client]) -> None:
    method_services.template_copy(by=coordinator)
    client = login(coordinator)
    response = client.post(
        reverse("method:template_step_create"),
        {"phase": "reported", "title": "Nytt", "links": "Guide | javascript:alert(1)"},
    )
    assert response.status_code == 400
    assert "https://" in response.content.decode()


def test_the_case_page_shows_where_the_case_stands(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    advance(case, worker, CaseStatus.INITIAL_ASSESSMENT)
    html = login(worker).get(case.get_absolute_url()).content.decode()
    assert 'data-testid="checklist"' in html
    current = html[html.index('data-phase="initial_assessment"') :]
    assert current.index("Aktuell fas") < current.index("</h3>")
    assert "4 obligatoriska steg kvar" in html


def test_a_step_is_settled_on_its_page_and_a_waiver_without_reason_is_refused(
    case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    case_step = _step(case, "Gemensamt möte med polisen")
    client = login(worker)
    url = reverse("method:step", args=[case.pk, case_step.pk])
    page = client.get(url).content.decode()
    assert "kunskapsguiden.se" in page
    refused = client.post(url, {"outcome": "waive", "reason": ""})
    assert refused.status_code == 400
    assert "Ange varför steget undantas." in refused.content.decode()
    assert client.post(url, {"outcome": "done"}).status_code == 302
    case_step.refresh_from_db()
    assert case_step.state == StepState.DONE


def test_a_step_of_another_case_is_not_found(
    make_case: Callable[..., Case], case: Case, worker: User, login: Callable[[User], Client]
) -> None:
    other = make_case(worker)
    foreign_step = _step(other, "Gemensamt möte med polisen")
    response = login(worker).get(reverse("method:step", args=[case.pk, foreign_step.pk]))
    assert response.status_code == 404


def test_a_step_removed_from_the_draft_is_not_changed_through_its_published_version(
    coordinator: User,
) -> None:
    template = method_services.template_copy(by=coordinator)
    published = method_services.template_publish(by=coordinator, template=template)
    step = published.steps.get(title="Avslutande samtal")
    method_services.template_step_remove(by=coordinator, template=template, step=step)
    with pytest.raises(ValidationError, match="redan borttaget"):
        method_services.template_step_save(
            by=coordinator,
            template=template,
            step=step,
            phase=Phase.CLOSURE,
            title="Avslutande samtal",
            required=False,
            guidance="",
            links="",
        )
