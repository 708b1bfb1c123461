"""A program admin imports members' technical requirements: every row previewed with its line,
the bad rows named, the good rows saved (issue 11, finding 9), in Debian's Chromium with MFA."""

from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.roles import PROGRAM_ADMIN
from contributions.models import RequirementStatus
from tests.factories import (
    MACertificationFactory,
    ProgramYearFactory,
    StaffFactory,
    TechnicalRequirementFactory,
    UserFactory,
)
from tests.helpers import screenshot, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_the_import_previews_every_row_and_saves_the_good_ones(page, tmp_path):
    year = ProgramYearFactory(year=2026)
    TechnicalRequirementFactory(
        program_year=year, code="csa", name="Certified Solution Architect", due_on=date(2026, 9, 30)
    )
    ava = UserFactory(email="ava@example.com", first_name="Ava", last_name="Patel")
    MACertificationFactory(user=ava)
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    upload = tmp_path / "requirements.csv"
    upload.write_text(
        "year,requirement,member_email,met_on,note\n"
        "2026,csa,ava@example.com,2026-05-04,badge seen\n"
        "2026,csa,nobody@example.com,2026-05-04,\n"
        "2026,Level 9 Wizardry,ava@example.com,2026-05-04,\n"
    )

    sign_in_staff(page, paul)
    page.goto("/admin/contributions/requirementstatus/import/")
    page.locator("input[type=file]").set_input_files(str(upload))
    if page.locator("select[name=format]").count():
        page.locator("select[name=format]").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    rows = page.locator("#import-rows tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Line 2")
    expect(rows.nth(0)).to_contain_text("New")
    expect(rows.nth(1)).to_contain_text("No member has the email nobody@example.com")
    expect(rows.nth(2)).to_contain_text("No requirement “Level 9 Wizardry” in 2026")
    assert page.get_by_text("1 row will be saved.").is_visible()
    assert page.get_by_text("matching query does not exist").count() == 0
    screenshot(page, "admin-requirement-import-preview")
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_load_state()
    screenshot(page, "admin-requirement-import-done")
    status = RequirementStatus.objects.get()
    assert (status.member, status.met_on) == (ava, date(2026, 5, 4))
    assert status.history.latest().history_user == paul
