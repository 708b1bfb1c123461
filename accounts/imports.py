"""Imports that show what they will do (issue 17): every row with its line in the file, its action and why.

django-import-export reads a CSV through tablib, which drops blank lines (so every row after one is
numbered one too low) while an XLSX keeps its blank rows (each an error). `LineNumberedCSV` and
`LineNumberedXLSX` read the file themselves: blank lines and rows are ignored the same way, and each
row carries its line in the file in the hidden column `_line`, which the preview, the error report
and every message use. The format is taken from the file name (`.csv`, `.xlsx`).

Dates are accepted only as ISO `YYYY-MM-DD` or as a spreadsheet's date cell: `11/03/2026` is
11 March to a European and 3 November to an American, so it is refused with a message that says so.
"""

import csv
import io
import os
import re
from datetime import date, datetime

import openpyxl
import tablib
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from import_export.admin import ImportMixin
from import_export.formats import base_formats
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import RowResult

from accounts.exports import csv_bytes

LINE = "_line"
REASON = "_reason"  # why a row is unchanged, set by the resource
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SLASHED_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})$")


def parse_file_date(value, *, required: bool) -> date | None:
    """A date from an import: a spreadsheet date cell or ISO YYYY-MM-DD; anything else is refused."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise ValueError(_("The date is missing: write it as YYYY-MM-DD, e.g. 2026-03-11."))
        return None
    if ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("“%(value)s” is not a date of the calendar.") % {"value": text}) from None
    slashed = SLASHED_DATE.match(text)
    if slashed:
        first, second, year = (int(part) for part in slashed.groups())
        year += 2000 if year < 100 else 0
        if first <= 12 and second <= 12 and first != second:
            day_first: date | None
            month_first: date | None
            try:
                day_first, month_first = date(year, second, first), date(year, first, second)
            except ValueError:
                day_first = month_first = None
            if day_first and month_first:
                raise ValueError(
                    _(
                        "“%(value)s” is ambiguous: it could be %(first)s or %(second)s. "
                        "Write dates as YYYY-MM-DD (e.g. 2026-03-11) or use a date cell."
                    )
                    % {
                        "value": text,
                        "first": date_format(day_first, "j F Y"),
                        "second": date_format(month_first, "j F Y"),
                    }
                )
    raise ValueError(
        _("“%(value)s” is not a date in the form YYYY-MM-DD (e.g. 2026-03-11); a date cell also works.")
        % {"value": text}
    )


def _blank(values) -> bool:
    return all(value is None or str(value).strip() == "" for value in values)


def _dataset(headers: list, rows: list[tuple[int, list]]) -> tablib.Dataset:
    headers = [("" if h is None else str(h)).strip() for h in headers]
    while headers and headers[-1] == "":
        headers.pop()
    dataset = tablib.Dataset(headers=[*headers, LINE])
    for line, values in rows:
        values = list(values)[: len(headers)]
        values += [None] * (len(headers) - len(values))
        dataset.append([*values, line])
    return dataset


class LineNumberedCSV(base_formats.CSV):
    """CSV read with each row's line in the file; blank lines are ignored (not counted as rows)."""

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        text = in_stream.decode("utf-8-sig") if isinstance(in_stream, bytes) else in_stream.removeprefix("\ufeff")
        reader = csv.reader(io.StringIO(text))
        headers: list | None = None
        rows: list[tuple[int, list]] = []
        for values in reader:
            if _blank(values):
                continue
            if headers is None:
                headers = values
                continue
            rows.append((reader.line_num, values))
        return _dataset(headers or [], rows)


