"""The MA import shows what it will do (issue 17, item 2): every row with its line in the file, its
action and the reason in words; an error report as CSV; ISO or date-cell dates only (11/03/2026 is
ambiguous and says so); blank lines ignored the same way in CSV and XLSX with the right line numbers
after them; the format taken from the file name; a re-import says "0 new, 3 unchanged"; no "None"."""

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.imports import parse_file_date
from accounts.models import User
from tests.factories import OrganizationFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

IMPORT = "/admin/accounts/macertification/import/"
HEADER = ["email", "first_name", "last_name", "certificate_number", "qualified_on", "organization"]
ROWS = [
    # line 2: good
    ["nora@northwind.example", "Nora", "Lind", "MA-1001", "2026-03-02", ""],
    None,  # line 3: blank
    # line 4: the US admin's 3 November, read as 11 March before
    ["omar@example.com", "Omar", "Haddad", "MA-1003", "11/03/2026", ""],
    # line 5: good, no first name and no organization
    ["kenji@contoso.example", "", "Sato", "MA-1005", "2026-01-15", "Contoso"],
    # line 6: not an email
    ["not-an-email", "Lee", "Chen", "MA-1006", "2026-02-01", ""],
]


def _csv_file(name: str = "new-mas.csv") -> SimpleUploadedFile:
    lines = [",".join(HEADER)] + ["" if row is None else ",".join(row) for row in ROWS]
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def _xlsx_file(name: str = "new-mas.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in ROWS:
        if row is None:
            sheet.append([None] * len(HEADER))
            continue
        values = [value or None for value in row]
        if values[4] == "2026-01-15":
            values[4] = datetime(2026, 1, 15)  # a real date cell
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def admin_client(client, program_admin):
    OrganizationFactory(name="Contoso", domains=["contoso.example"])
    client.force_login(with_mfa(program_admin))
    return client


def _preview(client, upload):
    # No format field: the format comes from the file name.
    response = client.post(IMPORT, {"resource": "0", "import_file": upload})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("upload", [_csv_file, _xlsx_file], ids=["csv", "xlsx"])
def test_preview_lists_every_row_with_its_line_action_and_reason(admin_client, upload):
    response = _preview(admin_client, upload())
    rows = response.context["preview_rows"]
    assert [(row["line"], row["action"]) for row in rows] == [
        (2, "New"),
        (4, "Error"),
        (5, "New"),
        (6, "Error"),
    ]
    assert rows[0]["values"]["email"] == "nora@northwind.example"
    assert rows[2]["values"]["qualified_on"] == "2026-01-15"
    assert rows[2]["values"]["first_name"] == ""  # never "None"
    (ambiguous,) = rows[1]["errors"]
    assert "11/03/2026" in ambiguous and "ambiguous" in ambiguous and "YYYY-MM-DD" in ambiguous
    assert "not-an-email" in " ".join(rows[3]["errors"])
    html = response.content.decode()
    assert "None" not in html
    assert "form above" not in html
    assert "2 new, 0 to update, 0 unchanged, 2 with errors" in html
    # The reasons are on the page, in words, beside their line.
    table = html[html.index('id="import-rows"') :]
    assert "Line 4" in table and "is ambiguous" in table
    assert User.objects.filter(email="nora@northwind.example").count() == 0  # a preview saves nothing


def test_confirm_imports_the_good_rows_and_a_reimport_says_nothing_is_new(admin_client):
    confirm = _preview(admin_client, _csv_file()).context["confirm_form"]
    response = admin_client.post(
        "/admin/accounts/macertification/process_import/",
        {name: confirm.initial.get(name, "") for name in confirm.fields},
        follow=True,
    )
    assert "Import finished: 2 new, 0 to update, 0 unchanged, 2 with errors." in response.content.decode()
    assert User.objects.filter(email__in=["nora@northwind.example", "kenji@contoso.example"]).count() == 2
    again = _preview(admin_client, _xlsx_file())
    html = again.content.decode()
    assert "0 new, 0 to update, 2 unchanged, 2 with errors" in html
    unchanged = [row for row in again.context["preview_rows"] if row["action"] == "Unchanged"]
    assert [row["line"] for row in unchanged] == [2, 5]
    assert "already has this certificate" in unchanged[0]["reason"]
    assert "will be imported" not in html
    assert "confirm_form" not in again.context  # nothing to import: no button that does nothing


def test_error_report_downloads_the_bad_rows_as_csv(admin_client):
    response = _preview(admin_client, _csv_file())
    report_form = response.context["error_report_form"]
    report = admin_client.post(
        "/admin/accounts/macertification/import/error-report/",
        {name: report_form.initial.get(name, "") for name in report_form.fields},
    )
    assert report.status_code == 200
    assert report["Content-Disposition"] == 'attachment; filename="new-mas-errors.csv"'
    assert report.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", *HEADER, "reasons"]
    assert [row[0] for row in rows[1:]] == ["4", "6"]
    assert "ambiguous" in rows[1][-1]
    assert "/admin/accounts/macertification/import/error-report/" in response.content.decode()


def test_a_file_neither_csv_nor_xlsx_is_refused_by_its_name(admin_client):
    upload = SimpleUploadedFile("new-mas.txt", b"email\n")
    response = admin_client.post(IMPORT, {"resource": "0", "import_file": upload})
    assert "neither a .csv nor a .xlsx file" in response.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("11/03/2026", "ambiguous"),
        ("03-11-2026", "ambiguous"),
        ("11.03.2026", "ambiguous"),
        ("31/02/2026", "YYYY-MM-DD"),
        ("2026-02-30", "not a date of the calendar"),
        ("March 3", "YYYY-MM-DD"),
    ],
)
def test_only_iso_dates_or_date_cells_are_accepted(value, message):
    with pytest.raises(ValueError, match=message):
        parse_file_date(value, required=True)


def test_iso_dates_and_date_cells_are_read():
    assert parse_file_date("2026-03-11", required=True).isoformat() == "2026-03-11"
    assert parse_file_date(datetime(2026, 11, 3), required=True).isoformat() == "2026-11-03"
    assert parse_file_date("", required=False) is None


def test_the_error_report_is_for_those_who_may_import(client, verifier):
    client.force_login(with_mfa(verifier))
    response = client.post("/admin/accounts/macertification/import/error-report/", {})
    assert response.status_code == 403
