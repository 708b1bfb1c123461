"""Issue 17 items 1 and 7 in Debian's Chromium: a program admin filters the MA roster to expired
invitations, resends them (confirmation page, then fresh links), and messages a segment of the roster;
the message is then read back in the admin with its recipients."""

from datetime import date, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Invitation, SegmentMessage
from accounts.roles import PROGRAM_ADMIN
from accounts.services import member_provision
from tests.factories import StaffFactory
from tests.helpers import screenshot, sign_in_staff, with_mfa

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _members():
    with time_machine.travel(timezone.now() - timedelta(days=20)):
        for email, first in (("ines@example.com", "Inês"), ("omar@example.com", "Omar")):
            member_provision(
                email=email,
                first_name=first,
                last_name="Expired",
                certificate_number=email,
                qualified_on=date(2026, 1, 5),
            )
    fresh = member_provision(
        email="kai@example.com",
        first_name="Kai",
        last_name="Fresh",
        certificate_number="kai",
        qualified_on=date(2026, 2, 1),
    )
    return fresh


def test_a_program_admin_resends_expired_invitations_and_messages_a_segment(page):
    _members()
    paul = with_mfa(StaffFactory(email="paul@example.com", first_name="Paul", groups=[PROGRAM_ADMIN]))
    sign_in_staff(page, paul)

    page.goto("/admin/accounts/macertification/?invitation=expired")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Invitation expired on")
    page.locator("#action-toggle").check()
    page.locator("select[name=action]").select_option("resend_invitations")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="2 members will get a new invitation")).to_be_visible()
    screenshot(page, "admin-roster-resend-confirmation")
    page.get_by_role("button", name="Yes, send the invitations").click()
    expect(page.get_by_text("2 members were sent a new invitation.")).to_be_visible()
    assert Invitation.objects.filter(sent_by=paul).count() == 2

    page.goto("/admin/accounts/macertification/")
    expect(page.locator("#result_list")).not_to_contain_text("Invitation expired on")
    expect(page.locator("#result_list")).to_contain_text("link valid until")
    page.get_by_role("button", name="Toggle navigation").click()  # staff fold the sidebar away on a list
    screenshot(page, "admin-roster-after-resend")
    page.locator("#result_list tbody tr", has_text="Inês").locator("input.action-select").check()
    page.locator("#result_list tbody tr", has_text="Kai").locator("input.action-select").check()
    page.locator("select[name=action]").select_option("message_members")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", name="2 members will get this message")).to_be_visible()
    page.get_by_label("Title").fill("Office hours on Thursday")
    page.get_by_label("Message").fill("Bring your questions about evidence; we will look at them together.")
    screenshot(page, "admin-segment-message-compose")
    page.get_by_role("button", name="Send to 2 members").click()
    expect(page.get_by_text("Your message was sent to 2 members.")).to_be_visible()

    message = SegmentMessage.objects.get()
    assert {r.user.email for r in message.recipients.select_related("user")} == {"ines@example.com", "kai@example.com"}
    page.goto(f"/admin/accounts/segmentmessage/{message.pk}/change/")
    expect(page.locator("body")).to_contain_text("kai@example.com")
    expect(page.locator("body")).to_contain_text("Office hours on Thursday")
    screenshot(page, "admin-segment-message-record")
