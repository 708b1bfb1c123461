"""Exports that open right in a spreadsheet: CSV in UTF-8 with a byte-order mark, XLSX with typed cells.

Excel opens a CSV without a byte-order mark in the machine's legacy code page (`Amélie` shows as
`AmÃ©lie`), so every CSV starts with U+FEFF. In the XLSX a number is a number and a date a date
(SUM and sorting work), the sheet has the export's name, and empty values are empty cells. Both
pass member-written text through `formula_safe`. The two formats plug into django-import-export's
admin exports (`export_formats = EXPORT_FORMATS`) and serve hand-made exports (`spreadsheet_response`).
"""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import tablib
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats import base_formats
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from accounts.spreadsheets import formula_safe

BOM = "\ufeff"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _local(value: datetime) -> datetime:
    """A spreadsheet has no time zones: an aware time is written as the program's local time."""
    return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _local(value).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return formula_safe(_text(value))


def csv_bytes(dataset: tablib.Dataset) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if dataset.headers:
        writer.writerow([str(header) for header in dataset.headers])
    for row in dataset:
        writer.writerow([csv_value(value) for value in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def sheet_title(text: str) -> str:
    """A name Excel accepts: no []:*?/\\ and at most 31 characters."""
    return SHEET_TITLE_FORBIDDEN.sub("-", str(text)).strip()[:31] or "Export"


def new_workbook() -> tuple[Workbook, Worksheet]:
    """An empty workbook and the one worksheet it opens on."""
    workbook = Workbook()
    sheet = workbook.active
    if not isinstance(sheet, Worksheet):  # openpyxl makes one worksheet with a new workbook
        raise TypeError(f"a new workbook opened on {sheet!r}")
    return workbook, sheet


def xlsx_bytes(dataset: tablib.Dataset, *, title: str | None = None) -> bytes:
    workbook, sheet = new_workbook()
    sheet.title = sheet_title(title or dataset.title or "Export")
    headers = [str(header) for header in dataset.headers or []]
    widths = [len(header) for header in headers]
    if headers:
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    for row_number, row in enumerate(dataset, start=2 if headers else 1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column)
            if value is None or value == "":
                shown = ""
            elif isinstance(value, datetime):
                cell.value = _local(value)
                cell.number_format = DATETIME_FORMAT
                shown = DATETIME_FORMAT
            elif isinstance(value, date):
                cell.value = value
                cell.number_format = DATE_FORMAT
                shown = DATE_FORMAT
            elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                cell.value = value
                shown = str(value)
            else:
                shown = formula_safe(_text(value))
                cell.value = shown
            if column > len(widths):
                widths.append(0)
            widths[column - 1] = max(widths[column - 1], min(len(shown), 60))
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width + 2
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class CSVWithBOM(base_formats.CSV):
    """import-export's CSV format, written as UTF-8 with a byte-order mark and formula-safe cells."""

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return csv_bytes(dataset)

    def is_binary(self) -> bool:  # already encoded; the admin must not encode it again
        return True

    def get_content_type(self) -> str:
        return "text/csv; charset=utf-8"


class TypedXLSX(base_formats.XLSX):
    """import-export's XLSX format with typed cells and the dataset's title as the sheet's name."""

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return xlsx_bytes(dataset)


EXPORT_FORMATS = [CSVWithBOM, TypedXLSX]


def spreadsheet_response(dataset: tablib.Dataset, *, export: str, filename: str, title: str) -> HttpResponse:
    """`dataset` as a download, `export` being "csv" or "xlsx"; `filename` without the extension."""
    if export == "csv":
        response = HttpResponse(csv_bytes(dataset), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(dataset, title=title), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export}"'
    return response
