"""The focus outline contrasts at least 3:1 with the background it is drawn on (WCAG 2.2,
1.4.11 and 2.4.13), computed from the stylesheet itself; the ratios its comment states are the
ones computed here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parent.parent / "static" / "css" / "avhopp.css").read_text()
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
# Paper has no focus: the print style sheet's rules are left out.
_PRINT = re.compile(r"@media print\s*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")
RULES = [
    (selector.strip(), body)
    for selectors, body in re.findall(
        r"([^{}]+)\{([^{}]*)\}", _PRINT.sub("", _COMMENT.sub("", CSS))
    )
    for selector in selectors.split(",")
]
ROOT = dict(re.findall(r"(--[\w-]+):\s*([^;]+);", next(b for s, b in RULES if s == ":root")))


def declared(selector: str, prop: str) -> str:
    """The value the rule for `selector` gives `prop` (the last such rule), var()s resolved."""
    values = [
        value.strip()
        for rule_selector, body in RULES
        if rule_selector == selector
        for name, value in re.findall(r"([\w-]+)\s*:\s*([^;]+)", body)
        if name == prop
    ]
    assert values, f"{selector} sets no {prop}"
    return re.sub(r"var\((--[\w-]+)\)", lambda var: ROOT[var[1]].strip(), values[-1])


def colour(value: str) -> str:
    """The colour in a declaration such as `3px solid #0b2f4f`, as six hex digits."""
    found = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", value)
    assert found, value
    digits = found[1].lower()
    return digits if len(digits) == 6 else "".join(c * 2 for c in digits)


def luminance(hex_digits: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_formula_matches_wcag() -> None:
    assert contrast("000000", "ffffff") == pytest.approx(21.0)
    assert contrast("777777", "ffffff") == pytest.approx(4.48, abs=0.01)


BODY_FOCUS = colour(declared(":focus-visible", "outline"))
DARK_FOCUS = colour(declared(".site-header :focus-visible", "outline-color"))


@pytest.mark.parametrize(
    ("focus", "background_of"),
    [
        (BODY_FOCUS, "body"),
        (BODY_FOCUS, ".card"),
        (BODY_FOCUS, ".error-summary"),
        (BODY_FOCUS, ".messages .message"),
        (BODY_FOCUS, ".messages .message.error"),
        (BODY_FOCUS, ".police-only"),
        (DARK_FOCUS, ".site-header"),
        (colour(declared(".skip-link:focus-visible", "outline-color")), ".site-header"),
    ],
)
def test_focus_outline_contrasts_3_to_1_with_its_background(focus: str, background_of: str) -> None:
    background = colour(declared(background_of, "background"))
    ratio = contrast(focus, background)
    assert ratio >= 3, f"#{focus} on #{background}: {ratio:.2f}:1"
    comment = " ".join(_COMMENT.search(CSS[CSS.index("/* Focus") :])[0].split())
    assert f"{ratio:.2f}:1" in comment, f"the comment should state #{focus} on #{background}"


def test_focus_outline_is_drawn_outside_every_focusable_element() -> None:
    outline = declared(":focus-visible", "outline")
    width = float(re.match(r"([\d.]+)px", outline)[1])
    assert width >= 2 and "solid" in outline
    assert float(declared(":focus-visible", "outline-offset").removesuffix("px")) >= 1
    # No rule takes the outline away again.
    assert not re.search(r"outline:\s*(none|0)\b", _COMMENT.sub("", CSS))
