"""The form renderer: select boxes, text boxes and other single inputs, and text areas are
built in Python; other widgets render through the templates.

A select box through the template engine costs about 70 µs per option (1.2 ms for the 14
intervention kinds), so the case list's filter form took 4-5 ms of every list page. Built
here it costs about 4 µs per option. An input or a text area costs about 150 µs through
input.html or textarea.html and attrs.html, a few µs here: the case page's two forms took
about 1.5 ms of widget templates. The markup and escaping are those of Django's templates
(format_html is not used: its lazy-argument checks alone cost half of the saving).
"""

from __future__ import annotations

from html import escape
from typing import Any

from django.forms.renderers import TemplatesSetting
from django.forms.widgets import Select, Textarea
from django.utils.safestring import SafeString, mark_safe


class FormRenderer(TemplatesSetting):
    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name == Select.template_name:  # also SelectMultiple and NullBooleanSelect
            return select_html(context["widget"])
        if template_name in INPUT_TEMPLATES:
            return input_html(context["widget"])
        if template_name == Textarea.template_name:
            return textarea_html(context["widget"])
        return super().render(template_name, context, request)


# Django's widget templates that are input.html under another name.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        *("input", "text", "search", "email", "url", "tel", "password", "hidden", "number"),
        *("date", "datetime", "time", "color", "checkbox"),
    )
)


def input_html(widget: dict[str, Any]) -> SafeString:
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    html = f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}'
    return mark_safe(f"{html}{_attrs(widget['attrs'])}>")  # noqa: S308 -- escaped by _text


def textarea_html(widget: dict[str, Any]) -> SafeString:
    text = _text(widget["value"]) if widget["value"] else ""
    html = f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{text}'
    return mark_safe(f"{html}</textarea>")  # noqa: S308 -- escaped by _text


def select_html(widget: dict[str, Any]) -> SafeString:
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_text(group_name)}">')
        parts.extend(
            f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_text(option['label'])}</option>"
            for option in options
        )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))  # noqa: S308 -- every value in it went through _text


def _text(value: object) -> str:
    """Escaped like the template engine's autoescape: safe strings as they are."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return escape(str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """As attrs.html: True is a bare attribute and False none at all."""
    return "".join(
        f" {name}" if value is True else f' {name}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )
