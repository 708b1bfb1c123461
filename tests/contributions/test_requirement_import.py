"""Technical requirements staff can bulk-manage (issue 11, finding 9, second half)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contributions import services
from contributions.models import RequirementStatus
from tests.factories import TechnicalRequirementFactory
from tests.helpers import with_mfa

pytestmark = pytest.mark.django_db

IMPORT = "/admin/contributions/requirementstatus/import/"
PROCESS = "/admin/contributions/requirementstatus/process_import/"
CHANGELIST = "/admin/contributions/requirementstatus/"
TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def architect(year_2026):
    return TechnicalRequirementFactory(
        program_year=year_2026, code="csa", name="Certified Solution Architect", due_on=date(2026, 9, 30)
    )


@pytest.fixture
def anaplan_way(year_2026):
    return TechnicalRequirementFactory(
        program_year=year_2026, code="anaplan-way", name="The Anaplan Way", kind="training", due_on=date(2026, 12, 31)
    )


def _upload(client, text: str):
    return client.post(
        IMPORT,
        {"format": "0", "resource": "0", "import_file": SimpleUploadedFile("s.csv", text.encode(), "text/csv")},
    )


# --- The rule ------------------------------------------------------------------------------------


def test_a_completion_in_the_future_is_refused(ma, architect, program_admin):
    with pytest.raises(services.ContributionError, match="in the future"):
        services.requirement_status_set(
            requirement=architect, member=ma, met_on=TODAY + timedelta(days=1), by=program_admin, override_reason="x"
        )
    assert not RequirementStatus.objects.exists()


def test_a_completion_after_the_due_date_needs_a_program_admins_override(ma, architect, verifier, program_admin):
    late = date(2026, 10, 15)
    with pytest.raises(services.ContributionError, match="after the due date"):
        services.requirement_status_set(requirement=architect, member=ma, met_on=late, by=program_admin)
    with pytest.raises(services.ContributionError, match="Only a program admin"):
        services.requirement_status_set(
            requirement=architect, member=ma, met_on=late, by=verifier, override_reason="Exam centre closed"
        )
    status = services.requirement_status_set(
        requirement=architect, member=ma, met_on=late, by=program_admin, override_reason="Exam centre closed"
    )
    record = status.history.latest()
    assert record.history_user == program_admin and "Exam centre closed" in record.history_change_reason


def test_setting_a_status_locks_its_row(ma, architect, program_admin):
    services.requirement_status_set(requirement=architect, member=ma, met_on=date(2026, 5, 1), by=program_admin)
    with CaptureQueriesContext(connection) as queries:
        services.requirement_status_set(requirement=architect, member=ma, met_on=date(2026, 5, 2), by=program_admin)
    assert any("FOR NO KEY UPDATE" in q["sql"] for q in queries.captured_queries)


# --- The import ----------------------------------------------------------------------------------


def test_the_import_takes_email_and_requirement_code_or_name_and_keeps_the_good_rows(
    client, program_admin, ma, other_member, architect, anaplan_way
):
    services.requirement_status_set(requirement=anaplan_way, member=other_member, met_on=date(2026, 3, 1))
    client.force_login(with_mfa(program_admin))
    text = (
        "year,requirement,member_email,met_on,note\n"
        f"2026,csa,{ma.email},2026-05-04,badge seen\n"  # line 2: by code, new
        f"2026,The Anaplan Way,{ma.email.upper()},2026-06-01,\n"  # line 3: by name, email in capitals, new
        "2026,csa,nobody@example.com,2026-05-04,\n"  # line 4: unknown member
        f"2026,Level 9 Wizardry,{ma.email},2026-05-04,\n"  # line 5: unknown requirement
        f"2026,csa,{other_member.email},2026-12-25,\n"  # line 6: in the future
        f"2026,csa,{other_member.email},2026-10-15,\n"  # line 7: after the due date, no override
        f"2026,anaplan-way,{other_member.email},2026-03-01,\n"  # line 8: unchanged
        f"2026,anaplan-way,{other_member.email},not a date,\n"  # line 9: bad date
    )
    response = _upload(client, text)
    html = response.content.decode()
    assert "matching query does not exist" not in html
    rows = response.context["preview_rows"]
    assert [(r["line"], r["action"]) for r in rows] == [
        (2, "New"),
        (3, "New"),
        (4, "Error"),
        (5, "Error"),
        (6, "Error"),
        (7, "Error"),
        (8, "Unchanged"),
        (9, "Error"),
    ]
    errors = {r["line"]: " ".join(r["errors"]) for r in rows}
    assert "No member has the email nobody@example.com" in errors[4]
    assert "No requirement “Level 9 Wizardry” in 2026" in errors[5]
    assert "in the future" in errors[6]
    assert "after the due date" in errors[7]
    assert "not a date" in errors[9]
    assert "Line 4" in html and "Line 9" in html
    confirm = response.context["confirm_form"]
    client.post(PROCESS, confirm.initial)
    statuses = set(RequirementStatus.objects.values_list("member__email", "requirement__code", "met_on"))
    assert statuses == {
        (ma.email, "csa", date(2026, 5, 4)),
        (ma.email, "anaplan-way", date(2026, 6, 1)),
        (other_member.email, "anaplan-way", date(2026, 3, 1)),
    }
    assert RequirementStatus.objects.get(member=ma, requirement=architect).history.latest().history_user == (
        program_admin
    )


def test_the_import_accepts_a_late_date_with_a_program_admins_override_reason(client, program_admin, ma, architect):
    client.force_login(with_mfa(program_admin))
    text = (
        "year,requirement,member_email,met_on,note,override_reason\n"
        f"2026,csa,{ma.email},2026-10-15,,Exam centre closed\n"
    )
    response = _upload(client, text)
    assert [(r["line"], r["action"]) for r in response.context["preview_rows"]] == [(2, "New")]
    client.post(PROCESS, response.context["confirm_form"].initial)
    assert RequirementStatus.objects.get().met_on == date(2026, 10, 15)


def test_the_export_carries_the_import_columns(client, program_admin, ma, architect):
    services.requirement_status_set(requirement=architect, member=ma, met_on=date(2026, 5, 4), note="seen")
    client.force_login(with_mfa(program_admin))
    response = client.post(
        "/admin/contributions/requirementstatus/export/",
        {
            "format": "0",
            "resource": "0",
            "requirementstatusresource_year": True,
            "requirementstatusresource_requirement": True,
            "requirementstatusresource_member_email": True,
            "requirementstatusresource_met_on": True,
            "requirementstatusresource_note": True,
        },
    )
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0] == "year,requirement,member_email,met_on,note"
    assert lines[1] == f"2026,csa,{ma.email},2026-05-04,seen"


# --- The admin form and the bulk action ---------------------------------------------------------------


def test_the_change_form_refuses_a_future_date_with_a_message(client, program_admin, ma, architect):
    status = services.requirement_status_set(requirement=architect, member=ma, met_on=None)
    client.force_login(with_mfa(program_admin))
    response = client.post(
        f"{CHANGELIST}{status.pk}/change/",
        {"requirement": architect.pk, "member": ma.pk, "met_on": "2027-01-05", "note": ""},
    )
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    status.refresh_from_db()
    assert status.met_on is None


def test_mark_met_marks_the_selected_members_and_names_those_it_skips(
    client, program_admin, ma, other_member, architect, anaplan_way
):
    first = services.requirement_status_set(requirement=anaplan_way, member=ma, met_on=None)
    second = services.requirement_status_set(requirement=architect, member=other_member, met_on=None)
    client.force_login(with_mfa(program_admin))
    data = {"action": "mark_met", "_selected_action": [first.pk, second.pk]}
    page = client.post(CHANGELIST, data)
    assert "Met on" in page.content.decode()
    response = client.post(
        CHANGELIST, {**data, "apply": "1", "met_on": "2026-11-01", "note": "Seen in LMS"}, follow=True
    )
    html = response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.met_on == date(2026, 11, 1) and first.note == "Seen in LMS"
    assert second.met_on is None  # 1 Nov is after its due date (30 Sep) and no override was given
    assert "1 member marked as having met" in html
    assert "Skipped" in html and other_member.email in html and "after the due date" in html


def test_an_xlsx_with_blank_rows_keeps_its_line_numbers_and_refuses_ambiguous_dates(
    client, program_admin, ma, other_member, architect
):
    """Issue 17: blank rows are ignored as in a CSV, the lines after them keep their numbers in the sheet,
    a date cell is a date, 04/05/2026 is refused as ambiguous; the format comes from the name."""
    import io
    from datetime import datetime

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["year", "requirement", "member_email", "met_on", "note"])
    sheet.append([2026, "csa", ma.email, datetime(2026, 5, 4), None])  # line 2
    sheet.append([None, None, None, None, None])  # line 3: blank
    sheet.append([None])  # line 4: blank
    sheet.append([2026, "csa", other_member.email, "04/05/2026", "seen"])  # line 5
    buffer = io.BytesIO()
    workbook.save(buffer)
    client.force_login(with_mfa(program_admin))
    response = client.post(
        "/admin/contributions/requirementstatus/import/",
        {"resource": "0", "import_file": SimpleUploadedFile("statuses.xlsx", buffer.getvalue())},
    )
    rows = response.context["preview_rows"]
    assert [(r["line"], r["action"]) for r in rows] == [(2, "New"), (5, "Error")]
    assert rows[0]["values"]["met_on"] == "2026-05-04" and rows[0]["values"]["note"] == ""
    assert "“04/05/2026” is ambiguous" in rows[1]["errors"][0]
    assert "1 new, 0 to update, 0 unchanged, 1 with an error" in response.content.decode()


def test_the_import_reads_an_xlsx_with_real_date_cells(client, program_admin, ma, architect):
    from io import BytesIO

    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["year", "requirement", "member_email", "met_on", "note"])
    sheet.append([2026, "Certified Solution Architect", ma.email, date(2026, 5, 4), "from the LMS"])
    sheet.append([2026, "csa", "nobody@example.com", date(2026, 5, 4), ""])
    buffer = BytesIO()
    workbook.save(buffer)
    client.force_login(with_mfa(program_admin))
    form = client.get(IMPORT).context["form"]
    xlsx = next(value for value, label in form.fields["format"].choices if "xlsx" in str(label).lower())
    response = client.post(
        IMPORT,
        {
            "format": xlsx,
            "resource": "0",
            "import_file": SimpleUploadedFile(
                "s.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
        },
    )
    assert [(r["line"], r["action"]) for r in response.context["preview_rows"]] == [(2, "New"), (3, "Error")]
    client.post(PROCESS, response.context["confirm_form"].initial)
    status = RequirementStatus.objects.get()
    assert (status.member, status.met_on, status.note) == (ma, date(2026, 5, 4), "from the LMS")


def test_a_nul_character_in_a_cell_is_reported_on_its_line_and_the_good_rows_stay(
    client, program_admin, ma, other_member, architect
):
    """PostgreSQL text cannot hold NUL (0x00): the row is refused with its line, not a crash."""
    client.force_login(with_mfa(program_admin))
    text = (
        "year,requirement,member_email,met_on,note\n"
        f"2026,csa,{ma.email},2026-05-04,badge seen\n"  # line 2: good
        f"2026,csa,{other_member.email},2026-05-04,seen\x00\n"  # line 3: NUL in the note
    )
    response = _upload(client, text)
    rows = response.context["preview_rows"]
    assert [(r["line"], r["action"]) for r in rows] == [(2, "New"), (3, "Error")]
    assert "invisible NUL character" in " ".join(rows[1]["errors"])
    client.post(PROCESS, response.context["confirm_form"].initial)
    assert set(RequirementStatus.objects.values_list("member__email", flat=True)) == {ma.email}
