"""Tables written as files for spreadsheets: CSV streamed a row at a time, Excel built row by
row into a spooled temporary file. Neither holds the whole table in memory, and every cell a
spreadsheet would read as a formula is neutralised."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from tempfile import SpooledTemporaryFile
from typing import IO

from openpyxl import Workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a spreadsheet takes for the start of a formula (=, + and - also start arithmetic, @ a
# function in older Excel), and the tab and carriage return that can hide one (OWASP).
_FORMULA_STARTS = frozenset("=+-@\t\r")

# An Excel file this large stays in memory; a larger one moves to a file on disk.
_SPOOL_BYTES = 4 * 1024 * 1024


def cell_safe(value: object) -> str:
    """The value as text, with a leading apostrophe when it would start a formula (CSV
    injection): the spreadsheet then shows it as the text it is."""
    text = "" if value is None else str(value)
    return f"'{text}" if text[:1] in _FORMULA_STARTS else text


class _Echo:
    """A file that hands back what is written to it, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[object]], *, bom: bool = False) -> Iterator[str]:
    """The rows as CSV lines, one at a time, each cell through `cell_safe`. `bom` starts
    with a byte-order mark, so Excel reads UTF-8 (å, ä, ö) as UTF-8."""
    if bom:
        yield "\ufeff"
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([cell_safe(cell) for cell in row])


def xlsx_file(rows: Iterable[Iterable[object]], *, sheet: str) -> IO[bytes]:
    """The rows as an Excel workbook of one sheet, every cell text through `cell_safe` (an
    empty one left empty), written row by row (openpyxl's write-only mode) and returned
    rewound."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])  # Excel's limit on a sheet's name
    for row in rows:
        worksheet.append([cell_safe(cell) or None for cell in row])
    out = SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (the response closes it)
    workbook.save(out)
    out.seek(0)
    return out
