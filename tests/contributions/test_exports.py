"""Exports that open right in Excel (issue 17, item 4): a CSV starts with the byte-order mark, an XLSX
has typed cells (numbers are numbers, dates are dates), a named sheet, statuses in words, and the
program year and certificate number of each member; the report, the contributions (with the
changelist's filters) and the sign-ups can all be exported."""

import csv
import io
from datetime import date, datetime, timedelta
from io import BytesIO

import openpyxl
import pytest
from django.contrib import admin
from django.utils import timezone

from contributions import selectors, services
from contributions.models import Contribution
from engagements.models import SignUp
from tests.factories import (
    ActivityTypeFactory,
    ContributionFactory,
    MACertificationFactory,
    OpportunityFactory,
    ProgramYearFactory,
    SignUpFactory,
    UserFactory,
)
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

BOM = "\ufeff"


@pytest.fixture
def amelie(year_2026):
    user = UserFactory(email="amelie@example.com", first_name="Amélie", last_name="Lefèvre")
    MACertificationFactory(user=user, certificate_number="MA-2024-0042", qualified_on=date(2024, 3, 10))
    services.certificates_issue_missing(member=user)
    return user


def _number(member) -> str:
    """The member's current certificate's number: the one every export shows (MA-YYYY-NNNNNN)."""
    number = selectors.certificate_current(member=member).number
    assert number.startswith("MA-") and number.endswith(f"-{member.pk:06d}")
    return number


def _report_url(program_year) -> str:
    return f"/admin/contributions/programyear/{program_year.pk}/report/"


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def _sheet(response):
    return openpyxl.load_workbook(BytesIO(response.content)).active


def _by_header(sheet) -> list[dict]:
    headers = [cell.value for cell in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2)]


