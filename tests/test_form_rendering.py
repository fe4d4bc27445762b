"""Widgets built in Python (avhopp.form_rendering) against Django's own templates."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation

from avhopp.audit_forms import AuditSearchForm
from cases.forms import (
    CaseFilterForm,
    IndividualForm,
    InterventionForm,
    JournalEntryForm,
    StatusChangeForm,
    ThreatAssessmentForm,
)


class Markup(HTMLParser):
    """Tags with their attributes as sets, and text: what a browser sees, not the spacing."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, ...] | str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append((tag, *sorted(f"{name}={value}" for name, value in attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.items.append(("/" + tag,))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.items.append(data)


def markup(html: str) -> list[tuple[str, ...] | str]:
    parser = Markup()
    parser.feed(html)
    return parser.items


class GroupedForm(forms.Form):
    grouped = forms.ChoiceField(
        choices=[("Boende", [("1", "Akut <boende>"), ("2", 'Skyddat "boende"')]), ("3", "Arbete")],
        initial="2",
    )
    several = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], initial=["a", "b"])
    unknown = forms.NullBooleanField(required=False)


FORMS = [
    CaseFilterForm({"status": "open", "threat_level": "high"}),
    IndividualForm(),
    InterventionForm(),
    ThreatAssessmentForm(),
    AuditSearchForm(),
    GroupedForm(),
]


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS, ids=lambda form: type(form).__name__)
def test_selects_render_as_django_renders_them(form: forms.Form) -> None:
    selects = [field for field in form if isinstance(field.field.widget, forms.Select)]
    assert selects
    for field in selects:
        ours, djangos = ours_and_djangos(form, field)
        assert markup(ours) == markup(djangos), field.name


def ours_and_djangos(form: forms.Form, field: forms.BoundField) -> tuple[str, str]:
    """The field's widget as the project renders it and as Django's templates do, in Swedish."""
    with translation.override("sv"):
        ours = str(field)
        form.renderer = DjangoTemplates()
        try:
            return ours, str(field)
        finally:
            form.renderer = None


def test_grouped_options_are_escaped_and_marked() -> None:
    form = GroupedForm()
    assert str(form["grouped"]) == (
        '<select name="grouped" id="id_grouped">\n'
        '  <optgroup label="Boende">\n'
        '  <option value="1">Akut &lt;boende&gt;</option>\n'
        '  <option value="2" selected>Skyddat &quot;boende&quot;</option>\n'
        "  </optgroup>\n"
        '  <option value="3">Arbete</option>\n'
        "</select>"
    )
    assert str(form["several"]).startswith(
        '<select name="several" required id="id_several" multiple>'
    )
    assert str(form["several"]).count(" selected>") == 2


class EveryInputForm(forms.Form):
    text = forms.CharField(initial='Said "hi" <b>', help_text="Help")
    number = forms.IntegerField(initial=7)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, disabled=True, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="p&w")
    hidden = forms.IntegerField(widget=forms.HiddenInput, initial=3)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial="2026-11-23")
    moment = forms.DateTimeField(required=False)
    chosen = forms.BooleanField(initial=True, required=False)
    unchosen = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), initial="Rad 1\n<script>")
    empty_note = forms.CharField(widget=forms.Textarea, required=False)


WIDGET_FORMS = [
    CaseFilterForm({"q": '"Lind" & <qvist>'}),
    StatusChangeForm(current_status="new"),
    JournalEntryForm(),
    JournalEntryForm({"text": "", "corrects": "x"}),
    EveryInputForm(),
    EveryInputForm({"text": "<i>", "number": "x", "chosen": "on", "note": "a & b"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("form", WIDGET_FORMS, ids=lambda form: type(form).__name__)
def test_inputs_and_text_areas_render_as_django_renders_them(form: forms.Form) -> None:
    fields = [
        field
        for field in form
        if isinstance(field.field.widget, forms.widgets.Input | forms.Textarea)
        and not isinstance(field.field.widget, forms.FileInput)
    ]
    assert fields
    for field in fields:
        ours, djangos = ours_and_djangos(form, field)
        assert ours == djangos, field.name


def test_inputs_and_text_areas_are_escaped() -> None:
    form = EveryInputForm({"text": '"><script>', "note": "</textarea><script>"})
    assert str(form["text"]) == (
        '<input type="text" name="text" value="&quot;&gt;&lt;script&gt;" required '
        'aria-describedby="id_text_helptext" id="id_text">'
    )
    assert str(form["note"]) == (
        '<textarea name="note" cols="40" rows="3" required id="id_note">\n'
        "&lt;/textarea&gt;&lt;script&gt;</textarea>"
    )
    assert str(form["chosen"]) == '<input type="checkbox" name="chosen" id="id_chosen">'
