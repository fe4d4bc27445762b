"""Every required field says what to do, selects open on "Välj …", and no answer the user
must decide is preselected: in every form of the project (avhopp.forms)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.forms import BaseForm, ModelChoiceField, Select, SelectMultiple
from django.utils import translation

from avhopp.forms import SpecificMessages, phrase
from avhopp.models import User
from cases.forms import IndividualEditForm, IndividualForm
from cases.models import Case, CaseStatus
from relocations.models import Candidate
from tests.method_support import method_work

pytestmark = pytest.mark.django_db
REPO = Path(__file__).resolve().parent.parent
GENERIC = "Detta fält måste fyllas i."
# Modules that set up the process rather than define anything to walk.
_NOT_IMPORTED = {"migrations", "wsgi", "asgi", "settings"}


def _project_modules() -> Iterator[str]:
    for config in apps.get_app_configs():
        path = Path(config.path)
        # The project's apps only: not the installed ones, even in a virtualenv inside the repo.
        if not path.is_relative_to(REPO) or "site-packages" in path.parts:
            continue
        yield config.name
        for module in pkgutil.walk_packages([config.path], prefix=f"{config.name}."):
            if _NOT_IMPORTED.isdisjoint(module.name.split(".")):
                yield module.name


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def project_forms() -> list[type[BaseForm]]:
    """Every form class defined in the project's own apps."""
    roots = set()
    for name in _project_modules():
        importlib.import_module(name)
        roots.add(name.split(".")[0])
    found = {
        cls
        for cls in _subclasses(BaseForm)
        if cls.__module__.split(".")[0] in roots
        and cls.base_fields  # not the bases in avhopp.forms, which have none
    }
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


Arguments = dict[str, Callable[[], Any]]


@pytest.fixture
def form_arguments(request: pytest.FixtureRequest) -> Arguments:
    """What a form's __init__ asks for, by name, made only when a form asks. A new form with
    an argument not here fails the walk until it is added."""
    fixture = request.getfixturevalue
    return {
        "case": lambda: fixture("case"),
        "relocation": lambda: fixture("relocation"),
        "agency": lambda: fixture("municipality"),
        "owning_agency": lambda: fixture("municipality"),
        "candidates": lambda: Candidate.objects.filter(relocation=fixture("relocation")),
        "current_status": lambda: CaseStatus.REPORTED,
        "shows_protected": lambda: True,
        "edited": lambda: fixture("worker"),
        "by": lambda: fixture("agency_admin"),
        "user": lambda: fixture("log_reviewer"),  # the log's forms; the invited user's too
        "delegates": lambda: User.objects.filter(agency=fixture("municipality")),
        "agreement": lambda: method_work(fixture("case"), fixture("worker"))[0],
    }


def build(cls: type[BaseForm], arguments: Arguments, **kwargs: Any) -> BaseForm:
    needed = [
        name
        for name, parameter in inspect.signature(cls).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    ]
    missing = [name for name in needed if name not in arguments]
    assert not missing, f"{cls.__qualname__} needs {missing}: add them to form_arguments"
    return cls(**{name: arguments[name]() for name in needed}, **kwargs)


def _required_visible(form: BaseForm) -> list[str]:
    return [name for name, field in form.fields.items() if field.required and not field.disabled]


def test_every_form_of_the_project_has_the_base() -> None:
    forms = project_forms()
    apps_with_forms = {cls.__module__.split(".")[0] for cls in forms}
    assert apps_with_forms >= {
        "avhopp",
        "cases",
        "referrals",
        "relocations",
        "retention",
        "followup",
        "research",
        "method",
    }
    assert len(forms) >= 40
    assert [cls for cls in forms if not issubclass(cls, SpecificMessages)] == []


@pytest.mark.parametrize("language", ["sv", "en"])
def test_no_required_field_falls_back_to_the_generic_message(
    form_arguments: Arguments, language: str
) -> None:
    generic = {"sv": GENERIC, "en": "This field is required."}[language]
    for cls in project_forms():
        form = build(cls, form_arguments, data={})
        with translation.override(language):
            form.is_valid()  # a search form without a required field is valid empty
            errors = {
                name: [str(error) for error in errors] for name, errors in form.errors.items()
            }
        for name in _required_visible(form):
            assert errors.get(name), f"{cls.__qualname__}.{name} refused nothing when empty"
        flat = [error for messages in errors.values() for error in messages]
        assert generic not in flat, f"{cls.__qualname__}: {errors}"


def _options(html: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option of a rendered select."""
    return [
        (value, text, "selected" in attributes)
        for value, attributes, text in re.findall(
            r'<option value="([^"]*)"([^>]*)>([^<]*)</option>', html
        )
    ]


def test_selects_say_valj_and_preselect_nothing_the_user_must_choose(
    form_arguments: Arguments,
) -> None:
    checked = 0
    for cls in project_forms():
        form = build(cls, form_arguments)
        with translation.override("sv"):
            html = str(form)
            assert "---------" not in html, cls.__qualname__
            for name, field in form.fields.items():
                if not field.required or form[name].initial not in (None, ""):
                    continue
                if isinstance(field, ModelChoiceField) and field.empty_label is None:
                    continue  # one answer offered on purpose (the national coordination)
                rendered = str(form[name])
                where = f"{cls.__qualname__}.{name}"
                if isinstance(field.widget, Select) and not isinstance(
                    field.widget, SelectMultiple
                ):
                    options = _options(rendered)
                    assert options[0][:2] == ("", "Välj …") or (
                        options[0][0] == "" and options[0][1].startswith("Välj ")
                    ), where
                    assert not any(selected for _v, _t, selected in options[1:]), where
                    checked += 1
                elif getattr(field.widget, "input_type", "") == "radio":
                    assert " checked" not in rendered, where
                    checked += 1
    assert checked >= 25


@pytest.mark.parametrize(
    ("form_path", "field", "message"),
    [
        ("avhopp.forms.LoginForm", "username", "Ange användarnamn"),
        ("avhopp.twofactor.CodeForm", "code", "Ange engångskod"),
        ("avhopp.user_views.UserCreateForm", "role", "Välj roll"),
        ("cases.forms.IndividualForm", "first_name", "Ange förnamn"),
        (
            "cases.forms.IndividualForm",
            "protection_level",
            "Välj om personen har skyddade personuppgifter",
        ),
        ("cases.forms.InterventionForm", "kind", "Välj typ av insats"),
        ("cases.forms.ThreatAssessmentForm", "next_review_date", "Ange ett datum"),
        ("cases.forms.ReasonForm", "reason", "Välj skäl"),
        ("cases.forms.ShareForm", "agency", "Välj myndighet att dela med"),
        ("referrals.forms.SipForm", "next_follow_up", "Ange ett datum"),
        ("referrals.forms.SipForm", "consent", "Välj samtycke som planen vilar på"),
        ("referrals.forms.AnswerForm", "decision", "Välj svar"),
        ("relocations.forms.PlacementForm", "address", "Ange ny adress"),
        ("relocations.forms.PlacementForm", "housing", "Välj boende"),
        ("relocations.forms.IvoForm", "reference", "Ange IVO:s diarienummer"),
        ("relocations.forms.ProposeForm", "municipalities", "Välj föreslagna kommuner"),
        ("relocations.forms.ClearanceForm", "reason", None),  # optional: no message
        ("retention.forms.HoldForm", "case_number", "Ange ärendenummer"),
        ("retention.forms.HoldForm", "kind", "Välj typ"),
        ("retention.forms.ExtractForm", "identity_checked", "Ange hur identiteten kontrollerades"),
        ("followup.forms.PeriodForm", "start", "Ange ett datum"),
        ("followup.forms.ReportForm", "year", "Ange år"),
        ("research.forms.ExtractRequestForm", "coordinating_agency", "Välj nationell samordning"),
        ("research.forms.ExtractRequestForm", "variables", "Välj variabler"),
        ("research.forms.DecisionForm", "decision", "Välj beslut"),
    ],
)
def test_each_app_s_forms_say_what_to_do(
    form_arguments: Arguments, form_path: str, field: str, message: str | None
) -> None:
    module, name = form_path.rsplit(".", 1)
    form = build(getattr(importlib.import_module(module), name), form_arguments, data={})
    with translation.override("sv"):
        form.is_valid()
        assert form.errors.get(field) == ([message] if message else None)


@pytest.mark.parametrize(
    ("form_path", "field", "message"),
    [
        ("cases.forms.IndividualForm", "first_name", "Enter first name"),
        ("relocations.forms.PlacementForm", "housing", "Choose housing"),
        ("relocations.forms.MovedForm", "moved_on", "Enter a date"),
    ],
)
def test_messages_follow_the_page_s_language(
    form_arguments: Arguments, form_path: str, field: str, message: str
) -> None:
    module, name = form_path.rsplit(".", 1)
    form = build(getattr(importlib.import_module(module), name), form_arguments, data={})
    form.is_valid()  # the message is made now and put in words when shown
    with translation.override("en"):
        assert [str(error) for error in form.errors[field]] == [message]


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("Förnamn", "förnamn"),
        ("IVO:s diarienummer", "IVO:s diarienummer"),
        ("Skäl (läses bara av polisen)", "skäl"),
        ("E-post", "e-post"),
        ("Från:", "från"),
    ],
)
def test_a_label_becomes_what_to_give(label: str, said: str) -> None:
    assert phrase(label) == said


def test_protection_level_is_asked_on_a_new_person_and_kept_on_an_existing_one(
    case: Case,
) -> None:
    new = IndividualForm()
    assert new["protection_level"].initial is None
    assert _options(str(new["protection_level"]))[0] == ("", "Välj …", True)
    existing = IndividualEditForm(instance=case.individual, shows_protected=True)
    options = _options(str(existing["protection_level"]))
    assert [value for value, _text, selected in options if selected] == ["none"]