class LineNumberedXLSX(base_formats.XLSX):
    """XLSX (first sheet) read with each row's number in the sheet; blank rows are ignored; date cells stay dates."""

    def create_dataset(self, in_stream, **kwargs) -> tablib.Dataset:
        workbook = openpyxl.load_workbook(io.BytesIO(in_stream), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        headers: list | None = None
        rows: list[tuple[int, list]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if _blank(values):
                continue
            if headers is None:
                headers = list(values)
                continue
            rows.append((number, list(values)))
        workbook.close()
        return _dataset(headers or [], rows)


IMPORT_FORMATS = [LineNumberedCSV, LineNumberedXLSX]
EXTENSIONS = {".csv": LineNumberedCSV, ".xlsx": LineNumberedXLSX}


class FileNameImportForm(ImportForm):
    """The import form without a format to choose: the format comes from the file name."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self._formats = list(formats)
        self.fields["format"].required = False
        self.fields["format"].widget = forms.HiddenInput()
        self.fields["import_file"].help_text = gettext_lazy(
            "A .csv (UTF-8) or .xlsx file; the name's ending says which."
        )
        self.fields["import_file"].widget.attrs.pop("class", None)

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("import_file")
        if upload is not None:
            extension = os.path.splitext(upload.name)[1].lower()
            file_format = EXTENSIONS.get(extension)
            if file_format is None or file_format not in self._formats:
                self.add_error(
                    "import_file",
                    _("“%(name)s” is neither a .csv nor a .xlsx file: save it in one of those formats.")
                    % {"name": upload.name},
                )
            else:
                cleaned["format"] = str(self._formats.index(file_format))
        return cleaned

    @property
    def media(self):
        return forms.Media()  # no format to guess in the browser


NEW, UPDATE, UNCHANGED, ERROR = "New", "Update", "Unchanged", "Error"
ACTIONS = {
    RowResult.IMPORT_TYPE_NEW: NEW,
    RowResult.IMPORT_TYPE_UPDATE: UPDATE,
    RowResult.IMPORT_TYPE_SKIP: UNCHANGED,
    RowResult.IMPORT_TYPE_INVALID: ERROR,
    RowResult.IMPORT_TYPE_ERROR: ERROR,
}
ACTION_LABELS = {
    NEW: gettext_lazy("New"),
    UPDATE: gettext_lazy("Update"),
    UNCHANGED: gettext_lazy("Unchanged"),
    ERROR: gettext_lazy("Error: skipped"),
}
LINE_PREFIX = re.compile(r"^Line \d+: ")


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date() if (value.hour, value.minute, value.second) == (0, 0, 0) else value
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def import_preview_rows(result, *, columns: list[str]) -> list[dict]:
    """Every row of an import: its line in the file, its action, its values (empty, never "None"), why not."""
    rows = []
    for number, row_result in enumerate(result.rows, 1):
        values = row_result.row_values or {}
        errors: list[str] = []
        if row_result.validation_error is not None:
            errors = [LINE_PREFIX.sub("", str(message)) for message in row_result.validation_error.messages]
        errors += [str(error.error) for error in row_result.errors]
        action = ERROR if errors else ACTIONS.get(row_result.import_type, ERROR)
        rows.append(
            {
                "line": values.get(LINE) or number + 1,
                "action": action,
                "action_label": ACTION_LABELS[action],
                "values": {column: _shown(values.get(column)) for column in columns},
                "cells": [_shown(values.get(column)) for column in columns],
                "errors": errors,
                "reason": str(values.get(REASON) or "") if action == UNCHANGED else "",
            }
        )
    return sorted(rows, key=lambda row: row["line"])


def preview_summary(rows: list[dict]) -> str:
    """ "2 new, 0 to update, 19 unchanged, 1 with an error" (re-importing a file says "0 new, 21 unchanged")."""
    count = {action: sum(row["action"] == action for row in rows) for action in ACTION_LABELS}
    parts = [
        _("%(n)s new") % {"n": count[NEW]},
        _("%(n)s to update") % {"n": count[UPDATE]},
        _("%(n)s unchanged") % {"n": count[UNCHANGED]},
    ]
    if count[ERROR]:
        parts.append(ngettext("%(n)s with an error", "%(n)s with errors", count[ERROR]) % {"n": count[ERROR]})
    return ", ".join(parts)


def error_report(rows: list[dict], *, columns: list[str]) -> bytes:
    """The rows that will not be imported, with their line and every reason: a CSV with a BOM."""
    dataset = tablib.Dataset(headers=["line", *columns, "reasons"])
    for row in rows:
        if row["action"] == ERROR:
            dataset.append([row["line"], *row["cells"], " ".join(row["errors"])])
    return csv_bytes(dataset)


class PreviewImportMixin(ImportMixin):
    """For an ImportMixin admin (listed before it): line-numbered formats chosen from the file name, a
    preview of every row (`preview_rows`, `preview_summary` in the template), good rows confirmable while bad rows are
    skipped, a downloadable error report (CSV) and a result message in the same words."""

    import_formats = IMPORT_FORMATS
    import_form_class = FileNameImportForm
    preview_columns: list[str] = []

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "import/error-report/",
                self.admin_site.admin_view(require_POST(self.import_error_report)),
                name="{}_{}_import_error_report".format(*info),
            ),
            *super().get_urls(),
        ]

    def _preview(self, result) -> dict:
        rows = import_preview_rows(result, columns=self.preview_columns)
        return {
            "preview_rows": rows,
            "preview_columns": self.preview_columns,
            "preview_summary": preview_summary(rows),
            "importable_count": sum(row["action"] in (NEW, UPDATE) for row in rows),
            "error_count": sum(row["action"] == ERROR for row in rows),
        }

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        result = context.get("result")
        if result is None:
            return response
        context.update(self._preview(result))
        if context["importable_count"] == 0:
            context.pop("confirm_form", None)  # nothing would be saved: no button that does nothing
        elif "confirm_form" not in context and not result.has_errors():
            context["confirm_form"] = self.create_confirm_form(request, import_form=context["form"])
        if context["error_count"]:
            context["error_report_form"] = self.create_confirm_form(request, import_form=context["form"])
        return response

    def import_error_report(self, request: HttpRequest) -> HttpResponse:
        """Re-reads the uploaded file kept for the confirmation and answers its bad rows as a CSV."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ConfirmImportForm(request.POST)
        if not form.is_valid():
            raise PermissionDenied
        input_format = self.get_import_formats()[int(form.cleaned_data["format"])]()
        storage = self.get_tmp_storage_class()(
            name=form.cleaned_data["import_file_name"],
            encoding=None if input_format.is_binary() else self.from_encoding,
            read_mode=input_format.get_read_mode(),
            **self.get_tmp_storage_class_kwargs(),
        )
        dataset = input_format.create_dataset(storage.read())
        resource = self.choose_import_resource_class(form, request)(**self.get_import_resource_kwargs(request))
        result = resource.import_data(dataset, dry_run=True, raise_errors=False, user=request.user)
        rows = import_preview_rows(result, columns=self.preview_columns)
        name = os.path.splitext(os.path.basename(form.cleaned_data["original_file_name"]))[0]
        response = HttpResponse(
            error_report(rows, columns=self.preview_columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}-errors.csv"'
        return response

    def add_success_message(self, result, request) -> None:
        rows = import_preview_rows(result, columns=self.preview_columns)
        messages.success(request, _("Import finished: %(summary)s.") % {"summary": preview_summary(rows)})
