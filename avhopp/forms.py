"""The base of every form: messages that say what to do, and selects that preselect nothing.

Django's "Detta fält måste fyllas i." names neither the field nor what to do, and a select's
"---------" reads as nothing to a screen reader. A required field's message is derived from its
label and its kind ("Ange förnamn", "Välj myndighet", "Ange ett datum"); a select's empty
choice says "Välj …", and a required select without one gets it, so no answer is preselected;
a model default the user must decide is not offered as the answer (`undecided`). A message a
field states itself is kept.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.validators import MaxLengthValidator
from django.db.models.fields import BLANK_CHOICE_DASH
from django.forms.utils import pretty_name
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

GENERIC_REQUIRED = forms.Field.default_error_messages["required"]
DASHES = BLANK_CHOICE_DASH[0][1]

ENTER = _("Ange %(label)s")
CHOOSE = _("Välj %(label)s")
TICK = _("Kryssa i rutan ”%(label)s”")
ENTER_DATE = _("Ange ett datum")
ENTER_DATE_TIME = _("Ange datum och tid")
ENTER_TIME = _("Ange en tid")
CHOOSE_FILE = _("Välj en fil")
# A select's empty choice: the label above it says what is chosen.
CHOOSE_PROMPT = _("Välj …")

_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)$")


def phrase(label: Any) -> str:
    """A label as what "Ange"/"Välj" asks for: without its note in brackets, and lower-case
    unless it opens with an abbreviation ("IVO:s diarienummer")."""
    text = _TRAILING_NOTE.sub("", str(label).strip()).rstrip(":")
    if len(text) > 1 and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _derived(template: str, label: Any) -> str:
    return template % {"label": phrase(label)}


# Lazy, so that a message is in the language of the page that shows it.
derived = lazy(_derived, str)
_ticked = lazy(lambda label: TICK % {"label": label}, str)


def required_message(field: forms.Field, label: Any) -> str:
    """What an empty required field is told to do, by its kind."""
    if isinstance(field, forms.BooleanField):
        return _ticked(label)
    if isinstance(field, forms.ChoiceField):  # model choices and multiple choices too
        return derived(CHOOSE, label)
    if isinstance(field, forms.DateTimeField):
        return ENTER_DATE_TIME
    if isinstance(field, forms.DateField):
        return ENTER_DATE
    if isinstance(field, forms.TimeField):
        return ENTER_TIME
    if isinstance(field, forms.FileField):
        return CHOOSE_FILE
    return derived(ENTER, label)


def _is_select(field: forms.Field) -> bool:
    widget = field.widget
    return isinstance(widget, forms.Select) and not isinstance(
        widget, (forms.SelectMultiple, forms.NullBooleanSelect)
    )


def _prompt_first(field: forms.Field) -> None:
    """The select's empty choice says "Välj …"; a required select gets one."""
    if isinstance(field, forms.ModelChoiceField):
        # None is kept: the form offers one answer on purpose, or has an initial one.
        if str(field.empty_label) == DASHES:
            field.empty_label = CHOOSE_PROMPT
        return
    choices = list(field.choices)  # a model field's blank choice comes as a lazy iterator
    if any(value == "" and str(text) == DASHES for value, text in choices):
        field.choices = [
            (value, CHOOSE_PROMPT if value == "" and str(text) == DASHES else text)
            for value, text in choices
        ]
    elif field.required and not any(value in field.empty_values for value, _text in choices):
        field.choices = [("", CHOOSE_PROMPT), *choices]


class SpecificMessages:
    """Mixed into every form of the project (through `Form`, `ModelForm` and `LoginForm`)."""

    # Fields of a model form whose model default must not stand as the answer for a new
    # object: the user decides (an existing object shows its value).
    undecided: tuple[str, ...] = ()
    _prepared = False

    def __getitem__(self, name: str) -> forms.BoundField:
        self._prepare()
        return super().__getitem__(name)  # type: ignore[misc]

    def full_clean(self) -> None:
        self._prepare()
        super().full_clean()  # type: ignore[misc]

    def _prepare(self) -> None:
        """At first use rather than in `__init__`, so the fields that a subclass's `__init__`
        adds, makes required or gives choices are covered too."""
        if self._prepared:
            return
        self._prepared = True
        fields: dict[str, forms.Field] = self.fields  # type: ignore[attr-defined]
        instance = getattr(self, "instance", None)
        new = instance is None or instance._state.adding
        for name, field in fields.items():
            label = field.label or pretty_name(name)
            if str(field.error_messages.get("required")) == str(GENERIC_REQUIRED):
                field.error_messages["required"] = required_message(field, label)
            if name in self.undecided and new:
                self.initial.pop(name, None)  # type: ignore[attr-defined]
                field.initial = None
            if _is_select(field):
                _prompt_first(field)


class Form(SpecificMessages, forms.Form):
    pass


class ModelForm(SpecificMessages, forms.ModelForm):
    pass


class LoginForm(SpecificMessages, AuthenticationForm):
    """Django sets the user name's max_length only on the widget; enforce it, so an overlong
    name is refused as a form error before it reaches authentication and the lockout records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class InvitationPasswordForm(SpecificMessages, SetPasswordForm):
    """The invited user's own password, checked by the project's validators (at least 12
    characters, not common, not all digits, not like the user's names)."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        # In words, not the validators' HTML list, which a form's help paragraph cannot hold.
        self.fields["new_password1"].help_text = _(
            "Minst 12 tecken, inte bara siffror, inte ett vanligt lösenord och inte likt ditt "
            "namn eller användarnamn."
        )