def test_report_csv_starts_with_the_bom_and_reads_accents(client, program_admin, amelie, speaking):
    client.force_login(with_mfa(program_admin))
    response = client.get(_report_url(speaking.program_year) + "?export=csv")
    assert response.content.startswith(BOM.encode("utf-8"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = _csv_rows(response)
    assert rows[0][0] == BOM + "program_year"
    header = [rows[0][0].removeprefix(BOM), *rows[0][1:]]
    row = dict(zip(header, rows[1], strict=True))
    assert row["program_year"] == "2026"
    assert row["certificate_number"] == _number(amelie)
    assert row["legacy_number"] == "MA-2024-0042"
    assert row["name"] == "Amélie Lefèvre"
    assert row["qualified_on"] == "2024-03-10"
    assert row["status"] == "At risk"  # in words, not `at_risk`


def test_report_xlsx_has_typed_cells_a_named_sheet_and_statuses_in_words(client, program_admin, amelie, speaking):
    ContributionFactory(member=amelie, activity_type=speaking, state="verified", awarded_points=100)
    ContributionFactory(member=amelie, activity_type=speaking, submitted_at=timezone.now())
    client.force_login(with_mfa(program_admin))
    sheet = _sheet(client.get(_report_url(speaking.program_year) + "?export=xlsx"))
    assert sheet.title == "Report 2026"
    (row,) = _by_header(sheet)
    assert row["program_year"].value == 2026 and row["program_year"].data_type == "n"
    assert row["certificate_number"].value == _number(amelie)
    assert row["legacy_number"].value == "MA-2024-0042"
    assert row["target"].value == 400 and row["target"].data_type == "n"
    assert row["verified"].value == 100 and row["verified"].data_type == "n"
    assert row["pending"].value == 100 and row["pending"].data_type == "n"
    assert row["qualified_on"].is_date and row["qualified_on"].value.date() == date(2024, 3, 10)
    assert row["qualified_on"].number_format == "yyyy-mm-dd"
    assert row["status"].value == "At risk"
    assert row["opted_out"].value == "no"
    assert row["name"].value == "Amélie Lefèvre"


def test_report_xlsx_leaves_empty_values_empty_and_neutralises_formulas(client, program_admin, year_2026):
    user = UserFactory(email="formula@example.com", first_name="=HYPERLINK(1)", last_name="")
    MACertificationFactory(user=user, qualified_on=date(2024, 3, 10))
    client.force_login(with_mfa(program_admin))
    (row,) = _by_header(_sheet(client.get(_report_url(year_2026) + "?export=xlsx")))
    assert row["name"].value == "'=HYPERLINK(1)" and row["name"].data_type == "s"
    assert row["technical_requirements"].value is None  # not "None", not ""


def _export(client, model, params: str = "", export_format: str = "csv"):
    model_admin = admin.site._registry[model]
    index = next(i for i, f in enumerate(model_admin.get_export_formats()) if f().get_title() == export_format)
    resource = model_admin.get_export_resource_classes(None)[0]
    prefix = resource.__name__.lower()
    fields = [f"{prefix}_{name}" for name in resource().fields]
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/export/{params}"
    response = client.post(url, {"format": index, "resource": 0, **dict.fromkeys(fields, "on")})
    assert response.status_code == 200, response.content.decode()[:800]
    return response


def test_contributions_export_follows_the_changelist_filters_with_typed_cells(client, program_admin, amelie, speaking):
    older = ProgramYearFactory(year=2025)
    ContributionFactory(member=amelie, activity_type=ActivityTypeFactory(program_year=older), state="verified")
    claim = ContributionFactory(
        member=amelie,
        activity_type=speaking,
        title="Talk at Anaplan Connect",
        occurred_on=date(2026, 5, 4),
        claimed_points=100,
        submitted_at=timezone.make_aware(datetime(2026, 5, 6, 9, 30)),
    )
    client.force_login(with_mfa(program_admin))
    params = f"?state=all&program_year__id__exact={speaking.program_year.pk}"
    response = _export(client, Contribution, params, "xlsx")
    sheet = _sheet(response)
    assert sheet.title == "Contributions"
    (row,) = _by_header(sheet)
    assert row["program_year"].value == 2026 and row["program_year"].data_type == "n"
    assert row["certificate_number"].value == _number(amelie)
    assert row["member"].value == "Amélie Lefèvre"
    assert row["title"].value == claim.title
    assert row["activity_type"].value == speaking.name
    assert row["occurred_on"].is_date and row["occurred_on"].value.date() == date(2026, 5, 4)
    assert row["quantity"].data_type == "n" and row["quantity"].value == 1
    assert row["claimed_points"].value == 100 and row["claimed_points"].data_type == "n"
    assert row["awarded_points"].value is None
    assert row["state"].value == "Submitted"
    assert row["submitted_at"].is_date and row["submitted_at"].value == datetime(2026, 5, 6, 9, 30)

    csv_response = _export(client, Contribution, params, "csv")
    assert csv_response.content.startswith(BOM.encode("utf-8"))
    rows = _csv_rows(csv_response)
    assert len(rows) == 2 and "Amélie Lefèvre" in rows[1] and "2026-05-04" in rows[1]


def test_contributions_export_without_filters_is_the_queue(client, program_admin, amelie, speaking):
    ContributionFactory(member=amelie, activity_type=speaking, state="verified", awarded_points=100)
    waiting = ContributionFactory(member=amelie, activity_type=speaking, submitted_at=timezone.now())
    client.force_login(with_mfa(program_admin))
    rows = _csv_rows(_export(client, Contribution))
    assert len(rows) == 2 and waiting.title in rows[1]


def test_signups_export_has_member_certificate_year_and_state_in_words(client, program_admin, amelie):
    opportunity = OpportunityFactory(title="Write for the blog", starts_at=timezone.now() + timedelta(days=3))
    SignUpFactory(opportunity=opportunity, member=amelie, state=SignUp.State.CONFIRMED)
    client.force_login(with_mfa(program_admin))
    sheet = _sheet(_export(client, SignUp, "", "xlsx"))
    assert sheet.title == "Sign-ups"
    (row,) = _by_header(sheet)
    assert row["opportunity"].value == "Write for the blog"
    assert row["member"].value == "Amélie Lefèvre" and row["email"].value == amelie.email
    assert row["certificate_number"].value == _number(amelie)
    assert row["program_year"].value == opportunity.activity_type.program_year.year
    assert row["state"].value == str(SignUp.State.CONFIRMED.label)
    assert row["signed_up_at"].is_date
    assert row["engagement_on"].is_date
    csv_response = _export(client, SignUp)
    assert csv_response.content.startswith(BOM.encode("utf-8"))


def test_certificates_xlsx_has_real_dates_and_numbers(client, program_admin, amelie):
    """Found by the second walk: the certificates' XLSX held its dates and year as text, where the other
    exports hold real dates and numbers."""
    from contributions.models import Certificate

    certificate = selectors.certificate_current(member=amelie)
    client.force_login(with_mfa(program_admin))

    rows = _by_header(_sheet(_export(client, Certificate, "", "xlsx")))
    (row,) = [row for row in rows if row["number"].value == certificate.number]

    assert row["number"].value == certificate.number
    assert row["year"].data_type == "n" and row["year"].value == certificate.year
    assert row["valid_from"].is_date and row["valid_from"].value.date() == certificate.valid_from
    assert row["valid_until"].is_date and row["valid_until"].value.date() == certificate.last_valid_day
    assert row["issued_at"].is_date
    assert row["revoked_at"].value is None


def test_signups_export_leaves_the_end_reason_of_a_live_sign_up_empty(client, program_admin, amelie):
    """A sign-up that has not ended has no reason: an empty cell, not the admin's "—" placeholder."""
    opportunity = OpportunityFactory(title="Write for the blog", starts_at=timezone.now() + timedelta(days=3))
    SignUpFactory(opportunity=opportunity, member=amelie, state=SignUp.State.CONFIRMED)
    client.force_login(with_mfa(program_admin))
    (row,) = _by_header(_sheet(_export(client, SignUp, "", "xlsx")))
    assert row["end_reason"].value is None
    header, values = _csv_rows(_export(client, SignUp))
    assert values[header.index("end_reason")] == ""
