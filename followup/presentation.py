"""The statistics as the page and the PDF report show them: each figure a chart and its table."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from followup.charts import bar_chart, data_url
from followup.selectors import Median, Statistics
from followup.tables import Row, Table


@dataclass(frozen=True)
class Shown:
    table: Table
    chart: str  # a data: URL of the SVG
    chart_alt: str


def median_table(caption: str, medians: tuple[Median, ...], suppressed: bool) -> Table:
    rows = tuple(Row(m.label, (m.days, m.count)) for m in medians)
    return Table(caption, (_("Median, dagar"), _("Antal")), rows, suppressed)


def figures(stats: Statistics) -> list[Shown]:
    suppressed = stats.scope.suppressed
    charted = [
        (stats.active, "groups"),
        (stats.new_per_month, "body"),
        (median_table(_("Tid till stöd och boende"), stats.medians, suppressed), "body"),
        (stats.outcomes, "body"),
        (stats.relocations, "body"),
        (median_table(_("Dagar i väntande steg"), stats.relocation_waits, suppressed), "body"),
        (stats.overdue_reviews, "body"),
        (stats.interventions, "body"),
        (stats.follow_ups, "body"),
    ]
    return [
        Shown(
            table,
            data_url(bar_chart(table, rows=rows)),
            _("Diagram: %(caption)s. Samma uppgifter finns i tabellen bredvid.")
            % {"caption": table.caption},
        )
        for table, rows in charted
    ]
