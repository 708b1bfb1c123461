"""The level rules editor in Debian's Chromium, as the program admin meets it: its two buttons are the
admin's own (the walk of the demo found "Save and recompute" in the browser's grey default)."""

import pytest
from playwright.sync_api import expect

from accounts.roles import PROGRAM_ADMIN
from tests.factories import StaffFactory
from tests.helpers import screenshot, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

BROWSER_GREY = ("rgb(239, 239, 239)", "rgba(0, 0, 0, 0)")


def test_the_rules_editor_buttons_are_the_admins_own(page):
    sign_in_staff(page, with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN])))
    page.goto("/admin/community_levels/level/preview/")
    for name in ("Preview", "Save and recompute"):
        button = page.get_by_role("button", name=name)
        expect(button).to_be_visible()
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") not in BROWSER_GREY, name
    screenshot(page, "admin-level-rules-editor")
