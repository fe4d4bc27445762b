"""Charts of the statistics' tables, drawn server-side as SVG with matplotlib, so the page and
the PDF report show the same picture. The table beside each chart is its accessible
alternative; a hidden count is left out of the chart and marked with HIDDEN.

Deterministic output: a fixed hash salt for the SVG's ids, no date in its metadata, and text
kept as text (svg.fonttype none) so labels stay searchable and small.
"""

from __future__ import annotations

import base64
import io

import matplotlib

# A bare Figure, never pyplot: no display, no global figure state shared between requests.
from matplotlib.figure import Figure

from followup.tables import HIDDEN, Table

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "avhopp-followup",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0")


def bar_chart(table: Table, *, rows: str = "body") -> str:
    """Horizontal bars of the table's counts (each column a series) as an SVG document.
    `rows` "groups" charts the groups' sums of a nested table instead of its items."""
    chosen = [row for row in table.rows if row.kind == ("subtotal" if rows == "groups" else "")]
    series = len(table.columns) - (1 if len(table.columns) > 1 else 0)  # not the total column
    # Beyond two series a legend in the corner would cover bars: it goes below them.
    legend_lines = series if series > 2 else 0
    height = 0.9 + 0.28 * max(len(chosen), 1) * max(series, 1) ** 0.5 + 0.2 * legend_lines
    with matplotlib.rc_context(_STYLE):
        figure = Figure(figsize=(6.4, height))
        axes = figure.subplots()
        width = 0.8 / series
        for index in range(series):
            positions = [n + index * width for n in range(len(chosen))]
            values = [row.cells[index] or 0 for row in chosen]
            bars = axes.barh(
                positions,
                values,
                height=width,
                color=_COLOURS[index % len(_COLOURS)],
                label=table.columns[index],
            )
            labels = [HIDDEN if row.cells[index] is None else "" for row in chosen]
            axes.bar_label(bars, labels=labels, padding=2)
        axes.set_yticks(
            [n + (series - 1) * width / 2 for n in range(len(chosen))],
            [row.label for row in chosen],
        )
        axes.invert_yaxis()
        axes.xaxis.get_major_locator().set_params(integer=True)
        if legend_lines:
            axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(0, -0.08))
        elif series > 1:
            axes.legend(frameon=False, loc="lower right")
        figure.tight_layout()
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def data_url(svg: str) -> str:
    """For an <img>: the page's content security policy allows data: images, and inside an
    image the SVG's own style elements are no inline style of the page."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
