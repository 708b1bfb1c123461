"""The community activity import in Debian's Chromium, as the program admin meets it: a file with no
good line offers nothing to import, a binary file is refused before any preview, and the import
button is the admin's own."""

import pytest
from playwright.sync_api import expect

from accounts.roles import PROGRAM_ADMIN
from community_levels.models import ActivityEvent
from tests.factories import StaffFactory
from tests.helpers import screenshot, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

IMPORT = "/admin/community_levels/activityevent/import/"


@pytest.fixture
def paul_on_import(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    sign_in_staff(page, with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN])))
    page.goto(IMPORT)
    return page


def preview(page, path) -> None:
    page.get_by_label("Activity file").set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()


def test_a_file_with_no_good_line_says_nothing_can_be_imported(paul_on_import, tmp_path):
    page = paul_on_import
    bad = tmp_path / "wrong-columns.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    preview(page, bad)
    expect(page.locator("#content")).to_contain_text("1 line read: 0 good, 1 bad.")
    expect(page.locator("#content")).to_contain_text("Nothing can be imported: every line read is bad")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    screenshot(page, "admin-activity-import-nothing-to-import")


def test_a_binary_file_named_csv_is_refused_and_a_good_file_gets_the_admins_button(paul_on_import, tmp_path):
    page = paul_on_import
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 4)
    preview(page, garbage)
    expect(page.locator("#content")).to_contain_text("This file is not a text CSV or JSON Lines file")
    expect(page.locator("#content")).not_to_contain_text(" read:")  # no preview
    screenshot(page, "admin-activity-import-not-text")
    good = tmp_path / "one.csv"
    good.write_text("event_id,member_id,kind,occurred_at\ne1,m1,reply,2026-03-02T09:00:00+00:00\n")
    preview(page, good)
    button = page.get_by_role("button", name="Import the 1 good line")
    preview_button_colour = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert preview_button_colour not in ("rgb(239, 239, 239)", "rgba(0, 0, 0, 0)")  # not the browser's grey
    screenshot(page, "admin-activity-import-preview")
    button.click()
    expect(page.locator("#content")).to_contain_text("1 line read: 1 new event, 0 already known, 0 bad lines skipped.")
    assert ActivityEvent.objects.count() == 1
